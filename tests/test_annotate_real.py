"""scripts/sh_annotate on reports written by the tool itself (test_annotate.py
covers hand-written reports).

The acceptance test of the issue: `sh_annotate --diff before.json after.json`
of a fixture before and after applying its suggestion.  sug_stack_before.c
mallocs a point in make_point(); sug_stack_after.c (line for line the same)
uses a local.  Sites are matched by (fn, file, line), so both versions are
compiled from the same path (src/app.c in a temporary directory).
"""
import json
import re
import shutil
import subprocess

import pytest

from conftest import PROGS, ROOT, compile_prog, run_tool

SCRIPT = ROOT / "scripts" / "sh_annotate"
N = 400  # make_point() calls


def annotate(*args, cwd=None):
    return subprocess.run(["/usr/bin/python3", str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=60)


def mark_line(prog, tag):
    for i, line in enumerate((PROGS / prog).read_text().splitlines(), 1):
        if f"MARK:{tag}" in line:
            return i
    raise AssertionError(tag)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Build and run both versions once; the source left in place is 'before'."""
    d = tmp_path_factory.mktemp("pair")
    src = d / "src" / "app.c"
    src.parent.mkdir()
    out = {"dir": d, "src": src}
    for which in ("after", "before"):            # 'before' last: its source stays
        shutil.copy(PROGS / f"sug_stack_{which}.c", src)
        exe = d / which
        subprocess.run(["gcc", "-g", "-O0", "-fno-omit-frame-pointer", "-o", str(exe),
                        str(src)], check=True)
        r = run_tool([exe, str(N)], tmp_path=d, json_name=f"{which}.json")
        assert r.returncode == 0, r.stderr
        out[which] = r
    return out


def site_at(report, fn):
    [s] = [s for s in report["sites"] if s["stack"][0]["fn"] == fn]
    return s


# ------------------------------------------------------------------ render ----

def test_render_real_report(pair):
    before = pair["before"]
    p = annotate(before.json_path)
    assert p.returncode == 0, p.stderr
    head = p.stdout.split("\n\n", 1)[0]
    fields = dict(re.findall(r"^([A-Z][\w -]+):\s+(.*)$", head, re.M))
    t = before.totals
    assert fields["Blocks"] == f"{t['blocks']:,}" == f"{N + 5:,}"
    assert fields["Bytes"] == f"{t['bytes']:,}" == f"{32 * N + 80:,}"
    assert fields["Sites"] == "2"
    assert fields["Stack-eligible"] == f"{N:,} blocks, {32 * N:,} bytes"
    assert fields["Classes"] == f"frame {N:,}, global 5"
    assert fields["Instructions"] == f"{t['instructions']:,}"
    # Every suggestion of the report is rendered with its numbers.
    g = [x for x in before.json["suggestions"] if x["kind"] == "use_stack_allocation"][0]
    assert f"saves {g['saved_calls']:,} calls, {g['saved_bytes']:,} bytes; " \
           f"stack cost {g['stack_cost']} bytes" in p.stdout


@pytest.mark.parametrize("sort_by,first_fn", [("bytes", "make_point"),
                                              ("blocks", "make_point"),
                                              ("eligible-blocks", "make_point"),
                                              ("calls-saved", "make_point")])
def test_render_sort_and_top(pair, sort_by, first_fn):
    p = annotate(pair["before"].json_path, f"--sort-by={sort_by}", "--top=1")
    assert p.returncode == 0, p.stderr
    hot = re.findall(r"^#(\d+)\s+site (\d+)\s", p.stdout, re.M)
    assert len(hot) == 1
    sid = int(hot[0][1])
    site = [s for s in pair["before"].sites if s["id"] == sid][0]
    assert site["stack"][0]["fn"] == first_fn
    assert f"(1 of 2 sites, by {sort_by})" in p.stdout


def test_render_top_zero_shows_every_site(pair):
    p = annotate(pair["before"].json_path, "--top=0")
    hot = re.findall(r"^#\d+\s+site (\d+)\s", p.stdout, re.M)
    assert len(hot) == 2
    assert "target: global variable 'g_names'" in p.stdout


# ---------------------------------------------------------------- annotate ----

def test_annotate_allocating_lines(pair):
    before = pair["before"]
    p = annotate("--annotate", "--context=0", before.json_path, cwd=pair["dir"])
    assert p.returncode == 0, p.stderr
    assert f"Source: {pair['src']}" in p.stdout
    rows = {}
    for m in re.finditer(r"^\s*([\d,]+)\s+([\d,]+)\s+(\d+)% \| (.*)$", p.stdout, re.M):
        rows[m.group(4).strip()] = (m.group(1), m.group(2), m.group(3))
    alloc_src = [l for l in pair["src"].read_text().splitlines() if "MARK:alloc" in l][0]
    name_src = [l for l in pair["src"].read_text().splitlines() if "MARK:name" in l][0]
    assert rows[alloc_src.strip()] == (f"{N}", f"{32 * N:,}", "100")
    assert rows[name_src.strip()] == ("5", "80", "0")
    ms = site_at(before.json, "make_point")
    assert ms["stack"][0]["line"] == mark_line("sug_stack_before.c", "alloc")


def test_annotate_source_dir(pair, tmp_path):
    # The source moved: --source-dir finds it by its base name.
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy(pair["src"], moved / "app.c")
    rep = json.loads(open(pair["before"].json_path).read())
    for s in rep["sites"]:
        for f in s["stack"]:
            f["file"] = "/nonexistent/build/app.c"
    path = tmp_path / "moved.json"
    path.write_text(json.dumps(rep))
    p = annotate("--source-dir", moved, path)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^\s*%d\s+[\d,]+\s+100%% \|.*MARK:alloc" % N, p.stdout, re.M), p.stdout


# -------------------------------------------------------- diff (acceptance) ----

DIFF_ROW = re.compile(r"^(changed|added|removed|unchanged)\s+([+-][\d,]+) blocks\s+"
                      r"([+-][\d,]+) bytes\s+([+-][\d,]+) eligible\s+\(site (\S+) -> (\S+)\)\n"
                      r"\s+(\w+) \(", re.M)


def num(s):
    return int(s.replace(",", ""))


def test_after_applying_suggestion_the_heap_blocks_are_gone(pair):
    before, after = pair["before"], pair["after"]
    # The tool itself: the suggestion was there before, the site is gone after.
    ms = site_at(before.json, "make_point")
    [g] = [x for x in before.json["suggestions"]
           if x["kind"] == "use_stack_allocation" and x["site"] == ms["id"]]
    assert g["saved_calls"] == 2 * N
    assert [s for s in after.sites if s["stack"][0]["fn"] == "make_point"] == []
    assert after.totals["blocks"] == before.totals["blocks"] - N
    assert after.totals["bytes"] == before.totals["bytes"] - g["saved_bytes"]

    p = annotate("--diff", before.json_path, after.json_path)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^blocks\s+%s\s+%s\s+-%s$" % (f"{N + 5:,}", "5", f"{N:,}"),
                     p.stdout, re.M), p.stdout
    assert re.search(r"^bytes\s+%s\s+80\s+-%s$" % (f"{32 * N + 80:,}", f"{32 * N:,}"),
                     p.stdout, re.M)
    assert re.search(r"^eligible blocks\s+%s\s+0\s+-%s$" % (f"{N:,}", f"{N:,}"),
                     p.stdout, re.M)
    assert "(0 changed, 0 added, 1 removed, 1 unchanged; 1 shown)" in p.stdout
    rows = DIFF_ROW.findall(p.stdout)
    assert len(rows) == 1
    status, blocks, nbytes, elig, old_id, new_id, fn = rows[0]
    assert (status, fn) == ("removed", "make_point")
    assert (num(blocks), num(nbytes), num(elig)) == (-N, -32 * N, -N)
    assert (int(old_id), new_id) == (ms["id"], "-")


def test_diff_improvement_passes_regression_gates(pair):
    p = annotate("--diff", "--max-blocks-increase=0", "--max-bytes-increase=0",
                 "--max-eligible-increase=0", pair["before"].json_path,
                 pair["after"].json_path)
    assert p.returncode == 0, p.stderr
    assert "regression" not in p.stderr


@pytest.mark.parametrize("args,code", [
    (["--max-blocks-increase=399"], 1),                       # default status 1
    (["--max-blocks-increase=400"], 0),                       # exactly the limit
    (["--max-bytes-increase=12799", "--error-exitcode=5"], 5),
    (["--max-eligible-increase=0", "--error-exitcode=0"], 0),  # 0: report only
    ([], 0),                                                   # no threshold given
])
def test_diff_reverse_is_a_regression(pair, args, code):
    # Undoing the change (after -> before) adds the site back: +400 blocks.
    p = annotate("--diff", *args, pair["after"].json_path, pair["before"].json_path)
    assert p.returncode == code, (p.stdout, p.stderr)
    rows = DIFF_ROW.findall(p.stdout)
    assert [(r[0], num(r[1]), r[6]) for r in rows] == [("added", N, "make_point")]
    if any(a.startswith("--max-") for a in args) and code:
        assert "regression" in p.stderr and "increased by" in p.stderr
    if args == ["--max-eligible-increase=0", "--error-exitcode=0"]:
        assert "eligible increased by 400" in p.stderr


def test_diff_of_a_report_with_itself_is_unchanged(pair):
    b = pair["before"].json_path
    p = annotate("--diff", "--max-blocks-increase=0", b, b)
    assert p.returncode == 0
    assert "(0 changed, 0 added, 0 removed, 2 unchanged; 0 shown)" in p.stdout


def test_merge_keeps_the_tools_extra_fields(tmp_path):
    """Phases, per-site phase and the extra counters survive a merge of real runs."""
    exe = compile_prog("sug_clientreq.c")
    reports = []
    for k in range(2):
        r = run_tool([exe, "phase"], tmp_path=tmp_path, json_name=f"p{k}.json")
        assert r.returncode == 0
        reports.append(r.json_path)
    bad = compile_prog("bad_free.c")
    rb = run_tool([bad], tmp_path=tmp_path, json_name="bad.json")
    assert rb.json["totals"]["bad_frees"] > 0
    out = tmp_path / "m.json"
    p = annotate("--merge", "-o", out, *reports, rb.json_path)
    assert p.returncode == 0, p.stderr
    m = json.loads(out.read_text())
    assert m["phases"] == [{"name": "parse", "blocks": 12, "bytes": 12 * 32},
                           {"name": "eval", "blocks": 12, "bytes": 12 * 48}]
    assert {s["phase"] for s in m["sites"] if s["stack"][0]["fn"] == "parse_step"} == {"parse"}
    assert m["totals"]["bad_frees"] == rb.json["totals"]["bad_frees"]
    # lifetimes.c leaves 10 blocks unfreed (7 global + 3 never_freed)
    leaky = compile_prog("lifetimes.c")
    runs = [run_tool([leaky], tmp_path=tmp_path, json_name=f"l{k}.json").json_path
            for k in range(2)]
    out2 = tmp_path / "m2.json"
    assert annotate("--merge", "-o", out2, *runs).returncode == 0
    m2 = json.loads(out2.read_text())
    assert sum(s["live_blocks"] for s in m2["sites"]) == 20
    assert m["totals"]["max_stack_bytes"] > 0

"""Tests of scripts/sh_annotate on the hand-written reports in tests/data/.

run_a.json and run_b.json describe two runs of tests/data/points.c (inputs 1200 and
20000); their line numbers point into that file. The script is run as a subprocess,
as users run it; only the severity table is also checked by importing the script.
"""
import importlib.util
import json
import re
import subprocess
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "sh_annotate"
DATA = ROOT / "tests" / "data"
A = DATA / "run_a.json"
B = DATA / "run_b.json"

HOTSPOT = re.compile(r"^#\d+\s+site (\d+)\s", re.M)
SUGGESTION = re.compile(r"^\s*\d+\. (\w+)  site (\d+)  ", re.M)
DIFF_ROW = re.compile(r"^(changed|added|removed|unchanged)\s+([+-][\d,]+) blocks\s+"
                      r"([+-][\d,]+) bytes\s+([+-][\d,]+) eligible\s+\(site (\S+) -> (\S+)\)\n"
                      r"\s+(\w+) \(", re.M)


def run(*args, cwd=ROOT):
    return subprocess.run(["/usr/bin/python3", str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=60)


def load(path):
    with open(path) as f:
        return json.load(f)


def write(tmp_path, name, report):
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return path


def hotspot_ids(out):
    return [int(x) for x in HOTSPOT.findall(out)]


def suggestions(out):
    return [(kind, int(site)) for kind, site in SUGGESTION.findall(out)]


def summary(out):
    """'Label: value' lines of the summary block."""
    head = out.split("\n\n", 1)[0]
    return dict(re.findall(r"^([A-Z][\w -]+):\s+(.*)$", head, re.M))


def number(text):
    return int(text.replace(",", ""))


# ------------------------------------------------------------------ render ----

def test_summary_has_exact_totals():
    p = run(A)
    assert p.returncode == 0, p.stderr
    s = summary(p.stdout)
    assert s["Blocks"] == "1,710"
    assert s["Bytes"] == "1,462,944"
    assert s["Peak live bytes"] == "1,230,392"
    assert s["Instructions"] == "3,000,000"
    assert s["Alloc rate"] == "570.0 blocks per million instructions"
    assert s["Sites"] == "4"
    assert s["Stack-eligible"] == "1,400 blocks, 233,600 bytes"
    assert s["Escape rate"] == "18.13%"
    assert s["Classes"] == "frame 1,200, caller 200, global 300, never_freed 10"
    assert s["Frames"] == "45,000"
    assert s["Max stack depth"] == "4"
    assert "Merged runs" not in s


@pytest.mark.parametrize("report,key,expected", [
    (A, "bytes", [1, 2, 3, 4]),
    (A, "blocks", [3, 1, 2, 4]),
    (A, "eligible-blocks", [3, 2, 1, 4]),     # 1 and 4 tie at 0: site id decides
    (A, "eligible-bytes", [2, 3, 1, 4]),
    (A, "calls-saved", [3, 2, 1, 4]),         # site 2: 200 + 199 from two suggestions
    (B, "bytes", [1, 2, 3, 4]),
    (B, "blocks", [2, 1, 3, 4]),
    (B, "eligible-blocks", [2, 3, 4, 1]),
    (B, "eligible-bytes", [2, 3, 4, 1]),      # site 3: 204,800 * 150/200 = 153,600
    (B, "calls-saved", [2, 1, 3, 4]),
])
def test_sort_by_each_key(report, key, expected):
    p = run(f"--sort-by={key}", report)
    assert p.returncode == 0, p.stderr
    assert hotspot_ids(p.stdout) == expected
    assert f"Hotspots (4 of 4 sites, by {key})" in p.stdout


def test_ties_are_broken_by_site_id_not_file_order(tmp_path):
    report = load(A)
    for s in report["sites"]:
        s["blocks"] = 7
    report["sites"].reverse()
    p = run("--sort-by=blocks", write(tmp_path, "tie.json", report))
    assert hotspot_ids(p.stdout) == [1, 2, 3, 4]


def test_top_limits_hotspots_and_suggestions():
    p = run("--top=2", "--sort-by=blocks", A)
    assert hotspot_ids(p.stdout) == [3, 1]
    assert "Hotspots (2 of 4 sites, by blocks)" in p.stdout
    assert suggestions(p.stdout) == [("use_stack_allocation", 3), ("caller_owned_storage", 2)]


def test_suggestions_ordered_by_saved_calls_then_saved_bytes():
    p = run(A)
    # object_pool (site 1) and caller_owned_storage (site 2) both save 200 calls;
    # the 204,800 saved bytes beat 102,400, although site 1 has the lower id.
    assert suggestions(p.stdout) == [("use_stack_allocation", 3), ("caller_owned_storage", 2),
                                     ("object_pool", 1), ("hoist_out_of_loop", 2)]
    assert "    saves 200 calls, 204,800 bytes; stack cost 1,024 bytes" in p.stdout


def site_block(out, site_id):
    m = re.search(rf"^#\d+\s+site {site_id} .*?(?=^#|^-- )", out, re.M | re.S)
    return m.group(0)


def test_site_details_homes_escape_and_stack():
    out = run("--sort-by=bytes", A).stdout
    s1 = site_block(out, 1)
    assert s1.splitlines()[0] == ("#1   site 1  [high]  300 blocks  1,228,800 bytes  "
                                  "size 4,096..4,096  eligible 0%")
    assert "    classes: global 300\n" in s1
    assert "escape: 300 of 300 blocks global" in s1
    assert "first escaping store (global) at cache_put (points.c:30)" in s1
    assert "target: global variable 'g_cache'" in s1
    assert s1.rstrip().endswith("stack:\n      cache_new (points.c:20)\n"
                                "      cache_put (points.c:28)\n      main (points.c:65)")
    s2 = site_block(out, 2)
    assert "    home: 200 of 200 blocks could have lived in main() (depth 1)" in s2
    assert "escape" not in s2
    s4 = site_block(out, 4)
    assert "size 16..112" in s4
    assert "escape: 10 of 10 blocks never_freed" in s4


def test_lines_fit_in_100_columns():
    for args in ([A], ["--merge", A, B], ["--diff", A, B]):
        out = run(*args).stdout
        assert max(len(line) for line in out.splitlines()) <= 100


# -------------------------------------------------------------- thresholds ----

@pytest.mark.parametrize("option,limit,crossed,message", [
    ("--max-escape-rate", "0.18", True, "escape rate 0.1813 exceeds --max-escape-rate=0.18"),
    ("--max-escape-rate", "0.19", False, None),
    ("--max-alloc-rate", "569", True, "alloc rate 570.0 blocks per million instructions"),
    ("--max-alloc-rate", "570", False, None),
    ("--max-eligible-blocks", "1399", True, "1,400 stack-eligible blocks exceed"),
    ("--max-eligible-blocks", "1400", False, None),
])
def test_thresholds_warn_and_set_exit_code(option, limit, crossed, message):
    plain = run(f"{option}={limit}", "--sort-by=bytes", A)
    strict = run(f"{option}={limit}", "--sort-by=bytes", "--error-exitcode=5", A)
    assert plain.returncode == 0
    if crossed:
        assert plain.stderr.startswith("sh_annotate: warning: ")
        assert message in plain.stderr
        assert strict.returncode == 5
    else:
        assert plain.stderr == ""
        assert strict.returncode == 0
    assert hotspot_ids(strict.stdout) == [1, 2, 3, 4]   # the report is printed either way


# ------------------------------------------------------ source annotation ----

def annotated(out):
    """{source text: [blocks, bytes, share] or None} and the chunk start lines."""
    section = out.split("-- Source: points.c", 1)[1]
    lines, chunks = {}, []
    for line in section.splitlines()[2:]:
        if line.startswith("-- line "):
            chunks.append(int(line.split()[2]))
        elif " | " in line:
            left, text = line.split(" | ", 1)
            lines[text] = left.split() or None
        elif line.startswith("-- "):
            break
    return lines, chunks


def test_annotate_puts_exact_costs_on_allocating_lines():
    p = run("--source-dir=tests/data", A)
    assert p.returncode == 0, p.stderr
    lines, chunks = annotated(p.stdout)
    assert lines["    p = malloc(sizeof *p);"] == ["1,200", "28,800", "100%"]
    assert lines["    c = malloc(n);"] == ["300", "1,228,800", "0%"]
    assert lines["    char *b = malloc(n);"] == ["200", "204,800", "100%"]
    assert lines["    char *s = malloc(16 + (size_t)(i % 7) * 16);"] == ["10", "544", "0%"]
    assert lines["    p->x = x; p->y = y; p->z = 0;"] is None      # context, no costs
    # Three lines of context by default: 9-15, 17-23, 32-45; line 1 is elided.
    assert chunks == [9, 17, 32]
    assert "/* points.c" not in p.stdout


def test_annotate_context_zero_shows_exactly_the_allocating_lines():
    p = run("--annotate", "--context=0", A, cwd=DATA)     # default search dir: cwd
    lines, chunks = annotated(p.stdout)
    assert chunks == [12, 20, 35, 42]
    assert len(lines) == 4


def test_annotate_large_context_shows_whole_file():
    p = run("--annotate", "--context=1000", A, cwd=DATA)
    lines, chunks = annotated(p.stdout)
    assert chunks == [1]
    text = p.stdout.split("-- Source: points.c", 1)[1]
    assert len([l for l in text.splitlines() if " | " in l or l.endswith(" |")]) == \
        1 + len((DATA / "points.c").read_text().splitlines())   # header + every line


def test_annotate_merged_report_adds_up_runs():
    p = run("--merge", "--source-dir=tests/data", A, B)
    lines, _ = annotated(p.stdout)
    assert lines["    p = malloc(sizeof *p);"] == ["21,200", "508,800", "100%"]
    assert lines["    char *b = malloc(n);"] == ["400", "409,600", "87%"]
    assert lines["    char *d = malloc(16);"] == ["1", "16", "100%"]


def test_annotate_lists_missing_files_and_sites_without_lines(tmp_path):
    report = load(A)
    report["sites"][3]["stack"][0]["file"] = "gone.c"
    del report["sites"][2]["stack"][0]["file"]
    del report["sites"][2]["stack"][0]["line"]
    report["sites"][0]["stack"][0]["line"] = 500
    p = run("--source-dir=tests/data", write(tmp_path, "r.json", report))
    assert p.returncode == 0, p.stderr
    assert "-- Source files not found (searched: tests/data)" in p.stdout
    assert "  gone.c  (1 line(s), 10 blocks, 544 bytes)" in p.stdout
    assert "1 site(s) have no source line (no debug info)." in p.stdout
    assert "warning: line 500 has costs but the file has only 75 lines" in p.stdout
    lines, _ = annotated(p.stdout)
    assert lines["    char *b = malloc(n);"] == ["200", "204,800", "100%"]
    assert "    p = malloc(sizeof *p);" not in lines    # its site lost its line: not shown


# -------------------------------------------------------------------- diff ----

def diff_rows(out):
    return {m[6]: (m[0], number(m[1]), number(m[2]), number(m[3]), m[4], m[5])
            for m in DIFF_ROW.findall(out)}


def test_diff_matches_sites_by_stack():
    p = run("--diff", A, B)
    assert p.returncode == 0, p.stderr          # no threshold given: nothing is checked
    assert diff_rows(p.stdout) == {
        "cache_new": ("changed", 4700, 19251200, 0, "1", "1"),
        "make_point": ("changed", 18800, 451200, 18800, "3", "2"),   # ids differ
        "make_buf": ("changed", 0, 0, -50, "2", "3"),
        "leak_name": ("removed", -10, -544, 0, "4", "-"),
        "dup_arg": ("added", 1, 16, 1, "-", "4"),
    }
    assert re.search(r"^blocks\s+1,710\s+25,201\s+\+23,491$", p.stdout, re.M)
    assert re.search(r"^bytes\s+1,462,944\s+21,164,816\s+\+19,701,872$", p.stdout, re.M)
    assert re.search(r"^eligible blocks\s+1,400\s+20,151\s+\+18,751$", p.stdout, re.M)
    assert "3 changed, 1 added, 1 removed, 0 unchanged" in p.stdout


def test_diff_of_identical_reports():
    p = run("--diff", "--max-blocks-increase=0", "--max-bytes-increase=0", A, A)
    assert p.returncode == 0
    assert diff_rows(p.stdout) == {}
    assert "0 changed, 0 added, 0 removed, 4 unchanged" in p.stdout


@pytest.mark.parametrize("options,status", [
    (["--max-blocks-increase=23491"], 0),
    (["--max-blocks-increase=23490"], 1),
    (["--max-blocks-increase=23490", "--error-exitcode=3"], 3),
    (["--max-bytes-increase=19701872"], 0),
    (["--max-bytes-increase=19701871"], 1),
    (["--max-eligible-increase=18751"], 0),
    (["--max-eligible-increase=18750"], 1),
])
def test_diff_thresholds(options, status):
    p = run("--diff", *options, A, B)
    assert p.returncode == status
    assert ("sh_annotate: regression:" in p.stderr) == (status != 0)


def test_diff_shrinking_is_not_a_regression():
    p = run("--diff", "--max-blocks-increase=0", "--max-bytes-increase=0",
            "--max-eligible-increase=0", B, A)
    assert p.returncode == 0, p.stderr
    assert diff_rows(p.stdout)["leak_name"] == ("added", 10, 544, 0, "-", "4")


# ------------------------------------------------------------------- merge ----

def merge(tmp_path, *inputs):
    out = tmp_path / "merged.json"
    p = run("--merge", *inputs, "-o", out)
    assert p.returncode == 0, p.stderr
    return p.stdout, load(out)


def by_fn(report):
    return {s["stack"][0]["fn"]: s for s in report["sites"]}


def test_merge_reads_both_formats_and_writes_the_newer(tmp_path):
    b2 = load(B)
    b2["format"] = "stackheap-2"
    b2["totals"]["holders_overflowed"] = 7
    p2 = tmp_path / "b2.json"
    p2.write_text(json.dumps(b2))
    _, m = merge(tmp_path, A, p2)
    assert m["format"] == "stackheap-2"
    assert m["totals"]["holders_overflowed"] == 7


def test_merge_sums_sites_and_totals(tmp_path):
    _, m = merge(tmp_path, A, B)
    assert m["format"] == "stackheap-1" and m["pid"] == 0 and m["merged_runs"] == 2
    assert m["totals"] == {
        "instructions": 55000000, "blocks": 26911, "bytes": 22627760,
        "stack_eligible_blocks": 21551, "stack_eligible_bytes": 867216,
        "escape_rate": 1 - 21551 / 26911,
        "classes": {"frame": 21201, "caller": 350, "too_large": 0, "global": 5300,
                    "heap": 50, "thread": 0, "outlived": 0, "never_freed": 10},
        "frames": 805000, "max_stack_depth": 5, "peak_live_bytes": 20481040,
        # the tool's extra counters (absent from these hand-written inputs)
        "max_stack_bytes": 0, "bad_frees": 0, "off_stack_blocks": 0,
        "holders_overflowed": 0,
    }
    sites = by_fn(m)
    assert [s["id"] for s in m["sites"]] == [1, 2, 3, 4, 5]
    assert [s["stack"][0]["fn"] for s in m["sites"]] == \
        ["cache_new", "make_point", "make_buf", "leak_name", "dup_arg"]
    mp = sites["make_point"]
    assert (mp["blocks"], mp["bytes"], mp["runs"], mp["max_live"]) == (21200, 508800, 2, 3)
    assert mp["avg_lifetime_instrs"] == 92          # (1200*120 + 20000*90) / 21200
    assert mp["severity"] == "medium"               # low in run A, 508,800 bytes merged
    assert mp["homes"] == [{"depth": 0, "fn": "make_point", "blocks": 21200}]
    assert sites["cache_new"]["severity"] == "critical"
    buf = sites["make_buf"]
    assert (buf["min_size"], buf["max_size"]) == (512, 2048)
    assert buf["classes"]["caller"] == 350 and buf["classes"]["heap"] == 50
    assert buf["homes"] == [{"depth": 1, "fn": "main", "blocks": 350}]
    assert buf["first_escape"]["class"] == "heap"   # run A's is null
    assert (sites["leak_name"]["runs"], sites["dup_arg"]["runs"]) == (1, 1)


def test_merge_drops_stack_suggestion_when_one_run_escaped(tmp_path):
    out, m = merge(tmp_path, A, B)
    got = {(g["kind"], g["site"]): (g["saved_calls"], g["saved_bytes"]) for g in m["suggestions"]}
    assert got == {
        ("use_stack_allocation", 2): (21200, 508800),   # make_point: no run escaped
        ("object_pool", 1): (5100, 2560000),
        ("hoist_out_of_loop", 3): (398, 407552),        # not a stack kind: kept
        ("use_stack_allocation", 5): (1, 16),           # dup_arg: only in run B
    }
    assert m["dropped_stack_suggestions"] == 1
    assert suggestions(out) == [("use_stack_allocation", 2), ("object_pool", 1),
                                ("hoist_out_of_loop", 3), ("use_stack_allocation", 5)]
    assert "saves 1 calls, 16 bytes; stack cost 16 bytes; rests on 1 of 2 runs" in out
    assert "1 stack suggestion(s) dropped" in out


def test_merge_keeps_stack_suggestion_when_no_run_escaped(tmp_path):
    out, m = merge(tmp_path, A, A)
    kept = [g for g in m["suggestions"] if g["kind"] == "caller_owned_storage"]
    assert kept == [dict(kept[0], site=2, saved_calls=400, saved_bytes=409600,
                         stack_cost=1024)]
    assert m["dropped_stack_suggestions"] == 0
    assert "runs: its verdict rests on 2 of 2 runs" in out
    assert summary(out)["Merged runs"].startswith("2 ")


def test_merge_first_escape_follows_argument_order(tmp_path):
    a = load(A)
    a["sites"][1]["first_escape"] = {"class": "thread", "at": {"fn": "make_buf",
                                     "file": "points.c", "line": 36}, "target": "thread 2"}
    a_path = write(tmp_path, "a.json", a)
    _, m1 = merge(tmp_path, a_path, B)
    _, m2 = merge(tmp_path, B, a_path)
    assert by_fn(m1)["make_buf"]["first_escape"]["class"] == "thread"
    assert by_fn(m2)["make_buf"]["first_escape"]["class"] == "heap"


def test_merged_report_can_be_merged_again(tmp_path):
    _, m = merge(tmp_path, A, B)
    again = write(tmp_path, "ab.json", m)
    _, m3 = merge(tmp_path, again, A)
    assert m3["merged_runs"] == 3
    assert by_fn(m3)["make_point"]["runs"] == 3
    assert by_fn(m3)["dup_arg"]["runs"] == 1
    assert m3["totals"]["blocks"] == 26911 + 1710


def sh_module():
    loader = SourceFileLoader("sh_annotate", str(SCRIPT))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("nbytes,severity", [
    (0, "low"), (102399, "low"), (102400, "medium"), (1048575, "medium"),
    (1048576, "high"), (10485759, "high"), (10485760, "critical"),
])
def test_severity_thresholds(nbytes, severity):
    assert sh_module().severity_for(nbytes) == severity


# --------------------------------------------------------- errors and help ----

@pytest.mark.parametrize("mode", [[], ["--diff", A], ["--merge", A]])
@pytest.mark.parametrize("content,message", [
    (None, "cannot read"),
    ("{\"format\": ", "not valid JSON"),
    ('{"format": "dhat-2", "totals": {}, "sites": []}', "format is 'dhat-2', expected 'stackheap-1' or 'stackheap-2'"),
])
def test_bad_input_is_one_line_naming_the_file(tmp_path, mode, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    p = run(*mode, path)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1
    assert p.stderr.startswith(f"sh_annotate: error: {path}: {message}")


def test_usage_errors_exit_2():
    assert run("--diff", A).returncode == 2
    assert run(A, B).returncode == 2
    assert run("-o", "x.json", A).returncode == 2
    assert run("--top=-1", A).returncode == 2


def test_help_describes_every_mode():
    p = run("--help")
    assert p.returncode == 0
    for word in ("--sort-by", "--top", "--max-escape-rate", "--max-alloc-rate",
                 "--max-eligible-blocks", "--error-exitcode", "--annotate", "--source-dir",
                 "--context", "--diff", "--max-blocks-increase", "--max-bytes-increase",
                 "--max-eligible-increase", "--merge", '"pid": 0'):
        assert word in p.stdout

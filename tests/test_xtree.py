"""--xtree-out-file: the allocation tree in callgrind format (KCachegrind, callgrind_annotate).

The file is read back with callgrind_annotate, as shipped with Valgrind, and its numbers
are compared with the JSON report of the same run.
"""
import json
import re
import shutil
import subprocess

import pytest

from conftest import PROGS, compile_prog, run_tool

EVENTS = ["blocks", "bytes", "stack_eligible_blocks", "stack_eligible_bytes",
          "frame", "caller", "too_large", "global", "heap", "thread", "outlived", "never_freed"]

pytestmark = pytest.mark.skipif(shutil.which("callgrind_annotate") is None,
                                reason="callgrind_annotate (package valgrind) is not installed")


def annotate(path):
    """{'PROGRAM TOTALS' or function name: [12 numbers]} from callgrind_annotate --inclusive."""
    p = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--auto=no",
                        str(path)], capture_output=True, text=True, check=True)
    events = re.search(r"^Events shown:\s+(.*)$", p.stdout, re.M).group(1).split()
    assert events == EVENTS
    rows = {}
    for line in p.stdout.splitlines():
        # "2,802 (100.0%) 57,408 (100.0%) ... 0  file:function": 12 numbers, each maybe
        # followed by a percentage, then the name.
        m = re.match(r"^\s*((?:[\d,]+(?: \(\s*[\d.]+%\))?\s+){12})(\S.*)$", line)
        if not m:
            continue
        nums = [int(x.replace(",", "")) for x in re.findall(r"([\d,]+)(?: \(\s*[\d.]+%\))?",
                                                             m.group(1))]
        name = m.group(2).strip()
        name = name if name == "PROGRAM TOTALS" else name.rsplit(":", 1)[-1]
        rows[name] = nums
    return rows


def json_values(obj):
    return [obj["blocks"], obj["bytes"], obj.get("stack_eligible_blocks"),
            obj.get("stack_eligible_bytes")] + [obj["classes"][c] for c in EVENTS[4:]]


def test_callgrind_annotate_totals_equal_the_json(tmp_path):
    exe = compile_prog("mixed.c")
    xt = tmp_path / "xt.kcg"
    r = run_tool([exe], tool_args=[f"--xtree-out-file={xt}"], tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    text = xt.read_text()
    assert text.startswith("# callgrind format\n")
    rows = annotate(xt)
    t = r.totals
    assert rows["PROGRAM TOTALS"] == json_values(t)
    # every event is non-trivial somewhere in this program
    for c in ("frame", "caller", "global", "heap", "never_freed"):
        assert t["classes"][c] > 0, c
    # Inclusive cost of each function = the sites whose stack goes through it.
    expected = {}
    for s in r.sites:
        elig = sum(s["classes"][c] for c in ("frame", "caller"))
        vals = [s["blocks"], s["bytes"], elig, s["stack_eligible_bytes"]] + \
            [s["classes"][c] for c in EVENTS[4:]]
        for fn in {f["fn"] for f in s["stack"]}:
            acc = expected.setdefault(fn, [0] * 12)
            for i, v in enumerate(vals):
                acc[i] += v
    for fn in ("make_buf", "list_work", "main"):
        assert fn in rows, (fn, sorted(rows))
        assert rows[fn] == expected[fn], fn
    assert rows["main"][0] == sum(s["blocks"] for s in r.sites
                                  if any(f["fn"] == "main" for f in s["stack"]))


def test_xtree_file_name_expands_pid_and_env(tmp_path):
    exe = compile_prog("mixed.c")
    r = run_tool([exe], tool_args=["--xtree-out-file=xt.%q{SH_XT_TAG}.%p.kcg"],
                 tmp_path=tmp_path, env={"SH_XT_TAG": "night"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    files = list(tmp_path.glob("xt.night.*.kcg"))
    assert [f.name for f in files] == [f"xt.night.{r.json['pid']}.kcg"]
    assert json.loads(json.dumps(r.json["options"]))["xtree-out-file"] == \
        "xt.%q{SH_XT_TAG}.%p.kcg"


def test_xtree_off_by_default_and_with_none(tmp_path):
    exe = compile_prog("mixed.c")
    r = run_tool([exe], tmp_path=tmp_path, cwd=tmp_path)
    assert r.returncode == 0 and r.json["options"]["xtree-out-file"] == "none"
    r = run_tool([exe], tool_args=["--xtree-out-file=none"], tmp_path=tmp_path, cwd=tmp_path)
    assert r.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["out.json"]


def test_xtree_empty_name_is_refused(tmp_path):
    exe = compile_prog("mixed.c")
    r = run_tool([exe], tool_args=["--xtree-out-file="], tmp_path=tmp_path)
    assert r.returncode != 0
    assert "--xtree-out-file" in r.stderr and "empty" in r.stderr


def test_xtree_unwritable_path_says_so(tmp_path):
    exe = compile_prog("mixed.c")
    r = run_tool([exe], tool_args=[f"--xtree-out-file={tmp_path}/no/such/dir/xt"],
                 tmp_path=tmp_path)
    assert r.returncode == 0
    assert "can not open xtree output file" in r.stderr
    assert r.json is not None  # the JSON is still written


def test_dumps_write_numbered_xtree_files(tmp_path):
    exe = compile_prog("sug_clientreq.c")
    xt = tmp_path / "xt.kcg"
    r = run_tool([exe, "dump"], tool_args=[f"--xtree-out-file={xt}"], tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    for n in (1, 2):
        dump_json = json.loads((tmp_path / f"out.{n}.json").read_text())
        assert annotate(tmp_path / f"xt.kcg.{n}")["PROGRAM TOTALS"] == \
            json_values(dump_json["totals"])
    assert annotate(xt)["PROGRAM TOTALS"] == json_values(r.totals)


def test_callgrind_annotate_costs_source_lines(tmp_path):
    """Files carry their directories, so --auto=yes finds the source and puts each
    allocating line's blocks beside it."""
    exe = compile_prog("mixed.c")
    xt = tmp_path / "xt.kcg"
    r = run_tool([exe], tool_args=[f"--xtree-out-file={xt}"], tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    p = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--auto=yes", "--show=blocks",
                        "--context=0", str(xt)], capture_output=True, text=True, check=True)
    src = (PROGS / "mixed.c").read_text().splitlines()
    # A line's inclusive blocks: the sites whose stack passes through it, from the JSON.
    want = {}
    for s in r.sites:
        for line in {f["line"] for f in s["stack"] if f.get("file", "").endswith("/mixed.c")}:
            want[line] = want.get(line, 0) + s["blocks"]
    assert len(want) >= 6
    for line, blocks in want.items():
        text = src[line - 1]
        m = re.search(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+" + re.escape(text.strip()) + "$",
                      p.stdout, re.M)
        assert m, (line, text)
        assert int(m.group(1).replace(",", "")) == blocks, (line, text)

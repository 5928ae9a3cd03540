"""Client requests of stackheap.h: SH_STOP_COLLECTING / SH_START_COLLECTING,
--collect-atstart=no, SH_DUMP_REPORT(label) and SH_SET_PHASE(name), on
tests/progs/sug_clientreq.c (see its header for the exact counts).  The
fixture writes its output with write(2) so that stdio allocates nothing."""
import json
import subprocess

from conftest import ROOT, compile_prog, run_tool

CLASS_NAMES = ("frame", "caller", "too_large", "global", "heap", "thread",
               "outlived", "never_freed")


def fns(run):
    return sorted(s["stack"][0]["fn"] for s in run.sites)


def check_classes_sum(report):
    t = report["totals"]
    assert sum(t["classes"][c] for c in CLASS_NAMES) == t["blocks"]
    for s in report["sites"]:
        assert sum(s["classes"][c] for c in CLASS_NAMES) == s["blocks"], s["id"]
    assert sum(s["blocks"] for s in report["sites"]) == t["blocks"]


# ------------------------------------------------------- collecting on/off ----

def test_stop_and_start_collecting(sh):
    r = sh("sug_clientreq.c", "collect")
    assert r.returncode == 0 and r.stdout == "ok collect\n"
    assert r.totals["blocks"] == 40
    assert fns(r) == ["after_start", "before_stop"]
    assert r.site("before_stop")["blocks"] == 10
    assert r.site("after_start")["blocks"] == 30
    assert r.sites_in("while_stopped") == []
    check_classes_sum(r.json)


def test_collect_atstart_no(sh):
    r = sh("sug_clientreq.c", "collect", tool_args=["--collect-atstart=no"])
    assert r.returncode == 0
    assert r.json["options"]["collect-atstart"] is False
    assert r.totals["blocks"] == 30
    assert r.totals["bytes"] == 30 * 16
    assert fns(r) == ["after_start"]
    assert r.site("after_start")["classes"]["frame"] == 30
    check_classes_sum(r.json)


def test_collect_atstart_no_without_start_counts_nothing(sh):
    # The phase mode never calls SH_START_COLLECTING.
    r = sh("sug_clientreq.c", "phase", tool_args=["--collect-atstart=no"])
    assert r.returncode == 0
    assert r.totals["blocks"] == 0 and r.sites == []


# ------------------------------------------------------------- dump report ----

def test_dump_report_numbered_files(sh, tmp_path):
    r = sh("sug_clientreq.c", "dump")
    assert r.returncode == 0 and r.stdout == "ok dump\n"
    # --json-out-file=<tmp>/out.json -> out.1.json, out.2.json beside it.
    d1_path, d2_path = tmp_path / "out.1.json", tmp_path / "out.2.json"
    assert d1_path.exists() and d2_path.exists(), sorted(p.name for p in tmp_path.iterdir())
    assert not (tmp_path / "out.json.1.json").exists()
    d1 = json.loads(d1_path.read_text())
    d2 = json.loads(d2_path.read_text())

    # First dump: 5 frame blocks freed, 3 still live (never_freed so far).
    assert d1["format"] == "stackheap-2"
    assert d1["label"] == "after-setup"
    assert d1["totals"]["blocks"] == 8
    assert d1["totals"]["bytes"] == 5 * 24 + 3 * 40
    assert d1["totals"]["classes"]["frame"] == 5
    assert d1["totals"]["classes"]["never_freed"] == 3
    assert d1["totals"]["stack_eligible_blocks"] == 5
    check_classes_sum(d1)
    # live_blocks: not freed when the dump was written
    keep1 = [s for s in d1["sites"] if s["stack"][0]["fn"] == "keep_block"]
    assert [s["live_blocks"] for s in keep1] == [3]

    # Second dump: 7 more frame blocks.
    assert d2["label"] == "second"
    assert d2["totals"]["blocks"] == 15
    assert d2["totals"]["classes"]["frame"] == 12
    assert d2["totals"]["classes"]["never_freed"] == 3
    assert d2["totals"]["instructions"] > d1["totals"]["instructions"]
    check_classes_sum(d2)

    # At exit: the 3 kept blocks were freed by main, their caller: class caller;
    # the dumps did not count anything twice.
    final = r.json
    assert "label" not in final or final["label"] is None
    assert final["totals"]["blocks"] == 15
    assert final["totals"]["classes"]["never_freed"] == 0
    assert r.site("keep_block")["classes"]["caller"] == 3
    assert r.site("keep_block")["live_blocks"] == 0
    check_classes_sum(final)


def test_dump_report_labelled_text(sh):
    r = sh("sug_clientreq.c", "dump")
    text = r.text
    i1 = text.index("-------- stackheap report: after-setup --------")
    i2 = text.index("-------- stackheap report: second --------")
    assert i1 < i2
    first = text[i1:i2]
    assert "Total:     8 blocks, 240 bytes" in first
    assert "Classes:   frame 5 never_freed 3" in first
    second = text[i2:]
    assert "Total:     15 blocks, 408 bytes" in second
    # The final report follows, unlabelled.
    assert text.count("stackheap report:") == 2
    assert text.rindex("Total:     15 blocks") > i2


def test_dump_with_json_none_writes_only_text(tmp_path):
    exe = compile_prog("sug_clientreq.c")
    r = run_tool([exe, "dump"], tool_args=["--json-out-file=none"], cwd=tmp_path)
    assert r.returncode == 0
    assert "stackheap report: after-setup" in r.text
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ phases ----

def test_set_phase(sh):
    r = sh("sug_clientreq.c", "phase")
    assert r.returncode == 0
    assert r.json["phases"] == [
        {"name": "parse", "blocks": 6, "bytes": 6 * 32},
        {"name": "eval", "blocks": 6, "bytes": 6 * 48},
    ]
    parse = r.sites_in("parse_step")
    assert sorted(s["blocks"] for s in parse) == [2, 4]     # two call lines in main
    assert all(s["phase"] == "parse" for s in parse)
    assert r.site("eval_step")["phase"] == "eval"
    assert r.totals["blocks"] == 12


def test_no_phase_is_null(sh):
    r = sh("sug_clientreq.c", "collect")
    assert r.json["phases"] == []
    assert all(s["phase"] is None for s in r.sites)


# ------------------------------------------------------------------ native ----

def test_requests_are_noops_natively():
    exe = compile_prog("sug_clientreq.c")
    for mode in ("collect", "dump", "phase"):
        p = subprocess.run([str(exe), mode], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, (mode, p.stderr)
        assert p.stdout == f"ok {mode}\n" and p.stderr == ""


def test_header_compiles_as_cxx(tmp_path):
    """stackheap.h is usable from C++ too (the macros expand to statements)."""
    src = tmp_path / "req.cc"
    src.write_text('#include "stackheap.h"\n'
                   'int main() { SH_SET_PHASE("x"); SH_STOP_COLLECTING(); '
                   'SH_START_COLLECTING(); SH_DUMP_REPORT("y"); return 0; }\n')
    exe = tmp_path / "req"
    subprocess.run(["g++", "-O2", "-Wall", "-Werror", "-o", str(exe), str(src),
                    "-I", str(ROOT / "stackheap"), "-I", "/usr/include/valgrind"],
                   check=True)
    assert subprocess.run([str(exe)], timeout=30).returncode == 0

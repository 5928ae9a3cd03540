"""Command-line options of stackheap, on tests/progs/opts.c.

opts.c prints "program ran" first and exits with the status given as argv[1];
its three sites (stack[1] many_small / few_big / middle) have 100 x 8, 2 x 1000
and 10 x 50 bytes: 112 blocks, 3,300 bytes.
"""
import glob
import json
import os
import re
import subprocess

import pytest

from conftest import VALGRIND, compile_prog, run_tool

BANNER = "program ran"


@pytest.fixture(scope="module")
def opts_exe():
    return compile_prog("opts.c")


def raw(args, cwd=None, timeout=120):
    """valgrind --tool=stackheap with exactly these arguments."""
    e = dict(os.environ)
    e.pop("VALGRIND_OPTS", None)
    return subprocess.run([VALGRIND, "--tool=stackheap", "--command-line-only=yes", *args],
                          capture_output=True, text=True, cwd=cwd, env=e, timeout=timeout)


def stack1(site):
    return site["stack"][1]["fn"]


def test_help_lists_tool_options_with_defaults():
    p = raw(["--help"])
    assert p.returncode == 0
    out = p.stdout
    assert "user options for stackheap:" in out
    expected = {
        "--depth=<number>": "[12]",
        "--alloc-fn=<name>": None,
        "--top=<number>": "[10]",
        "--sort-by=blocks|bytes|eligible-blocks|eligible-bytes|calls-saved": "[blocks]",
        "--json-out-file=<file>": "[stackheap.out.%p.json]",
        "--max-stack-block=<size>": "[4096]",
        "--stack-budget=<size>": "[65536]",
        "--collect-atstart=no|yes": "[yes]",
        "--max-escape-rate=<F>": "[off]",
        "--max-alloc-rate=<N>": "[off]",
        "--max-eligible-blocks=<N>": "[off]",
    }
    tool_part = out.split("user options for stackheap:", 1)[1]
    for opt, default in expected.items():
        assert opt in tool_part, opt
        if default is not None:
            # the default is given in the option's own entry (before the next option)
            entry = tool_part.split(opt, 1)[1]
            entry = re.split(r"\n    --", entry, 1)[0]
            assert default in entry, (opt, entry)


@pytest.mark.parametrize("arg, words", [
    ("--bogus=1", ["--bogus=1"]),
    ("--depth=abc", ["--depth=abc", "abc"]),
    ("--depth=0", ["--depth"]),
    ("--sort-by=nope", ["--sort-by=nope", "nope"]),
    ("--max-escape-rate=2", ["--max-escape-rate=2", "between 0 and 1"]),
    ("--max-stack-block=12x", ["--max-stack-block=12x", "12x"]),
    ("--top=-1", ["--top"]),
    ("--json-out-file=", ["--json-out-file"]),
])
def test_bad_option_fails_before_the_program_runs(opts_exe, arg, words):
    p = raw([arg, str(opts_exe)])
    assert p.returncode != 0
    assert BANNER not in p.stdout
    assert BANNER not in p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    assert "Total:" not in p.stderr


def test_exit_code_passes_through(tmp_path, opts_exe):
    r = run_tool([opts_exe, "3"], tmp_path=tmp_path)
    assert r.returncode == 3
    assert r.stdout == BANNER + "\n"
    assert r.json["totals"]["blocks"] == 112
    assert re.search(r"^Total:\s+112 blocks, 3,300 bytes,", r.text, re.M)


def test_default_order_is_by_blocks(tmp_path, opts_exe):
    r = run_tool([opts_exe], tmp_path=tmp_path)
    assert r.returncode == 0
    assert [stack1(s) for s in r.sites] == ["many_small", "middle", "few_big"]
    assert [s["blocks"] for s in r.sites] == [100, 10, 2]
    assert [s["id"] for s in r.sites] == [1, 2, 3]
    assert r.json["options"]["sort-by"] == "blocks"
    assert "Hotspots: top 3 of 3 sites, by blocks" in r.text


def test_sort_by_bytes(tmp_path, opts_exe):
    r = run_tool([opts_exe], tool_args=("--sort-by=bytes",), tmp_path=tmp_path)
    assert r.returncode == 0
    assert [stack1(s) for s in r.sites] == ["few_big", "many_small", "middle"]
    assert [s["bytes"] for s in r.sites] == [2000, 800, 500]
    assert [s["id"] for s in r.sites] == [1, 2, 3]
    assert r.json["options"]["sort-by"] == "bytes"
    # the text hotspots follow the same order
    heads = re.findall(r"^#\d+ \[\w+\] ([\d,]+) blocks?, ([\d,]+) bytes", r.text, re.M)
    assert heads == [("2", "2,000"), ("100", "800"), ("10", "500")]


def test_top_limits_text_hotspots(tmp_path, opts_exe):
    r = run_tool([opts_exe], tool_args=("--top=1",), tmp_path=tmp_path)
    assert r.returncode == 0
    heads = re.findall(r"^#(\d+) \[\w+\] ([\d,]+) blocks", r.text, re.M)
    assert heads == [("1", "100")]
    assert "Hotspots: top 1 of 3 sites" in r.text
    assert re.search(r"^\s+few_big \(", r.text, re.M) is None
    # the JSON keeps every site
    assert len(r.sites) == 3
    assert r.json["options"]["top"] == 1


def test_json_none_writes_no_file(tmp_path, opts_exe):
    r = run_tool([opts_exe], tool_args=("--json-out-file=none",), cwd=tmp_path)
    assert r.returncode == 0
    assert r.json is None
    assert list(tmp_path.iterdir()) == []
    assert re.search(r"^Total:\s+112 blocks", r.text, re.M)


def test_default_json_file_name(tmp_path, opts_exe):
    p = raw([str(opts_exe)], cwd=tmp_path)
    assert p.returncode == 0
    pid = re.match(r"==(\d+)==", p.stderr).group(1)
    files = [f.name for f in tmp_path.iterdir()]
    assert files == [f"stackheap.out.{pid}.json"]
    j = json.loads((tmp_path / files[0]).read_text())
    assert j["pid"] == int(pid)
    assert j["totals"]["blocks"] == 112


def test_json_file_pid_expansion(tmp_path, opts_exe):
    pattern = str(tmp_path / "rep.%p.json")
    p = raw([f"--json-out-file={pattern}", str(opts_exe)])
    assert p.returncode == 0
    pid = int(re.match(r"==(\d+)==", p.stderr).group(1))
    files = glob.glob(str(tmp_path / "rep.*.json"))
    assert [os.path.basename(f) for f in files] == [f"rep.{pid}.json"]
    j = json.loads(open(files[0]).read())
    assert j["pid"] == pid
    assert j["totals"]["bytes"] == 3300


def test_json_file_env_expansion(tmp_path, opts_exe):
    e = dict(os.environ, SH_TEST_TAG="tagged")
    e.pop("VALGRIND_OPTS", None)
    p = subprocess.run([VALGRIND, "--tool=stackheap",
                        f"--json-out-file={tmp_path}/r.%q{{SH_TEST_TAG}}.json",
                        str(opts_exe)], capture_output=True, text=True, env=e, timeout=120)
    assert p.returncode == 0
    assert [f.name for f in tmp_path.iterdir()] == ["r.tagged.json"]


def test_unwritable_json_file(tmp_path, opts_exe):
    p = raw(["--json-out-file=/nonexistent/dir/x.json", str(opts_exe), "5"])
    # the program ran and its exit code passes through
    assert p.returncode == 5
    assert p.stdout == BANNER + "\n"
    text = re.sub(r"^==\d+== ?", "", p.stderr, flags=re.M)
    # a clear error naming the file
    assert re.search(r"error.*/nonexistent/dir/x\.json", text), text
    # the text report is still printed
    assert re.search(r"^Total:\s+112 blocks, 3,300 bytes,", text, re.M)
    assert "Hotspots:" in text
    assert not os.path.exists("/nonexistent/dir/x.json")


def test_quiet_suppresses_text_report(tmp_path, opts_exe):
    r = run_tool([opts_exe, "4"], tool_args=("-q",), tmp_path=tmp_path)
    assert r.returncode == 4
    assert r.stdout == BANNER + "\n"
    assert "Total:" not in r.text
    assert "Hotspots" not in r.text
    assert r.stderr.strip() == ""
    # the JSON report is still written
    assert r.json["totals"]["blocks"] == 112


def test_options_recorded_in_json(tmp_path, opts_exe):
    r = run_tool([opts_exe], tool_args=("--depth=3", "--top=2", "--max-stack-block=1k",
                                        "--stack-budget=2m", "--alloc-fn=foo",
                                        "--alloc-fn=bar*", "--max-escape-rate=0.5"),
                 tmp_path=tmp_path)
    assert r.returncode == 0
    o = r.json["options"]
    assert o["depth"] == 3
    assert o["top"] == 2
    assert o["max-stack-block"] == 1024
    assert o["stack-budget"] == 2 * 1024 * 1024
    assert o["alloc-fn"] == ["foo", "bar*"]
    assert o["max-escape-rate"] == 0.5
    # --depth=3 keeps three frames: alloc_n, <wrapper>, main
    assert all(len(s["stack"]) <= 3 for s in r.sites)
    assert [s["stack"][2]["fn"] for s in r.sites] == ["main"] * 3


def test_max_stack_block(tmp_path, opts_exe):
    """--max-stack-block=999: the 1000-byte blocks become too_large."""
    r = run_tool([opts_exe], tool_args=("--max-stack-block=999",), tmp_path=tmp_path)
    assert r.returncode == 0
    big = [s for s in r.sites if stack1(s) == "few_big"][0]
    assert big["classes"]["too_large"] == 2
    assert big["classes"]["frame"] == 0
    assert r.totals["stack_eligible_blocks"] == 110
    assert r.totals["stack_eligible_bytes"] == 1300


def test_top_zero_shows_every_site(sh):
    r = sh("opts.c", tool_args=("--top=0",))
    n = len(r.json["sites"])
    assert n >= 3
    assert f"Hotspots: top {n} of {n} sites" in r.text
    assert len(re.findall(r"^#\d+ \[", r.text, re.M)) == n


def test_stats_prints_counters(sh):
    r = sh("opts.c", tool_args=("--stats=yes",))
    m = re.search(r"stackheap: ([\d,]+) calls seen, ([\d,]+) store checks, ([\d,]+) hit",
                  r.stderr)
    assert m, r.stderr
    assert int(m.group(1).replace(",", "")) == r.totals["frames"]
    assert "innermost-frame filter on (single-threaded)" in r.stderr


def test_stats_filter_off_with_threads(sh):
    r = sh("threads.c", tool_args=("--stats=yes",))
    assert r.returncode == 0
    assert "innermost-frame filter off (threads)" in r.stderr


def _line_of(prog, marker):
    path = os.path.join(os.path.dirname(__file__), "progs", prog)
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise AssertionError(marker)


def test_inlined_frames_are_named(sh):
    r = sh("inlined.c", opt="-O2")
    mk, call = _line_of("inlined.c", "/* MK */"), _line_of("inlined.c", "/* CALL */")
    s = r.site("make_buf")
    assert [f["fn"] for f in s["stack"][:3]] == ["make_buf", "outer", "main"]
    assert (s["stack"][0]["line"], s["stack"][1]["line"]) == (mk, call)
    assert s["blocks"] == 20 and s["classes"]["frame"] == 20
    assert s["homes"] == [{"depth": 0, "fn": "outer", "blocks": 20}]
    off = sh("inlined.c", opt="-O2", tool_args=("--read-inline-info=no",))
    s2 = off.site("outer")
    assert s2["stack"][0]["fn"] == "outer" and s2["blocks"] == 20

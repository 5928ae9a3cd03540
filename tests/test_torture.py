"""Torture suite: programs that real users run and that must not make the
tool (or Valgrind) die.  Each test runs a program natively and under
stackheap and asserts that the program's own output and exit status are
unchanged, and that the JSON report parses and is consistent (class counts
sum to blocks, totals equal the sum of the sites).

SH_SANITY=1 in the environment adds --sanity-level=3 to every run of the
suite (conftest.py): the core then calls the tool's full sanity check at
every system call and thread switch.  test_sanity_level_3 below always
runs the torture and class programs that way.
"""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, VALGRIND, compile_prog, run_tool

CLASSES = ["frame", "caller", "too_large", "global", "heap", "thread", "outlived",
           "never_freed"]
NOWARN = ("-Wno-alloc-size-larger-than",)


def check_report(j):
    """The report's arithmetic holds."""
    t = j["totals"]
    assert sum(t["classes"].values()) == t["blocks"]
    assert sum(s["blocks"] for s in j["sites"]) == t["blocks"]
    assert sum(s["bytes"] for s in j["sites"]) == t["bytes"]
    for c in CLASSES:
        assert sum(s["classes"][c] for s in j["sites"]) == t["classes"][c], c
    for s in j["sites"]:
        assert sum(s["classes"].values()) == s["blocks"], s["stack"][:2]
    assert t["stack_eligible_blocks"] == t["classes"]["frame"] + t["classes"]["caller"]


def native(argv, env=None, cwd=None, timeout=120):
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([str(a) for a in argv], capture_output=True, env=e, cwd=cwd,
                          timeout=timeout)


def same_as_native(argv, tmp_path, tool_args=(), env=None, stdout_filter=None):
    """Run argv natively and under the tool; assert stdout and status match.
    Returns the tool Run."""
    n = native(argv, env=env)
    r = run_tool(argv, tool_args=tuple(tool_args), tmp_path=tmp_path,
                 env=env, timeout=300)
    out_n = n.stdout.decode("utf-8", "replace")
    out_t = r.stdout
    if stdout_filter:
        out_n, out_t = stdout_filter(out_n), stdout_filter(out_t)
    assert "Assertion" not in r.text and "the 'impossible' happened" not in r.text, \
        r.text[-3000:]
    assert out_t == out_n, r.text[-3000:]
    assert r.returncode == n.returncode, r.text[-3000:]
    if r.json_path is not None and Path(r.json_path).exists():
        check_report(r.json)
    return r


# --- huge and overflowing requests ---------------------------------------

def test_impossible_requests_fail_as_natively(tmp_path):
    exe = compile_prog("torture_alloc.c", extra=NOWARN)
    r = same_as_native([exe], tmp_path)
    assert r.returncode == 7
    assert "wraps around the address space" in r.text


# --- threads that come and go ----------------------------------------------

def test_thread_churn(tmp_path):
    """Hundreds of short threads, joined and detached, custom stack sizes,
    reused tids, stores described after threads exited."""
    exe = compile_prog("torture_threads.c")
    r = same_as_native([exe], tmp_path)
    assert r.returncode == 3
    j = r.json
    assert len(j["threads"]) >= 2
    worker = [s for s in j["sites"] if s["stack"][0]["fn"] == "worker"]
    assert sum(s["blocks"] for s in worker) == 2 * 320
    # The tool's pthread_create wrapper is no frame of the program's.
    frames = [f for s in j["sites"] for f in s["stack"]]
    assert any(f["fn"].startswith("pthread_create") for f in frames)
    assert not any("sh_preload" in f.get("file", "") or "vgpreload_stackheap" in f.get("obj", "")
                   for f in frames), [f for f in frames if "preload" in str(f)]


def test_preload_wrapper_is_not_a_frame(tmp_path):
    """Blocks glibc allocates inside pthread_create are attributed to the
    program's call, not to the tool's wrapper (sh_preload.c)."""
    exe = compile_prog("threads.c")
    r = same_as_native([exe], tmp_path)
    frames = [f for s in r.sites for f in s["stack"]]
    assert any(f["fn"].startswith("pthread_create@@") for f in frames)
    assert not [f for f in frames if "preload" in json.dumps(f)]
    assert "sh_preload" not in r.text


def test_fork_in_threaded_program(tmp_path):
    """The fork child loses the other threads without an exit event; both
    processes write their own report."""
    exe = compile_prog("torture_fork.c")
    r = same_as_native([exe], tmp_path,
                       tool_args=[f"--json-out-file={tmp_path}/fork.%p.json"])
    assert r.returncode == 5
    reports = sorted(tmp_path.glob("fork.*.json"))
    assert len(reports) == 2, reports
    for p in reports:
        check_report(json.loads(p.read_text()))


PY_POOL = """
import concurrent.futures, multiprocessing
def sq(x):
    return x * x
if __name__ == "__main__":
    with multiprocessing.Pool(2) as p:
        print(sum(p.map(sq, range(40))))
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        print(sum(ex.map(sq, range(40))))
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        print(sum(ex.map(sq, range(10))))
"""


def test_python_pool_and_futures(tmp_path):
    script = tmp_path / "pool.py"
    script.write_text(PY_POOL)
    env = {"PYTHONMALLOC": "malloc"}
    args = [f"--json-out-file={tmp_path}/py.%p.json"]
    if os.environ.get("SH_SANITY"):
        # Level 3 re-reads the memory map at every system call: far too
        # slow for Python; level 2 still runs the full check at every
        # thread switch.
        args.append("--sanity-level=2")
    r = same_as_native(["/usr/bin/python3", script], tmp_path, env=env, tool_args=args)
    assert r.stdout.split() == ["20540", "20540", "285"]
    reports = sorted(tmp_path.glob("py.*.json"))
    assert len(reports) >= 3, reports   # the parent and its worker processes
    for p in reports:
        check_report(json.loads(p.read_text()))


# --- buggy programs behave as natively --------------------------------------

def test_read_after_free_survives(tmp_path):
    """Freed memory is held back (big blocks) or never given back (small
    ones, size-class chunks, even after whole arena superblocks' worth are
    freed), so a read after free does not fault where it would not
    natively (memcheck/tests/err_disable3.c)."""
    exe = compile_prog("torture_uaf.c")
    r = same_as_native([exe], tmp_path)
    assert r.returncode == 1
    assert r.stdout == "read after free survived\n"


# --- every option at its limits and beyond ----------------------------------

BANNER = "program ran"


@pytest.mark.parametrize("arg, words", [
    ("--max-stack-block=17179869184g", ["too large"]),
    ("--max-stack-block=99999999999999999999", ["too large"]),
    ("--max-stack-block=9223372036854775808", ["too large"]),
    ("--stack-budget=17179869184g", ["too large"]),
    ("--stack-budget=18446744073709551616", ["too large"]),
    ("--stack-budget=-1", ["Invalid size"]),
    ("--depth=18446744073709551617", ["between 1 and 64"]),
    ("--depth=65", ["between 1 and 64"]),
    ("--depth=", ["Invalid integer"]),
    ("--top=1000001", ["between 0 and 1000000"]),
    ("--top=18446744073709551616", ["between 0 and 1000000"]),
    ("--max-alloc-rate=99999999999999999999", ["between 0 and"]),
    ("--max-alloc-rate=-5", ["between 0 and"]),
    ("--max-eligible-blocks=18446744073709551617", ["between 0 and"]),
    ("--max-escape-rate=nan", ["--max-escape-rate"]),
    ("--max-escape-rate=-0.1", ["between 0 and 1"]),
    ("--json-out-file=%q{SH_SURELY_UNSET_VAR}", ["SH_SURELY_UNSET_VAR", "not set"]),
    ("--json-out-file=r.%z.json", ["--json-out-file", "after '%'"]),
    ("--json-out-file=r.%q", ["expected '{'"]),
    ("--json-out-file=r.%q{HOME", ["missing '}'"]),
    ("--json-out-file=r.%q{}", ["not set"]),
    ("--json-out-file=~/r.json", ["'~'"]),
    ("--xtree-out-file=%q{SH_SURELY_UNSET_VAR}", ["SH_SURELY_UNSET_VAR", "not set"]),
    ("--xtree-out-file=x.%y", ["--xtree-out-file", "after '%'"]),
])
def test_option_beyond_its_limit_stops_before_the_program(tmp_path, arg, words):
    exe = compile_prog("opts.c")
    e = dict(os.environ)
    e.pop("VALGRIND_OPTS", None)
    e.pop("SH_SURELY_UNSET_VAR", None)
    p = subprocess.run([VALGRIND, "--tool=stackheap", arg, str(exe), "4"],
                       capture_output=True, text=True, env=e, timeout=120, cwd=tmp_path)
    assert p.returncode == 1
    assert BANNER not in p.stdout      # the program never started
    assert "Bad option" in p.stderr and arg in p.stderr, p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("--depth=64", "--top=1000000", "--max-stack-block=9223372036854775807",
     "--stack-budget=8589934591g"),
    ("--depth=1", "--top=0", "--max-stack-block=0", "--stack-budget=0",
     "--max-escape-rate=0", "--max-alloc-rate=0", "--max-eligible-blocks=0"),
    ("--max-escape-rate=1", "--max-alloc-rate=9223372036854775807",
     "--max-eligible-blocks=9223372036854775807", "--json-out-file=r.%p.%n.%%.json"),
])
def test_options_at_their_limits(tmp_path, args):
    exe = compile_prog("opts.c")
    json_args = [a for a in args if a.startswith("--json-out-file")]
    tool_args = list(args)
    if json_args:
        tool_args = [a.replace("=r.", f"={tmp_path}/r.") for a in tool_args]
    r = same_as_native([exe, "4"], tmp_path, tool_args=tool_args)
    assert r.returncode == 4
    if json_args:
        got = list(tmp_path.glob("r.*.1.%.json"))
        assert len(got) == 1, list(tmp_path.iterdir())
        check_report(json.loads(got[0].read_text()))
    else:
        assert r.json["totals"]["blocks"] == 112
        if "--max-stack-block=0" in args:
            assert r.json["totals"]["classes"]["too_large"] == 112


# --num-callers=2: the smallest every Valgrind accepts (3.27 refuses 1).
@pytest.mark.parametrize("args", [("--depth=20",), ("--num-callers=4",),
                                  ("--depth=64", "--num-callers=2")])
def test_depth_and_num_callers_are_independent(tmp_path, args):
    """A site keeps --depth frames whatever --num-callers says."""
    exe = compile_prog("torture_deep.c")
    r = same_as_native([exe], tmp_path, tool_args=args)
    depth = int(next((a.split("=")[1] for a in args if a.startswith("--depth")), 12))
    s = [s for s in r.json["sites"] if s["stack"][0]["fn"] == "down"]
    assert sum(x["blocks"] for x in s) == 10
    # the recursions are 41 to 50 calls of down() deep, under main
    assert sorted(len(x["stack"]) for x in s) == \
        ([depth] if depth <= 42 else [min(depth, 42 + i) for i in range(10)])


# --- reports that cannot be written, names that are not UTF-8 ---------------

def _raw(args, cwd=None):
    e = dict(os.environ)
    e.pop("VALGRIND_OPTS", None)
    return subprocess.run([VALGRIND, "--tool=stackheap", *args], capture_output=True,
                          env=e, timeout=120, cwd=cwd)


@pytest.mark.parametrize("quiet", [False, True])
@pytest.mark.parametrize("where, reason", [
    ("/dev/full", "no space left on device"),
    ("{tmp}", "is a directory"),
    ("{tmp}/missing/dir/r.json", "no such file or directory"),
])
def test_unwritable_report_is_said(tmp_path, where, reason, quiet):
    exe = compile_prog("opts.c")
    path = where.format(tmp=tmp_path)
    p = _raw((["-q"] if quiet else []) + [f"--json-out-file={path}", str(exe), "6"])
    err = p.stderr.decode()
    assert p.returncode == 6
    assert p.stdout.decode() == BANNER + "\n"
    assert f"'{path}'" in err and reason in err, err
    # only claim the text report is there when it was printed
    assert ("the text report above is complete" in err) == (not quiet), err
    assert ("Total:" in err) == (not quiet)


def test_non_utf8_program_path_and_arguments(tmp_path):
    """Bytes that are not UTF-8 in argv and in the program's path are
    replaced (U+FFFD) in the JSON, which then parses, also for sh_annotate."""
    exe = compile_prog("opts.c")
    odd_dir = tmp_path / os.fsdecode(b"dir\xff\xfe")
    odd_dir.mkdir()
    odd_exe = odd_dir / os.fsdecode(b"prog\xe9")
    odd_exe.write_bytes(exe.read_bytes())
    odd_exe.chmod(0o755)
    out = tmp_path / "r.json"
    args = [os.fsencode(odd_exe), b"5", b"caf\xe9", b"\xc0\xaf", b"\xed\xa0\x80",
            "ok \u00e9\u4e2d\U0001F600".encode(), b"trunc\xe2\x82"]
    p = _raw([f"--json-out-file={out}"] + args)
    n = subprocess.run(args, capture_output=True)
    assert p.returncode == n.returncode == 5
    assert p.stdout == n.stdout
    raw = out.read_bytes()
    raw.decode("utf-8")                      # strictly valid UTF-8
    j = json.loads(raw)
    check_report(j)
    cmd = j["command"]
    assert "dir\ufffd\ufffd/prog\ufffd" in cmd
    assert "caf\ufffd" in cmd and "\ufffd\ufffd" in cmd
    assert "ok \u00e9\u4e2d\U0001F600" in cmd   # valid UTF-8 kept as is
    assert "trunc\ufffd\ufffd" in cmd
    a = subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "sh_annotate"), str(out)],
                       capture_output=True, text=True, timeout=60)
    assert a.returncode == 0, a.stderr


def test_long_function_names_are_not_cut(tmp_path):
    exe = compile_prog("torture_longname.cc")
    r = same_as_native([exe], tmp_path)
    s = [s for s in r.json["sites"] if s["stack"][0]["fn"].startswith("int long_named_home<")]
    assert len(s) == 1
    name = s[0]["stack"][0]["fn"]
    assert len(name) > 400 and name.endswith(")"), name
    assert [h["fn"] for h in s[0]["homes"]] == [name]
    assert f"could have lived in {name} (depth 0)" in r.text
    sug = r.suggestions(site=s[0])
    assert sug and "long_named_home<" in sug[0]["text"]
    assert "A_tag_type_with_a_deliberately_long_name_for_the_demangler<5> >" in sug[0]["text"]


# --- the tool's own invariants, checked by the core -------------------------

SANITY_PROGS = ["torture_alloc.c", "torture_threads.c", "torture_fork.c", "torture_uaf.c",
                "torture_deep.c", "torture_longname.cc"] + \
    sorted(p.name for p in (ROOT / "tests" / "progs").glob("cls_*.c*"))


@pytest.mark.parametrize("prog", SANITY_PROGS)
def test_sanity_level_3(tmp_path, prog):
    """--sanity-level=3: the shadow stacks, the block index and the class
    counts are checked at every system call and thread switch, and the
    program still behaves as natively."""
    exe = compile_prog(prog, extra=NOWARN if prog == "torture_alloc.c" else ())
    r = same_as_native([exe], tmp_path, tool_args=("--sanity-level=3", "--stats=yes"))
    m = re.search(r"stackheap: ([\d,]+) cheap and ([\d,]+) full sanity checks passed", r.text)
    assert m, r.text[-2000:]
    assert int(m.group(2).replace(",", "")) > 0

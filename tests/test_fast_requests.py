"""The malloc replacements' client requests run from generated code
(sh_clientreq.c, SH_(fast_client_call)) instead of through the scheduler.
That shortcut must change nothing but the speed: every report here is
compared byte for byte with a run that takes the scheduler's round trip
(--fast-alloc-requests=no, a --help-debug option), and --stats=yes says
that the shortcut was taken."""
import re

import pytest

from conftest import compile_prog, run_tool

# (program, its arguments, compile options): every allocation entry point
# (malloc, calloc, realloc, memalign family, usable size, new/delete and
# their aligned forms), bad frees (warnings with stacks), allocation inside
# signal handlers on both stacks, time counted across them, and threads
# that allocate while another one is running.
PROGRAMS = [
    ("alloc_edge.c", (), ()),
    ("alloc_cxx.cc", (), ("-std=c++17",)),
    ("lifetimes.c", (), ()),
    ("bad_free.c", (), ()),
    ("count_time.c", ("signal", "1000"), ()),
    ("count_time.c", ("altstack", "1000"), ()),
    ("sug_reserve.c", ("10",), ()),
    ("hold_tree.c", (), ()),
]


def _run(tmp_path, exe, args, sub, tool_args):
    d = tmp_path / sub
    d.mkdir()
    r = run_tool([exe, *args], tool_args=tool_args, tmp_path=d, json_name="r.json")
    json_text = open(r.json_path).read()
    json_text = re.sub(r'"pid": \d+', '"pid": 0', json_text).replace(str(d), "<d>")
    return r, json_text


@pytest.mark.parametrize("prog,args,extra", PROGRAMS,
                         ids=["%s-%s" % (p, "-".join(a)) for p, a, _ in PROGRAMS])
def test_same_reports_with_and_without_shortcut(tmp_path, prog, args, extra):
    exe = compile_prog(prog, extra=extra)
    fast, fast_json = _run(tmp_path, exe, args, "f", ("--stats=yes",))
    slow, slow_json = _run(tmp_path, exe, args, "s",
                           ("--stats=yes", "--fast-alloc-requests=no"))
    assert fast.returncode == slow.returncode
    assert fast.stdout == slow.stdout
    assert fast_json == slow_json
    strip = lambda t: "\n".join(l for l in t.replace(str(tmp_path), "<t>").splitlines()
                                if not l.startswith("--"))   # (--stats lines)
    assert strip(fast.text) == strip(slow.text)
    taken = lambda r: int(re.search(r"([\d,]+) allocator requests handled without leaving",
                                    r.stderr).group(1).replace(",", ""))
    assert taken(slow) == 0
    assert taken(fast) >= fast.json["totals"]["blocks"]


def test_threads_allocating_at_once(tmp_path):
    """Threads allocate and free while others run (the shortcut keeps the
    running thread's count and filter right at every thread switch):
    the classes and sites are those of the scheduler's path; only
    instruction counts may move with the interleaving."""
    exe = compile_prog("threads.c", extra=("-pthread",))
    fast, _ = _run(tmp_path, exe, (), "f", ("--sanity-level=3",))
    slow, _ = _run(tmp_path, exe, (), "s", ("--sanity-level=3", "--fast-alloc-requests=no"))
    assert fast.returncode == slow.returncode == 0
    key = lambda r: sorted((s["stack"][0]["fn"], s["blocks"], sorted(s["classes"].items()))
                           for s in r.json["sites"])
    assert key(fast) == key(slow)

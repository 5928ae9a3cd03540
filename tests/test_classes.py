"""Block classes, homes and first escapes on small fixture programs.

Each tests/progs/cls_* program exercises one rule of docs/report-format.md
("Class of a block"); every test runs at -O0 and -O2.  Line numbers are
never hard-coded: they are read from marker comments (/* ALLOC-HERE */ ...)
in the fixture sources.  Allocation lines and the lines of escaping stores
are asserted at both levels; fixture functions are __attribute__((noipa))
so that names and frames survive -O2.

Every run is also checked for the report's invariants: classes sum to
blocks (totals and each site), stack_eligible = frame + caller,
escape_rate = 1 - eligible / blocks, homes hold exactly the eligible
blocks, and frames were pushed.
"""
import os
import re
from pathlib import Path

import pytest

from conftest import PROGS, compile_prog, run_tool

OPTS = ["-O0", "-O2"]
CLASSES = ["frame", "caller", "too_large", "global", "heap", "thread", "outlived",
           "never_freed"]


# --- helpers ---------------------------------------------------------------

def line_of(src, marker):
    """1-based line of the unique line of tests/progs/<src> holding /* marker */."""
    lines = (PROGS / src).read_text().splitlines()
    hits = [i + 1 for i, l in enumerate(lines) if f"/* {marker} */" in l]
    assert len(hits) == 1, (src, marker, hits)
    return hits[0]


def base(path):
    return os.path.basename(path) if path else path


def check_invariants(r):
    assert r.returncode == 0, r.text[-3000:]
    assert r.json is not None, r.text[-3000:]
    t = r.totals
    assert set(t["classes"]) == set(CLASSES)
    assert sum(t["classes"].values()) == t["blocks"]
    assert sum(s["blocks"] for s in r.sites) == t["blocks"]
    elig = t["classes"]["frame"] + t["classes"]["caller"]
    assert t["stack_eligible_blocks"] == elig
    want_rate = 1 - elig / t["blocks"] if t["blocks"] else 0
    assert t["escape_rate"] == pytest.approx(want_rate, abs=1e-5)
    assert t["frames"] > 0
    for s in r.sites:
        assert set(s["classes"]) == set(CLASSES), s["stack"][:2]
        assert sum(s["classes"].values()) == s["blocks"], s["stack"][:2]
        # homes: where the eligible blocks could live, every one of them once
        assert sum(h["blocks"] for h in s["homes"]) == \
            s["classes"]["frame"] + s["classes"]["caller"], (s["stack"][:2], s["homes"])
    for c in CLASSES:
        assert sum(s["classes"][c] for s in r.sites) == t["classes"][c], c


_cache = {}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """run(prog, opt, tool_args=(), extra=()) -> Run; one tool run per arguments."""

    def _run(prog, opt, tool_args=(), extra=()):
        key = (prog, opt, tuple(tool_args), tuple(extra))
        if key not in _cache:
            exe = compile_prog(prog, opt=opt, extra=extra)
            tmp = tmp_path_factory.mktemp(Path(prog).stem + opt)
            r = run_tool([exe], tool_args=tool_args, tmp_path=tmp)
            check_invariants(r)
            _cache[key] = r
        return _cache[key]

    return _run


def site_at(r, src, marker, fn=None):
    """The single site whose allocating frame is src at the marker's line."""
    line = line_of(src, marker)
    found = [s for s in r.sites
             if base(s["stack"][0].get("file")) == src and s["stack"][0].get("line") == line]
    assert len(found) == 1, (src, marker, line, [s["stack"][:2] for s in r.sites])
    if fn is not None:
        assert found[0]["stack"][0]["fn"] == fn
    return found[0]


def only(site, cls, n):
    """All n blocks of the site are of class cls."""
    assert site["blocks"] == n, site["classes"]
    assert site["classes"][cls] == n, site["classes"]


def assert_escape(site, cls, fn, src=None, marker=None, target=None, target_re=None):
    fe = site["first_escape"]
    assert fe is not None, site["stack"][:2]
    assert fe["class"] == cls, fe
    if isinstance(fn, re.Pattern):
        assert fn.search(fe["at"]["fn"]), fe
    else:
        assert fe["at"]["fn"] == fn, fe
    if marker is not None:
        assert base(fe["at"].get("file")) == src, fe
        assert fe["at"].get("line") == line_of(src, marker), fe
    if target is not None:
        assert fe["target"] == target, fe
    if target_re is not None:
        assert re.search(target_re, fe["target"]), fe


# --- frame and caller ------------------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_local_malloc_free_is_frame(run, opt):
    r = run("cls_local.c", opt)
    s = site_at(r, "cls_local.c", "ALLOC-HERE", fn="local_buf")
    only(s, "frame", 3)
    assert s["homes"] == [{"depth": 0, "fn": "local_buf", "blocks": 3}]
    assert s["first_escape"] is None
    assert s["stack"][1]["fn"] == "main"


@pytest.mark.parametrize("opt", OPTS)
def test_freed_by_a_callee_is_frame(run, opt):
    r = run("cls_local.c", opt)
    s = site_at(r, "cls_local.c", "ALLOC-CALLEE-FREES", fn="freed_by_callee")
    only(s, "frame", 2)
    assert s["homes"] == [{"depth": 0, "fn": "freed_by_callee", "blocks": 2}]
    assert s["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_main_is_a_home(run, opt):
    r = run("cls_local.c", opt)
    s = site_at(r, "cls_local.c", "ALLOC-MAIN", fn="main")
    only(s, "frame", 1)
    assert s["homes"] == [{"depth": 0, "fn": "main", "blocks": 1}]
    assert r.totals["classes"]["frame"] == 6
    assert r.totals["blocks"] == 6
    assert r.totals["stack_eligible_bytes"] == 3 * 32 + 2 * 36 + 8
    assert r.totals["escape_rate"] == 0


@pytest.mark.parametrize("opt", OPTS)
def test_callee_allocates_caller_frees(run, opt):
    r = run("cls_caller.c", opt)
    s = site_at(r, "cls_caller.c", "ALLOC-MAKE", fn="make_buf")
    only(s, "caller", 2)
    assert s["homes"] == [{"depth": 1, "fn": "consumer", "blocks": 2}]
    assert s["first_escape"] is None
    assert s["stack"][1]["fn"] == "consumer"


@pytest.mark.parametrize("opt", OPTS)
def test_out_parameter_into_callers_local(run, opt):
    r = run("cls_caller.c", opt)
    s = site_at(r, "cls_caller.c", "ALLOC-OUT", fn="make_out")
    only(s, "caller", 4)
    assert s["homes"] == [{"depth": 1, "fn": "out_user", "blocks": 4}]
    assert s["first_escape"] is None      # stack stores are not escapes


@pytest.mark.parametrize("opt", OPTS)
def test_address_stored_in_callers_local_then_freed_locally(run, opt):
    """Freed by the allocating function, but its address was stored in the
    caller's frame: not frame (a store outside that frame), caller."""
    r = run("cls_caller.c", opt)
    s = site_at(r, "cls_caller.c", "ALLOC-UP", fn="store_up_then_free")
    only(s, "caller", 1)
    assert s["homes"] == [{"depth": 1, "fn": "up_owner", "blocks": 1}]
    assert s["first_escape"] is None
    assert r.totals["classes"]["caller"] == 7
    assert r.totals["blocks"] == 7


@pytest.mark.parametrize("opt", OPTS)
def test_pointer_kept_in_callee_locals_is_frame(run, opt):
    r = run("cls_callee_local.c", opt)
    s = site_at(r, "cls_callee_local.c", "ALLOC-HERE", fn="owner")
    only(s, "frame", 2)
    assert s["homes"] == [{"depth": 0, "fn": "owner", "blocks": 2}]
    assert s["first_escape"] is None


# --- global ----------------------------------------------------------------

GLOBAL_CASES = [
    # (alloc marker, allocating fn, escape marker, target: exact text, or re.Pattern)
    ("ALLOC-GLOBAL", "to_global", "ESCAPE-GLOBAL", "global variable 'g_ptr'"),
    ("ALLOC-STATIC", "to_static", "ESCAPE-STATIC", "global variable 's_ptr'"),
    # GCC names a function-local static "fs_ptr.0"
    ("ALLOC-FNSTATIC", "to_fn_static", "ESCAPE-FNSTATIC",
     re.compile(r"^global variable 'fs_ptr(\.\d+)?'$")),
    ("ALLOC-INTERIOR", "to_interior", "ESCAPE-INTERIOR", "global variable 'g_interior'"),
    # the main thread's TLS block has no symbol: described, not named
    ("ALLOC-TLS", "to_tls", "ESCAPE-TLS", re.compile(r"TLS")),
    ("ALLOC-SMALL", "copy_small", "ESCAPE-SMALL", "global variable 'g_holder' (offset 8)"),
    ("ALLOC-VEC", "store_vec", "ESCAPE-VEC", "global variable 'g_pair'"),
    ("ALLOC-MMAP", "to_mmap", "ESCAPE-MMAP", re.compile(r"mmap")),
    # above the main thread's starting SP (the format's rule); any words but "stack"
    ("ALLOC-ARGV", "to_argv", "ESCAPE-ARGV", re.compile(r"^(?!.*stack of).+")),
]


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize("alloc,fn,esc,target", GLOBAL_CASES,
                         ids=[c[1] for c in GLOBAL_CASES])
def test_global_escape(run, opt, alloc, fn, esc, target):
    r = run("cls_global.c", opt)
    s = site_at(r, "cls_global.c", alloc, fn=fn)
    only(s, "global", 1)
    assert s["homes"] == []
    if isinstance(target, re.Pattern):
        assert_escape(s, "global", fn, "cls_global.c", esc, target_re=target)
    else:
        assert_escape(s, "global", fn, "cls_global.c", esc, target=target)


@pytest.mark.parametrize("opt", OPTS)
def test_rep_movsb_copy_into_global(run, opt):
    """An explicit `rep movsb` copying 200 structs (4800 bytes) into a global."""
    r = run("cls_global.c", opt)
    s = site_at(r, "cls_global.c", "ALLOC-REP", fn="rep_elem")
    only(s, "global", 200)
    assert s["homes"] == []
    assert_escape(s, "global", "copy_rep", "cls_global.c", "ESCAPE-REP",
                  target="global variable 'g_rep' (offset 8)")


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize("alloc,fn,n,glob", [("ALLOC-MID", "mid_elem", 40, "g_mid"),
                                             ("ALLOC-BIG", "big_elem", 400, "g_big")],
                         ids=["960_bytes", "9600_bytes"])
def test_memcpy_array_of_structs_into_global(run, opt, alloc, fn, n, glob):
    """glibc's memcpy (vector loops; rep movsb above its threshold) copying an
    array of structs that hold heap pointers into a global array."""
    r = run("cls_global.c", opt)
    s = site_at(r, "cls_global.c", alloc, fn=fn)
    only(s, "global", n)
    # Which element memcpy writes first depends on its strategy: the variable only.
    assert_escape(s, "global", re.compile(r"mem(cpy|move)"),
                  target_re=rf"^global variable '{glob}'( \(offset \d+\))?$")


@pytest.mark.parametrize("opt", OPTS)
def test_global_totals(run, opt):
    r = run("cls_global.c", opt)
    assert r.totals["blocks"] == 9 + 200 + 40 + 400
    assert r.totals["classes"]["global"] == r.totals["blocks"]
    assert r.totals["escape_rate"] == 1


# --- heap ------------------------------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_pointer_stored_in_eligible_holder_stays_frame(run, opt):
    # stackheap-2: the holder is itself freed in to_heap with no escape, so
    # the data it held could live in to_heap's frame too (before: heap).
    # Holders that cannot move are tested in tests/test_holders.py.
    r = run("cls_heap.c", opt)
    data = site_at(r, "cls_heap.c", "ALLOC-DATA", fn="to_heap")
    only(data, "frame", 1)
    assert data["homes"] == [{"depth": 0, "fn": "to_heap", "blocks": 1}]
    assert data["first_escape"] is None
    holder = site_at(r, "cls_heap.c", "ALLOC-HOLDER", fn="to_heap")
    only(holder, "frame", 1)
    assert holder["homes"] == [{"depth": 0, "fn": "to_heap", "blocks": 1}]


@pytest.mark.parametrize("opt", OPTS)
def test_self_pointing_block_stays_frame(run, opt):
    r = run("cls_heap.c", opt)
    s = site_at(r, "cls_heap.c", "ALLOC-SELF", fn="self_ptr")
    only(s, "frame", 2)
    assert s["homes"] == [{"depth": 0, "fn": "self_ptr", "blocks": 2}]
    assert s["first_escape"] is None
    assert r.totals["classes"]["heap"] == 0
    assert r.totals["classes"]["frame"] == 4


# --- never_freed, too_large, outlived --------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_never_freed(run, opt):
    r = run("cls_never.c", opt)
    s = site_at(r, "cls_never.c", "ALLOC-HERE", fn="leak")
    only(s, "never_freed", 2)
    assert s["homes"] == []
    assert s["first_escape"] is None
    assert r.totals["escape_rate"] == 1


@pytest.mark.parametrize("opt", OPTS)
def test_too_large_by_default(run, opt):
    r = run("cls_large.c", opt)
    assert r.json["options"]["max-stack-block"] == 4096
    s = site_at(r, "cls_large.c", "ALLOC-HERE", fn="big_local")
    only(s, "too_large", 1)
    assert s["homes"] == []            # too_large blocks are not eligible
    assert s["first_escape"] is None
    assert r.totals["stack_eligible_blocks"] == 0


@pytest.mark.parametrize("opt", OPTS)
def test_max_stack_block_makes_it_frame(run, opt):
    r = run("cls_large.c", opt, tool_args=("--max-stack-block=16384",))
    assert r.json["options"]["max-stack-block"] == 16384
    s = site_at(r, "cls_large.c", "ALLOC-HERE", fn="big_local")
    only(s, "frame", 1)
    assert s["homes"] == [{"depth": 0, "fn": "big_local", "blocks": 1}]
    assert r.totals["stack_eligible_bytes"] == 8192


@pytest.mark.parametrize("opt", OPTS)
def test_freed_in_atexit_handler_is_outlived(run, opt):
    r = run("cls_atexit.c", opt)
    s = site_at(r, "cls_atexit.c", "ALLOC-HERE", fn="make_hidden")
    only(s, "outlived", 1)
    assert s["homes"] == []
    assert s["first_escape"] is None
    assert r.totals["blocks"] == 1


# --- threads ---------------------------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_freed_by_another_thread(run, opt):
    r = run("cls_thread_free.c", opt, extra=("-Wl,-z,now",))
    kept = site_at(r, "cls_thread_free.c", "ALLOC-KEPT", fn="sender")
    only(kept, "thread", 1)
    assert kept["homes"] == []
    assert_escape(kept, "thread", "freer", "cls_thread_free.c", "ESCAPE-HERE",
                  target_re=r"^stack of thread \d+$")
    # Only ever in registers in the other thread, which frees it: thread, and
    # there was no escaping store (the free() replacement's own copy of the
    # pointer is not one).
    bare = site_at(r, "cls_thread_free.c", "ALLOC-BARE", fn="sender")
    only(bare, "thread", 1)
    assert bare["homes"] == []
    assert bare["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_pthread_create_argument_is_thread(run, opt):
    r = run("cls_thread_arg.c", opt)
    s = site_at(r, "cls_thread_arg.c", "ALLOC-HERE", fn="handoff")
    only(s, "thread", 1)
    assert s["homes"] == []
    assert_escape(s, "thread", "handoff", "cls_thread_arg.c", "ESCAPE-HERE",
                  target="handed to a new thread by pthread_create")


@pytest.mark.parametrize("opt", OPTS)
def test_global_queue_to_other_thread_is_global(run, opt):
    r = run("cls_thread_queue.c", opt)
    s = site_at(r, "cls_thread_queue.c", "ALLOC-HERE", fn="producer")
    only(s, "global", 1)        # global wins over "another thread freed it"
    assert s["homes"] == []
    assert_escape(s, "global", "producer", "cls_thread_queue.c", "ESCAPE-HERE",
                  target="global variable 'g_queue'")


@pytest.mark.parametrize("opt", OPTS)
def test_thread_start_routine_is_a_home(run, opt):
    r = run("cls_thread_start.c", opt)
    s = site_at(r, "cls_thread_start.c", "ALLOC-START", fn="start_local")
    only(s, "frame", 1)
    assert s["homes"] == [{"depth": 0, "fn": "start_local", "blocks": 1}]
    assert s["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_tls_of_a_thread_is_global(run, opt):
    """A non-main thread's TLS block lies above its stack: not stack."""
    r = run("cls_thread_start.c", opt)
    s = site_at(r, "cls_thread_start.c", "ALLOC-TLS", fn="start_tls")
    only(s, "global", 1)
    assert_escape(s, "global", "start_tls", "cls_thread_start.c", "ESCAPE-TLS",
                  target_re=r"^thread-local storage or descriptor of thread \d+$")


# --- non-local control flow ------------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_longjmp_past_allocating_frame(run, opt):
    """Allocated in thrower (main > middle > thrower), address stored in
    main's local, longjmp to main, freed there: the innermost frame of the
    allocation stack still alive at the free is main, depth 2."""
    r = run("cls_longjmp.c", opt)
    s = site_at(r, "cls_longjmp.c", "ALLOC-HERE", fn="thrower")
    assert [f["fn"] for f in s["stack"][:3]] == ["thrower", "middle", "main"]
    only(s, "caller", 1)
    assert s["homes"] == [{"depth": 2, "fn": "main", "blocks": 1}]
    assert s["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_allocation_in_signal_handler(run, opt):
    r = run("cls_signal.c", opt)
    s = site_at(r, "cls_signal.c", "ALLOC-HERE", fn="on_usr1")
    only(s, "frame", 2)
    assert s["homes"] == [{"depth": 0, "fn": "on_usr1", "blocks": 2}]
    assert s["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_allocation_in_signal_handler_on_altstack(run, opt):
    r = run("cls_signal.c", opt)
    s = site_at(r, "cls_signal.c", "ALLOC-ALT", fn="on_usr2")
    only(s, "frame", 3)
    assert s["homes"] == [{"depth": 0, "fn": "on_usr2", "blocks": 3}]
    assert s["first_escape"] is None
    assert r.totals["classes"]["frame"] == 5


@pytest.mark.parametrize("opt", OPTS)
def test_exception_through_unique_ptr_frame(run, opt):
    """unique_ptr<Obj> in holder(); thrower() throws through it; the block is
    deleted by the landing pad during unwinding: frame, in holder."""
    r = run("cls_exception.cc", opt)
    s = site_at(r, "cls_exception.cc", "ALLOC-HERE", fn="holder(int)")
    only(s, "frame", 3)
    assert s["homes"] == [{"depth": 0, "fn": "holder(int)", "blocks": 3}]
    assert s["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_exception_callee_block_in_callers_unique_ptr(run, opt):
    """reset_and_throw() puts a new Obj into catcher()'s unique_ptr and throws;
    catcher() catches and the unique_ptr frees it on scope exit: caller."""
    r = run("cls_exception.cc", opt)
    s = site_at(r, "cls_exception.cc", "ALLOC-RESET")
    assert s["stack"][0]["fn"].startswith("reset_and_throw(")
    only(s, "caller", 2)
    assert s["homes"] == [{"depth": 1, "fn": "catcher(int)", "blocks": 2}]
    assert s["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_deep_recursion(run, opt):
    r = run("cls_recursion.c", opt)
    line = line_of("cls_recursion.c", "ALLOC-HERE")
    rec = [s for s in r.sites if s["stack"][0]["fn"] == "rec"]
    assert rec and all(s["stack"][0]["line"] == line for s in rec)
    assert sum(s["blocks"] for s in rec) == 10000
    assert sum(s["classes"]["frame"] for s in rec) == 10000
    for s in rec:
        assert s["homes"] == [{"depth": 0, "fn": "rec", "blocks": s["blocks"]}]
        assert s["first_escape"] is None
    assert r.totals["blocks"] == 10000
    assert r.totals["classes"]["frame"] == 10000
    assert r.totals["max_stack_depth"] >= 10000
    assert r.totals["frames"] >= 10000


# --- stack switches ----------------------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_coroutine_stack_switches(run, opt):
    r = run("cls_coroutine.c", opt)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "coroutine 5 8\n"
    line = line_of("cls_coroutine.c", "BEFORE-AFTER")
    local = [s for s in r.sites if base(s["stack"][0].get("file")) == "cls_coroutine.c"
             and s["stack"][0].get("line") == line]
    # before() and after() are two sites (different callers); both frame,
    # so the main stack's shadow frames survived the switches.
    by_caller = {s["stack"][1]["fn"]: s for s in local}
    for caller in ("before", "after"):
        only(by_caller[caller], "frame", 3)
        assert by_caller[caller]["homes"] == [{"depth": 0, "fn": "local_work", "blocks": 3}]
    co = site_at(r, "cls_coroutine.c", "CORO", fn="in_coroutine")
    assert co["blocks"] == 5
    # never a false "eligible" for blocks of a stack the tool cannot follow
    assert co["classes"]["frame"] == 0 and co["classes"]["caller"] == 0
    assert r.totals["off_stack_blocks"] == 5

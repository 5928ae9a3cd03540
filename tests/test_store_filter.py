"""The inline store filter's inputs (docs/manual.md, generated code).

Generated code reads the heap's bounds and the innermost frame's range from
a copy in the running thread's shadow guest state, and the store helper
reads the store's code location from the guest RIP where the IR shows that
RIP holds it.  These runs would go wrong if a copy went stale (bounds grown
in a signal handler or by another thread) or if a location were read from a
RIP that lags (a superblock's first instruction, a compare-and-swap, the
second copy of an unrolled loop).  Line numbers come from marker comments.
"""
import pytest

from conftest import compile_prog, run_tool
from test_classes import assert_escape, check_invariants, line_of, only, site_at

OPTS = ["-O0", "-O2"]
SANITY = [(), ("--sanity-level=3",)]


def run(tmp_path, prog, opt, tool_args=()):
    exe = compile_prog(prog, opt=opt)
    r = run_tool([exe], tool_args=tool_args, tmp_path=tmp_path)
    check_invariants(r)
    assert "sanity check failed" not in r.text, r.text[-3000:]
    return r


@pytest.mark.parametrize("opt", OPTS)
def test_store_locations_read_from_rip(tmp_path, opt):
    src = "filter_store_ip.c"
    r = run(tmp_path, src, opt)
    s = site_at(r, src, "ALLOC-FIRST")
    only(s, "global", 1)
    assert_escape(s, "global", "publish", src, "ESCAPE-FIRST", target="global variable 'g_first'")
    s = site_at(r, src, "ALLOC-CAS")
    only(s, "global", 1)
    assert_escape(s, "global", "cas_in", src, "ESCAPE-CAS", target="global variable 'g_cas'")
    # a compare-and-swap that fails stores nothing
    s = site_at(r, src, "ALLOC-CAS-FAILS")
    only(s, "frame", 1)
    assert s["first_escape"] is None
    # the third pass of the loop stores first: (at -O2) at the start of the
    # unrolled loop's second copy, where RIP is still at the `while` line
    s = site_at(r, src, "ALLOC-LOOP")
    only(s, "global", 1)
    assert_escape(s, "global", "spread", src, "ESCAPE-LOOP",
                  target="global variable 'g_arr' (offset 16)")


@pytest.mark.parametrize("mode", ["sp-at-mem-access", "allregs-at-each-insn"])
def test_store_locations_whatever_rip_updates(tmp_path, mode):
    """Where VEX lets RIP lag (sp-at-mem-access drops its writes before
    memory accesses) the helper is given the location as a constant: the
    report is the default mode's."""
    src = "filter_store_ip.c"
    (tmp_path / "default").mkdir()
    (tmp_path / "other").mkdir()
    base = run(tmp_path / "default", src, "-O2")
    other = run(tmp_path / "other", src, "-O2", (f"--vex-iropt-register-updates={mode}",))
    assert other.json["sites"] == base.json["sites"]
    assert other.totals == base.totals


@pytest.mark.parametrize("tool_args", SANITY, ids=["default", "sanity3"])
@pytest.mark.parametrize("opt", OPTS)
def test_heap_grown_in_signal_handler(tmp_path, opt, tool_args):
    """The handler's return restores the shadow state saved when it was
    delivered: the bounds the handler's allocation grew must still be the
    ones main's store is checked against."""
    src = "filter_signal_heap.c"
    r = run(tmp_path, src, opt, tool_args)
    s = site_at(r, src, "ALLOC-IN-HANDLER", fn="on_usr1")
    only(s, "global", 1)
    assert_escape(s, "global", "publish", src, "ESCAPE-AFTER-HANDLER",
                  target="global variable 'g_after'")
    only(site_at(r, src, "ALLOC-SMALL"), "frame", 1)


@pytest.mark.parametrize("tool_args", SANITY, ids=["default", "sanity3"])
@pytest.mark.parametrize("opt", OPTS)
def test_heap_grown_by_another_thread(tmp_path, opt, tool_args):
    """main grows the bounds while the worker waits in read(): the worker's
    store of the new block's address (it got it through a pipe) is checked
    against them."""
    src = "filter_thread_heap.c"
    r = run(tmp_path, src, opt, tool_args)
    s = site_at(r, src, "ALLOC-BIG", fn="main")
    only(s, "global", 1)
    fe = s["first_escape"]
    assert fe is not None and fe["at"]["fn"] == "publish", fe
    # at -O0 publish() first spills its argument into its own frame, on the
    # worker's stack: a thread escape, before the global one
    if opt == "-O2":
        assert_escape(s, "global", "publish", src, "ESCAPE-IN-WORKER",
                      target="global variable 'g_from_worker'")
    else:
        assert fe["class"] == "thread", fe
    only(site_at(r, src, "ALLOC-WORKER", fn="worker"), "frame", 1)

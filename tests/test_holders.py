"""Reachability through holders (format stackheap-2).

A block whose address was stored only into heap blocks that can
themselves live on the stack is eligible too, with the outermost of its
own home and its holders' homes; a holder that cannot move (global,
thread, never freed, ...) keeps what it held `heap`, and first_escape
names the holder and why it could not move.  Fixtures: tests/progs/hold_*;
every case at -O0 and -O2.  Line numbers come from marker comments.
"""
import json
from pathlib import Path

import pytest

from conftest import compile_prog, run_tool
from test_classes import check_invariants, line_of, only, site_at

OPTS = ["-O0", "-O2"]

_cache = {}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """run(prog, opt, prog_args=()) -> Run; one tool run per arguments."""

    def _run(prog, opt, prog_args=()):
        key = (prog, opt, tuple(prog_args))
        if key not in _cache:
            exe = compile_prog(prog, opt=opt)
            tmp = tmp_path_factory.mktemp(Path(prog).stem + opt)
            r = run_tool([exe, *prog_args], tmp_path=tmp)
            check_invariants(r)
            _cache[key] = r
        return _cache[key]

    return _run


def homes(site):
    return [(h["depth"], h["fn"], h["blocks"]) for h in site["homes"]]


def sites_at(r, src, marker):
    line = line_of(src, marker)
    return [s for s in r.sites
            if s["stack"][0].get("file", "").endswith(src) and s["stack"][0].get("line") == line]


def heap_target(src, holder_fn, holder_marker, why):
    return (f"heap block allocated at {holder_fn} ({src}:{line_of(src, holder_marker)}), "
            f"which {why}")


# --- eligible through holders -----------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_pointer_array_and_its_strings_are_frame(run, opt):
    r = run("hold_array.c", opt)
    strs = site_at(r, "hold_array.c", "ALLOC-STR", fn="tmp_array")
    arr = site_at(r, "hold_array.c", "ALLOC-ARR", fn="tmp_array")
    only(arr, "frame", 2)
    only(strs, "frame", 8)          # freed before the array: judged when it was
    assert homes(strs) == [(0, "tmp_array", 8)]
    assert strs["first_escape"] is None
    assert r.totals["holders_overflowed"] == 0
    assert r.json["format"] == "stackheap-2"


@pytest.mark.parametrize("opt", OPTS)
def test_tree_with_parent_and_sibling_links_is_eligible(run, opt):
    r = run("hold_tree.c", opt)
    nodes = [s for s in r.sites if s["stack"][0]["fn"] == "new_node"]
    assert sum(s["blocks"] for s in nodes) == 13
    for s in nodes:
        only(s, "caller", s["blocks"])
        assert homes(s) == [(1, "build_and_free", s["blocks"])]
        assert s["first_escape"] is None
    assert r.totals["classes"]["heap"] == 0


@pytest.mark.parametrize("opt", OPTS)
def test_object_with_back_pointers_is_eligible(run, opt):
    r = run("hold_backptr.cc", opt)
    doc = site_at(r, "hold_backptr.cc", "ALLOC-DOC")
    assert doc["stack"][0]["fn"].startswith("work")
    only(doc, "frame", 3)
    for m in ("ALLOC-PART1", "ALLOC-PART2"):
        part = site_at(r, "hold_backptr.cc", m)
        only(part, "caller", 3)       # home: work(), which new'd and deleted the Doc
        assert [(d, f.split("(")[0], n) for d, f, n in homes(part)] == [(1, "work", 3)]
        assert part["first_escape"] is None


@pytest.mark.parametrize("opt", OPTS)
def test_list_built_by_callee_freed_by_caller(run, opt):
    r = run("hold_list.c", opt)
    head = site_at(r, "hold_list.c", "ALLOC-HEAD", fn="make_list")
    items = site_at(r, "hold_list.c", "ALLOC-ITEM", fn="make_list")
    only(head, "caller", 1)
    only(items, "caller", 3)
    assert homes(items) == [(1, "use_list", 3)]
    assert homes(head) == [(1, "use_list", 1)]


@pytest.mark.parametrize("opt", OPTS)
def test_record_parked_in_outer_table_has_the_outer_home(run, opt):
    r = run("hold_park.c", opt)
    rec = site_at(r, "hold_park.c", "ALLOC-REC", fn="step")
    table = site_at(r, "hold_park.c", "ALLOC-TABLE", fn="run")
    only(table, "frame", 1)
    # Freed inside step(), but it sat in run()'s table: home run(), not step().
    only(rec, "caller", 3)
    assert homes(rec) == [(1, "run", 3)]


# --- guards: holders that cannot move -----------------------------------------

@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize("when", ["AFTER", "BEFORE"])
def test_holder_stored_in_global(run, opt, when):
    fn = "global_" + when.lower()
    r = run("hold_guards.c", opt)
    box = site_at(r, "hold_guards.c", f"ALLOC-BOX-{when}", fn=fn)
    items = site_at(r, "hold_guards.c", f"ALLOC-ITEM-{when}", fn=fn)
    only(box, "global", 1)
    only(items, "heap", 3)
    assert items["homes"] == []
    fe = items["first_escape"]
    assert fe["class"] == "heap" and fe["at"]["fn"] == fn
    assert fe["at"]["line"] == line_of("hold_guards.c", f"ALLOC-ITEM-{when}")   # the store
    assert fe["target"] == heap_target("hold_guards.c", fn, f"ALLOC-BOX-{when}",
                                       "was stored in global variable 'g_box'")


@pytest.mark.parametrize("opt", OPTS)
def test_cycle_with_one_escaping_member(run, opt):
    r = run("hold_guards.c", opt)
    a = site_at(r, "hold_guards.c", "ALLOC-PAIR-A", fn="cycle_escape")
    b = site_at(r, "hold_guards.c", "ALLOC-PAIR-B", fn="cycle_escape")
    only(a, "global", 1)
    only(b, "heap", 1)
    fe = b["first_escape"]
    assert fe["at"]["fn"] == "link_pair"
    assert fe["at"]["line"] == line_of("hold_guards.c", "LINK")
    assert fe["target"] == heap_target("hold_guards.c", "cycle_escape", "ALLOC-PAIR-A",
                                       "was stored in global variable 'g_a'")


@pytest.mark.parametrize("opt", OPTS)
def test_holder_never_freed(run, opt):
    r = run("hold_guards.c", opt)
    box = site_at(r, "hold_guards.c", "ALLOC-BOX-LEAK", fn="leaked_holder")
    items = site_at(r, "hold_guards.c", "ALLOC-ITEM-LEAK", fn="leaked_holder")
    only(box, "never_freed", 1)
    only(items, "heap", 3)
    assert items["first_escape"]["target"] == heap_target(
        "hold_guards.c", "leaked_holder", "ALLOC-BOX-LEAK", "was never freed")
    # Nothing else in the program is heap (box and items of chain() below).
    assert r.totals["classes"]["heap"] == 3 + 3 + 3 + 1 + 1 + 3


@pytest.mark.parametrize("opt", OPTS)
def test_chain_of_holders_names_both_levels(run, opt):
    r = run("hold_guards.c", opt)
    only(site_at(r, "hold_guards.c", "ALLOC-OUTER", fn="chain"), "global", 1)
    box = site_at(r, "hold_guards.c", "ALLOC-BOX-CHAIN", fn="chain")
    items = site_at(r, "hold_guards.c", "ALLOC-ITEM-CHAIN", fn="chain")
    only(box, "heap", 1)
    only(items, "heap", 3)
    outer_line = line_of("hold_guards.c", "ALLOC-OUTER")
    assert box["first_escape"]["target"] == heap_target(
        "hold_guards.c", "chain", "ALLOC-OUTER", "was stored in global variable 'g_outer'")
    assert items["first_escape"]["target"] == heap_target(
        "hold_guards.c", "chain", "ALLOC-BOX-CHAIN",
        f"was stored into a heap block allocated at chain (hold_guards.c:{outer_line}), "
        "which was stored in global variable 'g_outer'")


@pytest.mark.parametrize("opt", OPTS)
def test_holder_handed_to_a_thread(run, opt):
    r = run("hold_thread.c", opt)
    box = site_at(r, "hold_thread.c", "ALLOC-BOX", fn="handoff")
    only(box, "thread", 1)
    for m in ("ALLOC-ITEM", "ALLOC-ITEM2"):
        items = site_at(r, "hold_thread.c", m, fn="handoff")
        only(items, "heap", 1)
        assert items["first_escape"]["target"] == heap_target(
            "hold_thread.c", "handoff", "ALLOC-BOX",
            "was handed to a new thread by pthread_create")


# --- bounded bookkeeping --------------------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_too_many_holders_fall_back_to_heap_and_are_counted(run, opt):
    r = run("hold_overflow.c", opt, ("33",))
    target = site_at(r, "hold_overflow.c", "ALLOC-TARGET", fn="overflow")
    holders = site_at(r, "hold_overflow.c", "ALLOC-HOLDER", fn="overflow")
    only(holders, "frame", 33)
    only(target, "heap", 1)
    assert "too many" in target["first_escape"]["target"]
    assert r.totals["holders_overflowed"] == 1
    assert "Holders:   1 blocks had more holders than tracked" in r.text
    # 32 holders are still tracked exactly.
    r8 = run("hold_overflow.c", opt, ("32",))
    only(site_at(r8, "hold_overflow.c", "ALLOC-TARGET"), "frame", 1)
    assert r8.totals["holders_overflowed"] == 0
    assert "Holders:" not in r8.text


@pytest.mark.parametrize("opt", OPTS)
def test_full_holder_array_makes_room_from_judged_holders(run, opt):
    r = run("hold_overflow.c", opt, ("32",))
    good = site_at(r, "hold_overflow.c", "ALLOC-COMPACT-GOOD", fn="compact_good")
    only(good, "frame", 1)
    assert homes(good) == [(0, "compact_good", 1)]
    bad = site_at(r, "hold_overflow.c", "ALLOC-COMPACT-BAD", fn="compact_bad")
    only(bad, "heap", 1)
    assert bad["first_escape"]["target"] == heap_target(
        "hold_overflow.c", "compact_bad", "ALLOC-COMPACT-HOLDER",
        "was stored in global variable 'g_holder'")
    assert r.totals["holders_overflowed"] == 0


@pytest.mark.parametrize("opt", OPTS)
def test_waiting_blocks_are_capped(run, opt):
    n = 70000
    r = run("hold_overflow.c", opt, ("32", str(n)))
    parked = site_at(r, "hold_overflow.c", "ALLOC-PARKED", fn="park_many")
    cap = 1 << 16
    assert parked["classes"]["frame"] == cap
    assert parked["classes"]["heap"] == n - cap
    assert r.totals["holders_overflowed"] == n - cap


# --- dumps ------------------------------------------------------------------------

@pytest.mark.parametrize("opt", OPTS)
def test_dump_counts_waiting_blocks_as_heap_then_final_report_is_exact(opt, tmp_path):
    exe = compile_prog("hold_dump.c", opt=opt)
    r = run_tool([exe], tmp_path=tmp_path)
    check_invariants(r)
    dump = json.loads((tmp_path / "out.1.json").read_text())
    assert dump["label"] == "waiting"
    strs = [s for s in dump["sites"] if s["stack"][0]["line"] == line_of("hold_dump.c", "ALLOC-STR")]
    arr = [s for s in dump["sites"] if s["stack"][0]["line"] == line_of("hold_dump.c", "ALLOC-ARR")]
    # As if the program ended at the dump: the array is never freed, the
    # strings waiting on it are heap.
    assert strs[0]["classes"]["heap"] == 3 and arr[0]["classes"]["never_freed"] == 1
    assert sum(dump["totals"]["classes"].values()) == dump["totals"]["blocks"] == 4
    # The final report: the array was freed in its frame, and so all are frame.
    only(site_at(r, "hold_dump.c", "ALLOC-STR"), "frame", 3)
    only(site_at(r, "hold_dump.c", "ALLOC-ARR"), "frame", 1)
    assert r.totals["classes"]["heap"] == 0

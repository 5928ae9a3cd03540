"""The program's memory (stackheap/sh_heap.c): small requests come from
size-class free lists carved from slabs, the others from the core's arena.
The fixture checks, inside the program, what must hold for any malloc
(alignment, no overlap, calloc zero even on reused memory, realloc keeps
contents, malloc_usable_size is the size asked for); the tests check the
verdicts of blocks whose addresses are reused, and the allocator's own
invariants under --sanity-level=3.
"""
import re

import pytest

from conftest import compile_prog, run_tool


def classes_of(r, fn):
    found = [s for s in r.json["sites"] if s["stack"][0]["fn"] == fn]
    assert len(found) == 1, fn
    return {c: n for c, n in found[0]["classes"].items() if n}


@pytest.mark.parametrize("tool_args, reused, step", [
    ((), True, 1),
    # every request then goes to the arena (over-aligned for the classes)
    (("--alignment=64",), False, 1),
    # the full checks walk every block: every 7th size only
    (("--sanity-level=3", "--stats=yes"), True, 7),
])
def test_size_classes_behave_as_malloc(tmp_path, tool_args, reused, step):
    exe = compile_prog("heap_classes.c")
    r = run_tool([exe, step], tool_args=tool_args, tmp_path=tmp_path)
    assert r.returncode == 0, r.stdout + r.text[-3000:]
    lines = r.stdout.splitlines()
    assert lines[:3] == ["sizes checked", "reuse checked", "chains checked"], r.stdout
    if reused:
        # LIFO free lists: the next block of a size gets the last freed one
        assert lines[3:] == ["same address", "same address"]
    assert "Warning" not in r.text and "sanity check failed" not in r.text, r.text[-3000:]
    t = r.json["totals"]
    assert t["bad_frees"] == 0
    assert t["classes"]["never_freed"] == 0
    # A block freed and its memory given to another site: each keeps its own
    # verdict (the stale pointers left behind name the old block).
    assert classes_of(r, "escape_then_free") == {"global": 1}
    assert classes_of(r, "reuse_in_frame") == {"frame": 1}
    assert classes_of(r, "holder_then_free") == {"caller": 1}
    assert classes_of(r, "reuse_after_holder") == {"frame": 1}
    # A pointer just past a block's end does not point at the next block.
    assert classes_of(r, "buffer_with_end") == {"caller": 1}
    assert classes_of(r, "next_block_in_frame") == {"frame": 1}
    if "--stats=yes" in tool_args:
        m = re.search(r"([\d,]+) cheap and ([\d,]+) full sanity checks passed", r.text)
        assert m and int(m.group(2).replace(",", "")) > 0, r.text[-2000:]
        m = re.search(r"client memory: ([\d,]+) requests from size classes .*, "
                      r"([\d,]+) from the arena", r.text)
        assert m, r.text[-2000:]
        # sizes 0..4096 at alignments up to 16 (about 2/3 of the program's
        # requests) come from the classes, the bigger and over-aligned ones
        # from the arena
        small, arena = (int(g.replace(",", "")) for g in m.groups())
        assert small > 4000 and arena > 500, m.group(0)


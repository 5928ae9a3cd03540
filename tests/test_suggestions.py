"""Each suggestion kind: a fixture that must produce it with exact numbers, and a
near miss that must not.

The triggers and the arithmetic are those of stackheap/sh_advice.c:
saved_calls counts allocator calls (an allocation and its free are two, a
realloc one), stack_cost = bytes added to a frame x most simultaneous
activations of the home function.  Fixtures mark their allocating lines with
`MARK:<tag>` so the expected file:line is read from the source, not hard-coded.
"""
import re

import pytest

from conftest import PROGS


def mark_line(prog, tag):
    """1-based line of the `MARK:<tag>` comment in tests/progs/<prog>."""
    for i, line in enumerate((PROGS / prog).read_text().splitlines(), 1):
        if re.search(r"MARK:%s\b" % re.escape(tag), line):
            return i
    raise AssertionError(f"no MARK:{tag} in {prog}")


def loc(prog, fn, tag):
    """The tool's "fn (file:line)" for a marked line."""
    return f"{fn} ({prog}:{mark_line(prog, tag)})"


def only(sugs):
    assert len(sugs) == 1, sugs
    return sugs[0]


def kinds(run, site):
    return sorted(g["kind"] for g in run.suggestions(site=site))


def check_site_line(site, prog, tag):
    f = site["stack"][0]
    assert f["file"].endswith("/" + prog) and f["line"] == mark_line(prog, tag), f


# ------------------------------------------------------- use_stack_allocation ----

@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_use_stack_allocation(sh, opt):
    # At -O2 the block stays observable: its address goes to a noinline reader.
    r = sh("sug_stack.c", "500", opt=opt)
    s = r.site("make_point")
    check_site_line(s, "sug_stack.c", "alloc")
    assert s["blocks"] == 500 and s["classes"]["frame"] == 500
    g = only(r.suggestions("use_stack_allocation", s))
    assert (g["saved_calls"], g["saved_bytes"], g["stack_cost"], g["difficulty"]) == \
        (1000, 16000, 32, "easy")
    t = g["text"]
    assert "make_point()" in t
    assert loc("sug_stack.c", "make_point", "alloc") in t
    assert "32-byte" in t and "500 of 500 blocks" in t
    # The text report carries the same suggestion.
    assert "use_stack_allocation (site #%d, easy)" % s["id"] in r.text
    assert "saves 1,000 allocator calls and 16,000 heap bytes; adds 32 stack bytes" in r.text


def test_use_stack_near_miss_sizes_vary(sh):
    r = sh("sug_stack.c", "500", "vary")
    s = r.site("make_point_vary")
    assert s["classes"]["frame"] == 500
    assert (s["min_size"], s["max_size"]) == (32, 56)
    assert r.suggestions("use_stack_allocation") == []
    # Varying sizes are a bounded buffer of the largest size instead.
    g = only(r.suggestions("bounded_local_buffer", s))
    assert g["stack_cost"] == 56


# ------------------------------------------------------- caller_owned_storage ----

def test_caller_owned_storage(sh):
    r = sh("sug_caller.c", "300")
    s = r.site("new_record")
    check_site_line(s, "sug_caller.c", "alloc")
    assert s["classes"]["caller"] == 300
    assert s["homes"] == [{"depth": 1, "fn": "use_record", "blocks": 300}]
    g = only(r.suggestions("caller_owned_storage", s))
    assert (g["saved_calls"], g["saved_bytes"], g["stack_cost"], g["difficulty"]) == \
        (600, 14400, 48, "medium")
    t = g["text"]
    assert "new_record()" in t and "use_record()" in t and "(depth 1)" in t
    assert loc("sug_caller.c", "new_record", "alloc") in t
    assert "48-byte" in t and "300 of 300 blocks" in t
    assert r.suggestions("use_stack_allocation") == []


def test_caller_owned_near_miss_stored_in_global(sh):
    r = sh("sug_caller.c", "300", "global")
    s = r.site("new_record")
    assert s["classes"]["global"] == 300
    assert s["first_escape"]["target"] == "global variable 'g_last_record'"
    for kind in ("caller_owned_storage", "use_stack_allocation", "bounded_local_buffer"):
        assert r.suggestions(kind) == [], kind


# ------------------------------------------------------- bounded_local_buffer ----

def test_bounded_local_buffer_max_size(sh):
    r = sh("sug_bounded.c", "max")
    s = r.site("format_line")
    check_site_line(s, "sug_bounded.c", "alloc")
    # sizes 16 + (i % 85) for i < 400
    nbytes = sum(16 + (i % 85) for i in range(400))
    assert (s["blocks"], s["bytes"], s["min_size"], s["max_size"]) == (400, nbytes, 16, 100)
    g = only(r.suggestions("bounded_local_buffer", s))
    assert (g["saved_calls"], g["saved_bytes"], g["stack_cost"], g["difficulty"]) == \
        (800, nbytes, 100, "medium")
    t = g["text"]
    assert loc("sug_bounded.c", "format_line", "alloc") in t
    assert "vary from 16 to 100 bytes" in t and "100-byte local buffer" in t
    assert "format_line()" in t and "400 of 400 blocks" in t
    assert r.suggestions("use_stack_allocation") == []


def test_bounded_local_buffer_95th_percentile(sh):
    r = sh("sug_bounded.c", "p95")
    s = r.site("format_line")
    small = [16 + (i % 85) for i in range(1000) if i % 100 != 99]
    assert len(small) == 990
    assert (s["blocks"], s["bytes"], s["max_size"]) == (1000, sum(small) + 10 * 3000, 3000)
    assert s["classes"]["frame"] == 1000
    g = only(r.suggestions("bounded_local_buffer", s))
    # 95% of the blocks are below 128 bytes (power-of-two histogram); the 10
    # blocks of 3000 bytes fall back to malloc, so neither their calls nor
    # their bytes are saved.
    assert g["stack_cost"] == 128
    assert g["saved_calls"] == 2 * 990
    assert g["saved_bytes"] == sum(small)
    assert g["difficulty"] == "medium"
    t = g["text"]
    assert loc("sug_bounded.c", "format_line", "alloc") in t
    assert "vary from 16 to 3,000 bytes" in t
    assert "128-byte local buffer" in t and "covers 990 of 1,000 blocks" in t
    assert "95th percentile" in t
    assert "fall back to malloc for the other 10 (1.0%)" in t


def test_bounded_near_miss_constant_size(sh):
    r = sh("sug_bounded.c", "const")
    s = r.site("format_line")
    assert (s["min_size"], s["max_size"]) == (64, 64)
    assert r.suggestions("bounded_local_buffer") == []
    g = only(r.suggestions("use_stack_allocation", s))
    assert (g["saved_calls"], g["saved_bytes"], g["stack_cost"]) == (800, 25600, 64)


# ----------------------------------------------------------- reserve_capacity ----

def test_reserve_capacity_realloc(sh):
    r = sh("sug_reserve.c", "10")
    s = r.site("grow_buffer")
    check_site_line(s, "sug_reserve.c", "alloc")
    assert (s["blocks"], s["reallocs"], s["bytes"]) == (1, 10, 16384)
    g = only(r.suggestions("reserve_capacity", s))
    # One realloc call saved per growth; the bytes copied by the growths.
    assert g["saved_calls"] == 10
    assert g["saved_bytes"] == sum(16 << k for k in range(10)) == 16368
    assert (g["stack_cost"], g["difficulty"]) == (0, "easy")
    t = g["text"]
    assert loc("sug_reserve.c", "grow_buffer", "alloc") in t
    assert "grew 10 times, from 16 to 16,384 bytes (realloc)" in t
    assert "reserve 16,384 bytes" in t


def test_reserve_capacity_vector_push_back(sh):
    r = sh("sug_vector.cc", "1000")
    # libstdc++'s allocate() is depth 0; fill() is the user frame in the stack.
    [s] = [x for x in r.sites_in("fill(int)") if x["blocks"] == 11]
    assert (s["min_size"], s["max_size"]) == (4, 4096)
    assert s["bytes"] == sum(4 << k for k in range(11))
    assert s["max_live"] == 2
    g = only(r.suggestions("reserve_capacity", s))
    # Each growth allocates, copies and frees: two calls saved per step.
    assert g["saved_calls"] == 20
    assert g["saved_bytes"] == sum(4 << k for k in range(10)) == 4092
    assert (g["stack_cost"], g["difficulty"]) == (0, "easy")
    t = g["text"]
    assert "grew 10 times, from 4 to 4,096 bytes (allocate, copy, free)" in t
    assert "reserve()" in t
    # C++ names read as "fill()" in sentences, not "fill(int)()".
    for g in r.suggestions(site=s):
        assert ")()" not in g["text"], g["text"]
    # The blocks live until fill(), five frames up through libstdc++: passing
    # storage down that far is not offered; an arena owned by fill() is.
    assert r.suggestions("bounded_local_buffer") == []
    a = only(r.suggestions("object_pool", s))
    assert "fill() (depth 5)" in a["text"] and "(limit 3)" in a["text"]
    assert "let fill() own an arena" in a["text"]


def test_reserve_near_miss_two_growths(sh):
    r = sh("sug_reserve.c", "2")
    s = r.site("grow_buffer")
    assert (s["reallocs"], s["bytes"]) == (2, 64)
    assert r.suggestions("reserve_capacity") == []


# ---------------------------------------------------------- hoist_out_of_loop ----

def test_hoist_out_of_loop(sh):
    r = sh("sug_hoist.c")
    s = r.site("process_all")
    check_site_line(s, "sug_hoist.c", "alloc_loop")
    assert (s["blocks"], s["max_live"]) == (100, 1)
    g = only(r.suggestions("hoist_out_of_loop", s))
    # The first block is needed; the other 99 allocations and frees go.
    assert (g["saved_calls"], g["saved_bytes"], g["stack_cost"], g["difficulty"]) == \
        (198, 99 * 64, 0, "easy")
    t = g["text"]
    assert "process_all()" in t
    assert loc("sug_hoist.c", "process_all", "alloc_loop") in t
    assert "up to 100 times" in t and "99 of 100 blocks" in t


def test_hoist_near_miss_one_block_per_call(sh):
    r = sh("sug_hoist.c", "percall")
    s = r.site("process_one")
    assert s["blocks"] == 100
    assert r.suggestions("hoist_out_of_loop") == []
    assert len(r.suggestions("use_stack_allocation", s)) == 1


# ---------------------------------------------------------------- object_pool ----

def test_object_pool_linked_list_churn(sh):
    r = sh("sug_pool.c", "1000")
    s = r.site("push")
    check_site_line(s, "sug_pool.c", "alloc")
    assert (s["blocks"], s["max_live"], s["classes"]["global"]) == (1000, 8, 1000)
    g = only(r.suggestions("object_pool", s))
    assert (g["saved_calls"], g["saved_bytes"], g["stack_cost"], g["difficulty"]) == \
        (2 * 992, 992 * 24, 0, "medium")
    t = g["text"]
    assert loc("sug_pool.c", "push", "alloc") in t
    assert "1,000 blocks of 24 bytes" in t and "at most 8 are alive" in t
    assert "pool or free list of 8 objects" in t
    for kind in ("use_stack_allocation", "caller_owned_storage", "bounded_local_buffer"):
        assert r.suggestions(kind) == [], kind


def test_object_pool_near_miss_few_blocks(sh):
    r = sh("sug_pool.c", "10")
    s = r.site("push")
    assert (s["blocks"], s["classes"]["global"]) == (10, 10)
    assert r.suggestions("object_pool") == []


# -------------------------------------------------------------- remove_escape ----

def test_remove_escape_single_global_store(sh):
    r = sh("sug_escape.c")
    s = r.site("work")
    check_site_line(s, "sug_escape.c", "alloc")
    assert s["classes"]["global"] == 200
    g = only(r.suggestions("remove_escape", s))
    assert (g["saved_calls"], g["saved_bytes"], g["stack_cost"]) == (400, 8000, 40)
    assert g["difficulty"] == "hard"
    t = g["text"]
    assert "200 of 200 blocks" in t
    assert loc("sug_escape.c", "work", "alloc") in t
    assert "store at " + loc("sug_escape.c", "work", "store") in t
    assert "g_last_seen" in t and "work() (depth 0)" in t


def test_remove_escape_near_miss_two_store_locations(sh):
    r = sh("sug_escape.c", "two")
    s = r.site("work_two")
    assert s["classes"]["global"] == 200
    assert r.suggestions("remove_escape") == []


# ------------------------------------------------- recursion and stack budget ----

def _deep_site(r):
    """The descend() site of the deep recursion levels (the first levels,
    whose stacks are shorter than --depth, are sites of their own)."""
    sites = r.sites_in("descend")
    assert sum(x["blocks"] for x in sites) == 6000
    deep = max(sites, key=lambda x: x["blocks"])
    assert all(f["fn"] in ("descend", "main") for f in deep["stack"])
    return deep, sites


def test_recursion_over_default_stack_budget_is_a_pool(sh):
    r = sh("sug_recurse.c", "3")
    deep, sites = _deep_site(r)
    assert deep["classes"]["frame"] == deep["blocks"]
    # No stack suggestion for descend() at all: a 64-byte local costs
    # 64 x 2000 activations = 128,000 bytes > 65,536.
    assert r.suggestions("use_stack_allocation") == []
    assert r.suggestions("bounded_local_buffer") == []
    # One suggestion for the line, covering every site of descend() (the
    # shallow levels are sites of their own), named after the largest.
    g = only(r.suggestions("object_pool"))
    assert g["site"] == deep["id"]
    assert sorted(g["sites"]) == sorted(x["id"] for x in sites)
    assert g["location"]["fn"] == "descend"
    assert g["location"]["line"] == mark_line("sug_recurse.c", "alloc")
    t = g["text"]
    assert "--stack-budget" in t and "65,536" in t
    assert "128,000 bytes of stack" in t and "64 bytes x 2000" in t
    assert loc("sug_recurse.c", "descend", "alloc") in t
    # the most alive at once, summed over the sites: every level's block
    keep = sum(x["max_live"] for x in sites)
    assert keep == 2000
    assert f"pool or free list of {keep:,} blocks of 64 bytes" in t
    assert g["saved_calls"] == 2 * (6000 - keep)
    assert g["saved_bytes"] == 64 * (6000 - keep)
    assert g["stack_cost"] == 0


def test_recursion_within_larger_stack_budget_uses_stack(sh):
    r = sh("sug_recurse.c", "3", tool_args=["--stack-budget=1m"])
    deep, sites = _deep_site(r)
    g = only(r.suggestions("use_stack_allocation"))
    assert g["stack_cost"] == 128000
    assert g["saved_calls"] == 2 * 6000
    assert g["saved_bytes"] == 64 * 6000
    assert sorted(g["sites"]) == sorted(x["id"] for x in sites)
    assert r.suggestions("object_pool") == []
    # Every site of descend() is covered by that one suggestion.
    for s in sites:
        assert only(r.suggestions("use_stack_allocation", s)) == g

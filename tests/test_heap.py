"""Heap-block shadowing: stackheap as a real Valgrind tool.

Each test compiles a fixture from tests/progs/ (its header comment states what
it exercises and the numbers expected), runs it under the tool and checks the
JSON report (docs/report-format.md, format "stackheap-2") and the text report
on the log with exact numbers.
"""
import json
import os
import re
import subprocess

import pytest

from conftest import compile_prog, run_tool

CLASSES = ("frame", "caller", "too_large", "global", "heap", "thread",
           "outlived", "never_freed")


def fns(site):
    return [f["fn"] for f in site["stack"]]


def check_consistency(r):
    """Invariants every report must satisfy."""
    j = r.json
    assert j["format"] == "stackheap-2"
    t = j["totals"]
    assert set(t["classes"]) == set(CLASSES)
    assert sum(t["classes"].values()) == t["blocks"]
    assert sum(s["blocks"] for s in j["sites"]) == t["blocks"]
    assert sum(s["bytes"] for s in j["sites"]) == t["bytes"]
    assert t["stack_eligible_blocks"] == t["classes"]["frame"] + t["classes"]["caller"]
    for s in j["sites"]:
        assert set(s["classes"]) == set(CLASSES), s["id"]
        assert sum(s["classes"].values()) == s["blocks"], s["id"]
        assert s["min_size"] <= s["max_size"]
        assert 1 <= s["max_live"] <= s["blocks"]
    assert [s["id"] for s in j["sites"]] == list(range(1, len(j["sites"]) + 1))


def only_classes(site, **expected):
    """site's classes are exactly `expected`, every other class 0."""
    want = {c: 0 for c in CLASSES}
    want.update(expected)
    assert site["classes"] == want, (fns(site), site["classes"])


def hotspot(text, fn):
    """The text-report hotspot entry whose allocation stack starts with fn."""
    entries = re.split(r"^(?=#\d+ \[)", text.split("-------- Suggestions")[0], flags=re.M)
    found = [e for e in entries
             if re.search(r"allocated at:\n\s+" + re.escape(fn) + r" \(", e)]
    assert len(found) == 1, (fn, text)
    return found[0]


# --------------------------------------------------------------------------
# One site, run a known number of times
# --------------------------------------------------------------------------

@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_one_site_1000_times(sh, opt):
    r = sh("one_site_loop.c", opt=opt)
    assert r.returncode == 0, r.stderr
    check_consistency(r)
    t = r.totals
    assert (t["blocks"], t["bytes"]) == (1000, 24000)
    assert t["stack_eligible_blocks"] == 1000
    assert t["stack_eligible_bytes"] == 24000
    assert t["escape_rate"] == 0
    assert t["peak_live_bytes"] == 24
    assert t["bad_frees"] == 0
    assert len(r.sites) == 1
    s = r.site("make_and_drop")
    assert fns(s)[:2] == ["make_and_drop", "main"]
    assert os.path.basename(s["stack"][0]["file"]) == "one_site_loop.c"
    assert s["stack"][0]["obj"] == str(compile_prog("one_site_loop.c", opt=opt))
    assert (s["blocks"], s["bytes"], s["min_size"], s["max_size"]) == (1000, 24000, 24, 24)
    assert s["max_live"] == 1
    assert s["reallocs"] == 0
    only_classes(s, frame=1000)
    assert s["homes"] == [{"depth": 0, "fn": "make_and_drop", "blocks": 1000}]
    assert s["first_escape"] is None
    assert s["avg_lifetime_instrs"] > 0
    # text report, with thousands separators
    assert re.search(r"^Total:\s+1,000 blocks, 24,000 bytes, in [\d,]+ instructions$",
                     r.text, re.M), r.text
    h = hotspot(r.text, "make_and_drop")
    assert re.match(r"#1 \[\w+\] 1,000 blocks, 24,000 bytes \(24\.\.24 each\), max 1 live", h), h
    assert re.search(r"make_and_drop \(one_site_loop\.c:\d+\)", h)


def test_one_site_count_scales_with_input(sh):
    r = sh("one_site_loop.c", "2500")
    assert r.returncode == 0
    check_consistency(r)
    s = r.site("make_and_drop")
    assert (s["blocks"], s["bytes"]) == (2500, 60000)
    assert (r.totals["blocks"], r.totals["bytes"]) == (2500, 60000)
    assert re.search(r"^Total:\s+2,500 blocks, 60,000 bytes,", r.text, re.M)
    assert "2,500 blocks, 60,000 bytes (24..24 each)" in r.text


# --------------------------------------------------------------------------
# Every allocation entry point
# --------------------------------------------------------------------------

ENTRY_SITES = {
    # fn: (blocks, bytes, max_size, reallocs)
    "do_malloc": (1, 40, 40, 0),
    "do_calloc": (1, 80, 80, 0),
    "do_realloc_null": (1, 32, 32, 0),
    "do_realloc_zero": (1, 16, 16, 0),
    "do_realloc_shrink": (1, 100, 100, 1),
    "do_realloc_grow": (1, 4000, 4000, 1),
    "do_realloc_steps": (1, 30, 30, 3),
    "do_realloc_fail": (1, 64, 64, 0),
    "do_memalign": (1, 100, 100, 0),
    "do_posix_memalign": (1, 200, 200, 0),
    "do_aligned_alloc": (1, 64, 64, 0),
    "do_valloc": (1, 300, 300, 0),
    "do_usable_size": (1, 13, 13, 0),
}


@pytest.fixture(scope="module")
def entry_run(tmp_path_factory):
    exe = compile_prog("alloc_entry.c")
    return run_tool([exe], tmp_path=tmp_path_factory.mktemp("entry"))


def test_entry_points_program_behaves(entry_run):
    r = entry_run
    # the program checked calloc zeroing, realloc contents/addresses, alignment
    assert r.returncode == 0, r.stdout + r.stderr
    assert "FAIL" not in r.stdout
    assert "all ok" in r.stdout
    # malloc_usable_size returns the requested size
    assert "usable 13\n" in r.stdout
    # growth moves the block (and the program checked the contents were kept)
    assert "grow moved\n" in r.stdout
    # free(NULL), calloc overflow, failing realloc: no warning, no bad free
    assert "Warning" not in r.stderr
    assert r.totals["bad_frees"] == 0


def test_entry_points_totals(entry_run):
    r = entry_run
    check_consistency(r)
    t = r.totals
    assert t["blocks"] == 13
    assert t["bytes"] == sum(v[1] for v in ENTRY_SITES.values()) == 5039
    assert t["classes"]["never_freed"] == 0
    assert t["classes"]["frame"] == 13
    assert t["peak_live_bytes"] == 4000
    assert len(r.sites) == 13
    assert re.search(r"^Total:\s+13 blocks, 5,039 bytes,", r.text, re.M)


@pytest.mark.parametrize("fn", sorted(ENTRY_SITES))
def test_entry_point_site(entry_run, fn):
    blocks, nbytes, max_size, reallocs = ENTRY_SITES[fn]
    s = entry_run.site(fn)
    assert fns(s)[:2] == [fn, "main"]
    assert (s["blocks"], s["bytes"], s["max_size"], s["reallocs"]) == \
        (blocks, nbytes, max_size, reallocs)
    assert s["max_live"] == 1
    only_classes(s, frame=1)
    assert os.path.basename(s["stack"][0]["file"]) == "alloc_entry.c"


def test_entry_points_no_block_for_failures(entry_run):
    r = entry_run
    # calloc overflow returns NULL and records nothing; free(NULL) records nothing
    assert r.sites_in("do_calloc_overflow") == []
    assert r.sites_in("do_free_null") == []
    # a failed realloc keeps the old block: one block, its size unchanged
    s = r.site("do_realloc_fail")
    assert (s["min_size"], s["max_size"], s["bytes"], s["reallocs"]) == (64, 64, 64, 0)


def test_realloc_counts_block_once(entry_run):
    r = entry_run
    grow = r.site("do_realloc_grow")
    assert (grow["blocks"], grow["min_size"], grow["max_size"], grow["bytes"]) == \
        (1, 16, 4000, 4000)
    steps = r.site("do_realloc_steps")
    assert (steps["blocks"], steps["bytes"], steps["reallocs"]) == (1, 30, 3)
    h = hotspot(r.text, "do_realloc_grow")
    assert re.match(r"#1 \[\w+\] 1 blocks?, 4,000 bytes \(16\.\.4,000 each\)", h), h


CXX_SITES = {
    # fn: (blocks, bytes)
    "do_new()": (1, 4),
    "do_new_array()": (1, 40),
    "do_new_obj_array()": (1, 32),
    "do_sized_delete()": (1, 24),
    "do_aligned_new()": (1, 64),
    "do_aligned_new_array()": (1, 128),
    "do_nothrow_new()": (1, 20),
}


def test_cxx_entry_points(sh):
    r = sh("alloc_cxx.cc", extra=("-std=c++17",))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "all ok\n"
    assert "Warning" not in r.stderr
    check_consistency(r)
    for fn, (blocks, nbytes) in CXX_SITES.items():
        s = r.site(fn)
        assert fns(s)[1] == "main", fns(s)
        assert (s["blocks"], s["bytes"], s["min_size"], s["max_size"]) == \
            (blocks, nbytes, nbytes, nbytes), fn
        only_classes(s, frame=1)
        assert s["homes"] == [{"depth": 0, "fn": fn, "blocks": 1}]
    # the failing nothrow new records nothing
    assert r.sites_in("do_nothrow_new_fail()") == []
    mine = [s for s in r.sites if "main" in fns(s)]
    assert len(mine) == 7
    assert sum(s["blocks"] for s in mine) == 7
    assert sum(s["bytes"] for s in mine) == 312
    assert r.totals["bad_frees"] == 0


def test_allocation_edge_cases(sh):
    r = sh("alloc_edge.c")
    assert r.returncode == 0
    assert r.stdout == ("malloc0 non-null\ncalloc0 non-null\npm einval\npm unchanged\n"
                        "usable 10\n")
    assert "Warning" not in r.stderr
    check_consistency(r)
    assert (r.totals["blocks"], r.totals["bytes"]) == (4, 300)
    assert r.totals["classes"]["frame"] == 4
    assert r.totals["peak_live_bytes"] == 200
    for fn in ("do_malloc0", "do_calloc0"):
        s = r.site(fn)
        assert (s["blocks"], s["bytes"], s["min_size"], s["max_size"]) == (1, 0, 0, 0)
        only_classes(s, frame=1)
    # an invalid alignment fails with EINVAL and records nothing
    assert r.sites_in("do_bad_align") == []
    shrunk = r.site("do_usable_shrunk")
    assert (shrunk["blocks"], shrunk["bytes"], shrunk["max_size"], shrunk["reallocs"]) == \
        (1, 100, 100, 1)
    many = r.site("do_many_reallocs")
    assert (many["blocks"], many["bytes"], many["min_size"], many["max_size"],
            many["reallocs"]) == (1, 200, 1, 200, 199)
    only_classes(many, frame=1)
    assert "199 reallocs" in hotspot(r.text, "do_many_reallocs")


# --------------------------------------------------------------------------
# Custom allocators (client requests)
# --------------------------------------------------------------------------

def test_custom_allocator(sh):
    r = sh("custom_pool.c")
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr
    check_consistency(r)
    t = r.totals
    assert (t["blocks"], t["bytes"]) == (12, 4464)
    assert t["peak_live_bytes"] == 4416
    assert t["classes"]["never_freed"] == 0
    assert t["bad_frees"] == 0

    arena = r.site("arena_init")
    assert (arena["blocks"], arena["bytes"]) == (1, 4096)

    pool = r.site("use_pool", frame=1)
    assert fns(pool)[:3] == ["pool_alloc", "use_pool", "main"]
    assert (pool["blocks"], pool["bytes"], pool["min_size"], pool["max_size"]) == \
        (10, 320, 32, 32)
    assert pool["max_live"] == 10
    assert pool["reallocs"] == 0
    # freed in use_pool, a caller of pool_alloc (depth 0)
    only_classes(pool, caller=10)
    assert pool["homes"] == [{"depth": 1, "fn": "use_pool", "blocks": 10}]

    grown = r.site("grow_one", frame=1)
    assert fns(grown)[0] == "pool_alloc"
    assert (grown["blocks"], grown["bytes"], grown["min_size"], grown["max_size"],
            grown["reallocs"]) == (1, 48, 16, 48, 1)
    only_classes(grown, caller=1)

    assert re.search(r"^Total:\s+12 blocks, 4,464 bytes,", r.text, re.M)
    assert "10 blocks, 320 bytes (32..32 each), max 10 live" in r.text


def test_custom_allocator_with_alloc_fn(sh):
    r = sh("custom_pool.c", tool_args=("--alloc-fn=pool_alloc",))
    assert r.returncode == 0
    check_consistency(r)
    assert (r.totals["blocks"], r.totals["bytes"]) == (12, 4464)
    assert r.sites_in("pool_alloc") == []
    pool = r.site("use_pool")
    assert fns(pool)[:2] == ["use_pool", "main"]
    assert (pool["blocks"], pool["bytes"]) == (10, 320)
    only_classes(pool, frame=10)
    assert pool["homes"] == [{"depth": 0, "fn": "use_pool", "blocks": 10}]
    grown = r.site("grow_one")
    assert (grown["blocks"], grown["bytes"], grown["reallocs"]) == (1, 48, 1)
    only_classes(grown, frame=1)
    assert r.json["options"]["alloc-fn"] == ["pool_alloc"]


# --------------------------------------------------------------------------
# --alloc-fn
# --------------------------------------------------------------------------

def test_wrapper_without_alloc_fn(sh):
    r = sh("alloc_fn.c")
    assert r.returncode == 0
    check_consistency(r)
    assert (r.totals["blocks"], r.totals["bytes"]) == (10, 352)
    x = r.site("xmalloc")
    assert fns(x)[:3] == ["xmalloc", "use_x", "main"]
    assert (x["blocks"], x["bytes"]) == (5, 240)
    only_classes(x, caller=5)
    assert x["homes"] == [{"depth": 1, "fn": "use_x", "blocks": 5}]
    a = r.site("my_alloc")
    assert (a["blocks"], a["bytes"]) == (3, 48)
    b = r.site("my_zalloc")
    assert (b["blocks"], b["bytes"]) == (2, 64)
    assert re.search(r"allocated at:\n\s+xmalloc \(alloc_fn\.c:\d+\)\n\s+use_x \(", r.text)


def test_alloc_fn_removes_wrapper(sh):
    r = sh("alloc_fn.c", tool_args=("--alloc-fn=xmalloc",))
    assert r.returncode == 0
    check_consistency(r)
    assert (r.totals["blocks"], r.totals["bytes"]) == (10, 352)
    assert r.sites_in("xmalloc") == []
    x = r.site("use_x")
    assert fns(x)[:2] == ["use_x", "main"]
    assert (x["blocks"], x["bytes"]) == (5, 240)
    only_classes(x, frame=5)
    assert x["homes"] == [{"depth": 0, "fn": "use_x", "blocks": 5}]
    # the other wrappers are untouched
    assert r.site("my_alloc")["blocks"] == 3
    assert r.site("my_zalloc")["blocks"] == 2
    assert not re.search(r"^\s+xmalloc \(", r.text, re.M)
    assert re.search(r"allocated at:\n\s+use_x \(alloc_fn\.c:\d+\)\n\s+main \(", r.text)


def test_alloc_fn_pattern(sh):
    r = sh("alloc_fn.c", tool_args=("--alloc-fn=my_*",))
    assert r.returncode == 0
    check_consistency(r)
    assert r.sites_in("my_alloc") == [] and r.sites_in("my_zalloc") == []
    a = r.site("use_my_a")
    assert fns(a)[:2] == ["use_my_a", "main"]
    assert (a["blocks"], a["bytes"]) == (3, 48)
    only_classes(a, frame=3)
    b = r.site("use_my_b")
    assert (b["blocks"], b["bytes"]) == (2, 64)
    only_classes(b, frame=2)
    assert r.site("xmalloc")["blocks"] == 5
    assert r.json["options"]["alloc-fn"] == ["my_*"]


# --------------------------------------------------------------------------
# Lifetimes: never freed, max_live, sizes, peak
# --------------------------------------------------------------------------

def test_lifetimes_and_sizes(sh):
    r = sh("lifetimes.c")
    assert r.returncode == 0
    check_consistency(r)
    t = r.totals
    assert (t["blocks"], t["bytes"]) == (30, 1842)
    assert t["classes"] == {"frame": 20, "caller": 0, "too_large": 0, "global": 7,
                            "heap": 0, "thread": 0, "outlived": 0, "never_freed": 3}
    assert t["peak_live_bytes"] == 594
    assert len(r.sites) == 4

    leak = r.site("leak")
    assert (leak["blocks"], leak["bytes"], leak["max_live"]) == (7, 70, 7)
    only_classes(leak, **{"global": 7})

    nf = r.site("leak_local")
    assert (nf["blocks"], nf["bytes"], nf["max_live"]) == (3, 24, 3)
    only_classes(nf, never_freed=3)

    hold = r.site("hold")
    assert (hold["blocks"], hold["bytes"], hold["max_live"]) == (15, 1500, 5)
    assert (hold["min_size"], hold["max_size"]) == (100, 100)
    only_classes(hold, frame=15)
    assert hold["avg_lifetime_instrs"] > 0

    sizes = r.site("sizes")
    assert (sizes["blocks"], sizes["bytes"], sizes["min_size"], sizes["max_size"]) == \
        (5, 248, 8, 128)
    assert sizes["max_live"] == 1
    assert sizes["avg_lifetime_instrs"] > 0

    assert re.search(r"^Total:\s+30 blocks, 1,842 bytes,", r.text, re.M)
    assert re.search(r"peak live 594 bytes", r.text)
    assert hotspot(r.text, "hold").startswith("#1 [")
    assert "15 blocks, 1,500 bytes (100..100 each), max 5 live" in hotspot(r.text, "hold")
    assert "5 blocks, 248 bytes (8..128 each), max 1 live" in hotspot(r.text, "sizes")
    assert "3 blocks, 24 bytes (8..8 each), max 3 live" in hotspot(r.text, "leak_local")
    assert re.search(r"never_freed 3", r.text)
    # live_blocks counts every block not freed, whatever its class: the
    # leaked blocks that escaped to a global are `global` but still unfreed
    assert (leak["live_blocks"], nf["live_blocks"], hold["live_blocks"],
            sizes["live_blocks"]) == (7, 3, 0, 0)
    assert "7 never freed" in hotspot(r.text, "leak")
    assert "never freed" not in hotspot(r.text, "hold")


# --------------------------------------------------------------------------
# Bad frees
# --------------------------------------------------------------------------

def test_bad_and_double_free(sh):
    r = sh("bad_free.c")
    assert r.returncode == 7, r.stderr
    assert "finished\n" in r.stderr
    check_consistency(r)
    assert r.totals["bad_frees"] == 3
    assert (r.totals["blocks"], r.totals["bytes"]) == (1, 32)
    s = r.site("victim")
    assert (s["blocks"], s["bytes"], s["max_live"]) == (1, 32, 1)
    only_classes(s, frame=1)
    warnings = re.findall(r"^Warning: .*$", r.text, re.M)
    assert len(warnings) == 3, warnings
    assert len([w for w in warnings if "not the start of a live heap block" in w]) == 2
    assert len([w for w in warnings if "double free" in w]) == 1
    assert re.search(r"^Warning: free\(\).*double free", r.text, re.M)
    assert re.search(r"^Warning: realloc\(\).*not the start of a live heap block", r.text, re.M)
    # each warning shows where it happened
    assert len(re.findall(r"by wild_free \(bad_free\.c:\d+\)", r.text)) == 2
    assert re.search(r"^Bad frees:\s+3\b", r.text, re.M)
    # each warning's stack stops at main, as the core's stack traces do
    for block in re.split(r"^(?=Warning: )", r.text, flags=re.M)[1:]:
        frames = re.findall(r"^   (?:at|by) (.*)$", block, re.M)
        assert frames[-1].startswith("main (bad_free.c:"), frames
        assert "???" not in block and "(below main)" not in block


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------

def test_threads_exact_totals(sh):
    r = sh("threads.c")
    assert r.returncode == 0, r.stderr
    check_consistency(r)
    s = r.site("work_once")
    assert fns(s)[:2] == ["work_once", "worker"]
    assert (s["blocks"], s["bytes"], s["min_size"], s["max_size"]) == (1000, 24000, 8, 32)
    assert s["max_live"] == 1
    # each block is freed by the thread that allocated it, in work_once
    only_classes(s, frame=1000)
    assert s["homes"] == [{"depth": 0, "fn": "work_once", "blocks": 1000}]
    # everything else comes from pthread_create itself (glibc's TLS)
    others = [x for x in r.sites if x is not s]
    for o in others:
        assert any(f.startswith("pthread_create") for f in fns(o)), fns(o)
    other_blocks = sum(o["blocks"] for o in others)
    assert r.totals["blocks"] == 1000 + other_blocks
    assert r.totals["classes"]["frame"] == 1000
    assert "1,000 blocks, 24,000 bytes (8..32 each)" in hotspot(r.text, "work_once")


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------

@pytest.mark.parametrize("prog", ["mixed.c", "custom_pool.c"])
def test_two_runs_identical(tmp_path, prog):
    exe = compile_prog(prog)
    out = tmp_path / "r.json"
    runs = []
    for _ in range(2):
        r = run_tool([exe], tool_args=(f"--json-out-file={out}",))
        assert r.returncode == 0
        runs.append(r)
    a, b = runs
    assert a.json["pid"] != b.json["pid"]
    ja, jb = dict(a.json), dict(b.json)
    ja.pop("pid")
    jb.pop("pid")
    assert ja == jb
    assert a.text == b.text
    assert a.stdout == b.stdout
    check_consistency(a)


# --------------------------------------------------------------------------
# Memory pools (VALGRIND_CREATE_MEMPOOL family)
# --------------------------------------------------------------------------

def test_mempool_requests(sh):
    r = sh("mempool.c", tool_args=("--alloc-fn=mp_alloc",))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "mempool 15\n"
    assert "Warning" not in r.stderr
    check_consistency(r)
    used = r.site("use_and_free")
    assert (used["blocks"], used["bytes"]) == (6, 240)
    only_classes(used, frame=6)
    assert used["homes"] == [{"depth": 0, "fn": "use_and_free", "blocks": 6}]
    kept = r.site("keep_till_destroy")
    assert (kept["blocks"], kept["bytes"]) == (4, 96)
    # freed by DESTROY_MEMPOOL in main: still inside main's activation
    only_classes(kept, caller=4)
    assert kept["homes"] == [{"depth": 1, "fn": "main", "blocks": 4}]
    ch = r.site("changed")
    assert (ch["blocks"], ch["bytes"], ch["min_size"], ch["max_size"], ch["reallocs"]) == \
        (1, 64, 16, 64, 1)
    only_classes(ch, frame=1)
    # the arena itself is a malloc block of its own (and printf's buffer another)
    arena = [s for s in r.sites if fns(s)[0] == "main"]
    assert [(a["blocks"], a["bytes"]) for a in arena] == [(1, 4096)]
    pool_sites = [used, kept, ch]
    assert sum(s["blocks"] for s in pool_sites) == 11
    assert sum(s["bytes"] for s in pool_sites) == 400


def test_per_thread_frame_statistics(sh):
    r = sh("threads.c")
    th = r.json["threads"]
    assert [t["tid"] for t in th] == list(range(1, len(th) + 1))
    assert len(th) >= 2      # main and the workers (thread ids may be reused)
    assert sum(t["frames"] for t in th) == r.totals["frames"]
    assert max(t["max_stack_depth"] for t in th) == r.totals["max_stack_depth"]
    for t in th:
        assert t["frames"] > 0 and t["max_stack_depth"] >= 2 and t["max_stack_bytes"] > 0


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_constant_pointer_store_is_seen(tmp_path, opt):
    """A block address stored as an immediate (non-PIE static buffer) is an
    escape like any other: the skip of constant stores that cannot point
    into a block must not drop it."""
    exe = compile_prog("const_store.c", opt, extra=("-no-pie", "-fno-pie"))
    _constant_escape(tmp_path, exe, r"movq\s+\$0x[0-9a-f]+,", "g_ptr")   # an immediate store


def _constant_escape(tmp_path, exe, insn, global_name):
    """exe's publish() stores a block's address as a constant (insn, a
    regular expression its disassembly must match) into global_name: one
    global escape there."""
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(exe)],
                         capture_output=True, text=True, check=True).stdout
    body = dis.split("<publish>:", 1)[1].split("\n\n", 1)[0]
    assert re.search(insn, body), body
    r = run_tool([exe], tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    s = r.site("main")
    assert s["blocks"] == 1
    assert s["classes"]["global"] == 1, s["classes"]
    assert s["first_escape"]["at"]["fn"] == "publish"
    assert s["first_escape"]["target"].startswith("global variable '%s'" % global_name), \
        s["first_escape"]


def test_block_declared_over_code_sees_constant_store(tmp_path):
    """Stores of constants pointing into the storing code's own file
    mapping (every call's return address) are not checked, because no
    malloc'd block lives there; a block the program declares there itself
    (const_code_block.c) turns that off and has earlier translations redone."""
    exe = compile_prog("const_code_block.c", "-O2")
    _constant_escape(tmp_path, exe, r"lea\s+.*<target>", "g_fn")   # the address, rip-relative

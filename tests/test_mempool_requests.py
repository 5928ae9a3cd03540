"""Memory pools: every mempool client request and flag, with memcheck's
semantics (docs/manual.md, "Custom allocators").  Each fixture runs at -O0
and -O2; assertions that depend on call structure use sums over sites, so
that inlining and tail calls at -O2 do not matter."""
import re

import pytest

OPTS = ["-O0", "-O2"]


def classes(site):
    return {k: v for k, v in site["classes"].items() if v}


def pool_sites(r):
    return [s for s in r.sites if s["pool"] is not None]


def sum_classes(sites):
    out = {}
    for s in sites:
        for k, v in s["classes"].items():
            if v:
                out[k] = out.get(k, 0) + v
    return out


def warnings(r):
    return [l for l in r.text.splitlines() if l.startswith("Warning:")]


@pytest.mark.parametrize("opt", OPTS)
def test_memory_context_blocks_are_frame(sh, opt):
    """Context created, blocks carved, reset (TRIM to nothing) and deleted
    (DESTROY) in one function: its blocks could have been locals."""
    r = sh("pool_context.c", opt=opt,
           tool_args=("--alloc-fn=palloc", "--alloc-fn=ctx_create"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "context 13\n"
    assert warnings(r) == []
    work = [s for s in pool_sites(r) if s["stack"][0]["fn"] == "work"]
    assert sum(s["blocks"] for s in work) == 8
    assert sum_classes(work) == {"frame": 8}
    for s in work:
        assert s["homes"] == [{"depth": 0, "fn": "work", "blocks": s["blocks"]}]
        # the pool's site: the ctx_create call in work (ctx_create is an
        # allocator function here, so its caller names the pool)
        assert s["pool"]["created_at"]["fn"] == "work"
        assert s["pool"]["created_at"]["file"].endswith("pool_context.c")
        assert s["pool"]["mixed"] is False
    # escapes of pool blocks work as for malloc's
    leaky = [s for s in pool_sites(r) if s["stack"][0]["fn"] == "leaky"]
    assert sum_classes(leaky) == {"global": 1}
    assert leaky[0]["first_escape"]["target"] == "global variable 'g_keep'"
    # suggestions for pool blocks speak of the pool
    texts = [g["text"] for g in r.suggestions("use_stack_allocation")
             if g["site"] in [s["id"] for s in work]]
    assert texts and all("pool block" in t and "from the memory pool created at work"
                         in t for t in texts), texts
    assert not any(g["kind"] == "object_pool" and g["site"] in [s["id"] for s in work]
                   for g in r.json["suggestions"])
    # the text report names the pool too
    assert "from the memory pool created at work (pool_context.c:" in r.text


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize("mode,expect_obj,chunk_blocks", [
    ("auto", {"frame": 10}, 0),        # METAPOOL|AUTO_FREE: objects die with the chunk
    ("meta", {"never_freed": 10}, 0),  # METAPOOL: chunk not counted, objects stay
    ("plain", {"never_freed": 10}, 1), # no flags: the chunk is a pool block itself
])
def test_metapool_and_auto_free(sh, opt, mode, expect_obj, chunk_blocks):
    r = sh("pool_meta.c", mode, opt=opt,
           tool_args=("--alloc-fn=obj_alloc", "--alloc-fn=chunk_alloc"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{mode} 45\n"
    assert warnings(r) == []            # nesting is legal: no overlap warning
    objs = [s for s in r.sites if s["max_size"] == 16 and s["stack"][0]["fn"] == "build"]
    assert sum(s["blocks"] for s in objs) == 10
    assert sum_classes(objs) == expect_obj
    chunks = [s for s in r.sites if s["max_size"] == 1024]
    assert sum(s["blocks"] for s in chunks) == chunk_blocks
    if chunk_blocks:
        assert sum_classes(chunks) == {"frame": 1}
        assert objs[0]["pool"] is None      # MALLOCLIKE blocks of no metapool
    else:
        # objects carved from a metapool's chunk belong to that pool
        assert objs[0]["pool"]["created_at"]["fn"] == "main"
    if mode == "auto":
        assert objs[0]["homes"] == [{"depth": 0, "fn": "build", "blocks": 10}]


@pytest.mark.parametrize("opt", OPTS)
def test_objects_nested_in_a_plain_pool_at_exit(sh, opt):
    """memcheck aborts when MALLOCLIKE blocks still nest in a live block of a
    pool that is no METAPOOL at exit; stackheap says so once."""
    r = sh("pool_meta.c", "leave", opt=opt,
           tool_args=("--alloc-fn=obj_alloc", "--alloc-fn=chunk_alloc"))
    assert r.returncode == 0, r.stderr
    w = warnings(r)
    assert len(w) == 1, w
    assert re.fullmatch(r"Warning: at exit, 10 VALGRIND_MALLOCLIKE_BLOCK blocks still lie "
                        r"inside live blocks of pool #1 \(created at main \(pool_meta\.c:\d+\)\), "
                        r"which is not a VALGRIND_MEMPOOL_METAPOOL \(memcheck aborts on such "
                        r"overlaps; both are counted as blocks\)", w[0]), w
    chunks = [s for s in r.sites if s["max_size"] == 1024]
    assert sum_classes(chunks) == {"never_freed": 1}


@pytest.mark.parametrize("opt", OPTS)
def test_trim_frees_outside_and_cuts_straddling(sh, opt):
    r = sh("pool_trim.c", opt=opt)
    assert r.returncode == 0, r.stderr
    assert warnings(r) == []
    ps = pool_sites(r)
    assert sum(s["blocks"] for s in ps) == 6
    # 3 outside the kept range freed by the trim (in main, after the
    # allocating functions returned); 2 inside and 1 cut stay live
    assert sum_classes(ps) == {"caller": 3, "never_freed": 3}
    assert sum(s["live_blocks"] for s in ps) == 3
    assert sum(s["reallocs"] for s in ps) == 1      # the cut block
    assert all(s["pool"]["created_at"]["fn"] == "main" for s in ps)


@pytest.mark.parametrize("opt", OPTS)
def test_move_change_exists(sh, opt):
    r = sh("pool_move.c", opt=opt)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "exists 0 1\n"
    w = warnings(r)
    assert len(w) == 1 and "through an address that is not a memory pool" in w[0], w
    assert "pool #1 (created at fill (pool_move.c:" in w[0]
    assert r.totals["bad_frees"] == 1
    ps = pool_sites(r)
    assert sum(s["blocks"] for s in ps) == 3
    assert sum_classes(ps) == {"caller": 3}
    # the changed block kept its site: moved and grown to 48 bytes
    assert sum(s["reallocs"] for s in ps) == 1
    assert max(s["max_size"] for s in ps) == 48
    assert all(s["stack"][0]["fn"] == "fill" for s in ps)
    assert sum(s["live_blocks"] for s in ps) == 0   # DESTROY through the new handle


@pytest.mark.parametrize("opt", OPTS)
def test_destroy_frees_every_block(sh, opt):
    """mempool.c: blocks left in the pool are freed by DESTROY (caller)."""
    r = sh("mempool.c", opt=opt, tool_args=("--alloc-fn=mp_alloc",))
    assert r.returncode == 0, r.stderr
    assert warnings(r) == []
    ps = pool_sites(r)
    assert sum(s["blocks"] for s in ps) == 11
    assert sum(s["live_blocks"] for s in ps) == 0
    assert sum_classes(ps) == {"frame": 7, "caller": 4}


def test_merge_keeps_the_pool(sh, tmp_path):
    """sh_annotate --merge keeps sites[].pool."""
    import json
    import subprocess
    from conftest import ROOT, compile_prog, run_tool
    exe = compile_prog("pool_trim.c")
    paths = []
    for i in range(2):
        d = tmp_path / str(i)
        d.mkdir()
        r = run_tool([exe], tmp_path=d)
        paths.append(r.json_path)
    out = tmp_path / "merged.json"
    p = subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "sh_annotate"), "--merge",
                        *map(str, paths), "-o", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    merged = json.loads(out.read_text())
    ps = [s for s in merged["sites"] if s.get("pool")]
    assert sum(s["blocks"] for s in ps) == 12
    assert all(s["pool"]["created_at"]["fn"] == "main" for s in ps)


@pytest.mark.parametrize("opt", OPTS)
def test_custom_block_requests(sh, opt):
    """MALLOCLIKE, FREELIKE and RESIZEINPLACE (custom_pool.c) at both levels."""
    r = sh("custom_pool.c", opt=opt, tool_args=("--alloc-fn=pool_alloc",))
    assert r.returncode == 0, r.stderr
    assert warnings(r) == []
    assert (r.totals["blocks"], r.totals["bytes"], r.totals["bad_frees"]) == (12, 4464, 0)
    custom = [s for s in r.sites if s["max_size"] in (32, 48)]
    assert sum(s["blocks"] for s in custom) == 11
    assert sum_classes(custom) == {"frame": 11}
    assert sum(s["reallocs"] for s in custom) == 1     # the in-place growth
    assert all(s["pool"] is None for s in r.sites)      # no memory pool here


@pytest.mark.parametrize("opt,seed", [("-O0", "1"), ("-O2", "2"), ("-O2", "3")])
def test_random_requests_never_crash(sh, opt, seed):
    """20,000 random pool and custom-block requests, valid and not: no crash,
    and every block counted once (sites add up to the totals)."""
    r = sh("pool_random.c", "20000", seed, opt=opt)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == "random done\n"
    assert "Assertion" not in r.stderr and "impossible" not in r.stderr
    t = r.totals
    assert t["blocks"] > 1000
    assert sum(s["blocks"] for s in r.sites) == t["blocks"]
    assert sum(t["classes"].values()) == t["blocks"]
    for s in r.sites:
        assert sum(s["classes"].values()) == s["blocks"], s

"""Warnings for misused pools and custom blocks: each says what happened,
once per stack (however often), with the stack; every one that freed
nothing counts in totals.bad_frees."""
import re

import pytest

OPTS = ["-O0", "-O2"]


def warnings(r):
    return [l for l in r.text.splitlines() if l.startswith("Warning:")]


def stack_after(r, warning):
    """The stack lines printed right after a warning."""
    lines = r.text.splitlines()
    i = lines.index(warning)
    out = []
    for l in lines[i + 1:]:
        if not l.startswith("   "):
            break
        out.append(l.strip())
    return out


@pytest.mark.parametrize("opt", OPTS)
def test_free_through_wrong_pool(sh, opt):
    r = sh("pool_wrong.c", opt=opt)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "exists 1 1 0\n"
    w = warnings(r)
    wrong = [l for l in w if "through pool #2" in l]
    # three times from one line: printed once
    assert len(wrong) == 1, w
    assert ("VALGRIND_MEMPOOL_FREE of a block of pool #1 (created at make_a (pool_wrong.c:"
            in wrong[0])
    assert "through pool #2 (created at make_b (pool_wrong.c:" in wrong[0]
    assert stack_after(r, wrong[0])[0].startswith("at free_via (pool_wrong.c:")
    nopool = [l for l in w if "of a block of pool #1" in l and "not a memory pool" in l]
    assert len(nopool) == 1, w
    # the legitimate frees afterwards are no double free; the real one is
    double = [l for l in w if "double free" in l]
    assert len(double) == 1, w
    assert any("pool_wrong.c:37" in s for s in stack_after(r, double[0])), \
        stack_after(r, double[0])
    alloc = [l for l in w if "VALGRIND_MEMPOOL_ALLOC through an address that is not" in l]
    assert len(alloc) == 1
    assert len(w) == 4, w
    # 3 wrong-pool + 1 no-pool + 1 double free freed nothing
    assert r.totals["bad_frees"] == 5
    ps = [s for s in r.sites if s["pool"] is not None]
    assert sum(s["blocks"] for s in ps) == 2           # the bad ALLOC tracked nothing
    assert sum(s["classes"]["frame"] for s in ps) == 2  # freed by the right frees


@pytest.mark.parametrize("opt", OPTS)
def test_realloc_moved_and_freelike_misuse(sh, opt):
    r = sh("pool_misuse.c", opt=opt)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "misuse done\n"
    w = warnings(r)
    moved = [l for l in w if "realloc() had already moved" in l]
    assert len(moved) == 1 and moved[0].startswith("Warning: free() of a block"), w
    assert any(s.startswith("by stale_free (pool_misuse.c:")
               for s in stack_after(r, moved[0]))
    fm = [l for l in w if "VALGRIND_FREELIKE_BLOCK of a block allocated by malloc()" in l]
    assert len(fm) == 1, w
    assert stack_after(r, fm[0])[0].startswith("at freelike_malloc (pool_misuse.c:")
    fp = [l for l in w if "VALGRIND_FREELIKE_BLOCK of a memory pool's block" in l]
    assert len(fp) == 1, w
    fc = [l for l in w if l.startswith("Warning: free() of a custom allocator's block")]
    assert len(fc) == 1, w
    assert any(s.startswith("by free_custom (pool_misuse.c:") for s in stack_after(r, fc[0]))
    assert not any("not the start of a live heap block" in l for l in w), w
    assert len(w) == 4, w
    assert r.totals["bad_frees"] == 6
    fcs = [s for s in r.sites if s["stack"][0]["fn"] == "free_custom"]
    assert fcs and fcs[0]["classes"]["frame"] == 1 and fcs[0]["live_blocks"] == 0
    # the malloc'd block survived the refused FREELIKE and free() freed it
    fml = [s for s in r.sites if s["stack"][0]["fn"] == "freelike_malloc"]
    assert fml and fml[0]["classes"]["frame"] == 1 and fml[0]["live_blocks"] == 0


def test_replaces_malloc_and_toolname(sh, tmp_path):
    """Core requests of valgrind.h 3.20+ that the 3.19 core hands to tools."""
    src = tmp_path / "req.c"
    src.write_text(r'''
#include <stdio.h>
#include <valgrind/valgrind.h>
int main(void)
{
    unsigned long res = 0; char buf[32] = "";
    VALGRIND_DO_CLIENT_REQUEST(res, 0, 0x1003, 0, 0, 0, 0, 0);
    printf("replaces %lu\n", res);
    VALGRIND_DO_CLIENT_REQUEST(res, 0, 0x1004, buf, sizeof buf, 0, 0, 0);
    printf("tool %s %lu\n", buf, res);
    return 0;
}
''')
    import subprocess
    from conftest import run_tool
    exe = tmp_path / "req"
    subprocess.run(["gcc", "-g", "-o", str(exe), str(src), "-I", "/usr/include/valgrind"],
                   check=True)
    r = run_tool([exe], tmp_path=tmp_path)
    assert r.stdout == "replaces 1\ntool stackheap 10\n", r.stderr


@pytest.mark.parametrize("opt", OPTS)
def test_every_misused_pool_request(sh, opt):
    r = sh("pool_errors.c", opt=opt)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "errors done\n"
    w = warnings(r)
    expected = [
        r"VALGRIND_CREATE_MEMPOOL with the handle of pool #1 \(created at main \(pool_errors\.c:\d+\)\), which was not destroyed",
        r"VALGRIND_CREATE_MEMPOOL with a null handle \(ignored\)",
        r"VALGRIND_MEMPOOL_ALLOC through an address that is not a memory pool",
        r"pool #2 \(created at .*\) has VALGRIND_MEMPOOL_AUTO_FREE without VALGRIND_MEMPOOL_METAPOOL",
        r"VALGRIND_DESTROY_MEMPOOL of an address that is not a memory pool",
        r"VALGRIND_MEMPOOL_TRIM of an address that is not a memory pool",
        r"VALGRIND_MOVE_MEMPOOL of an address that is not a memory pool",
        r"VALGRIND_MOVE_MEMPOOL onto the handle of pool #2 ",
        r"VALGRIND_MEMPOOL_CHANGE moves or grows a block onto another tracked block",
        r"VALGRIND_MEMPOOL_CHANGE of a block of pool #1 \(.*\) through an address that is not a memory pool",
        r"VALGRIND_MEMPOOL_FREE through pool #1 \(.*\) of a block allocated by malloc\(\)",
        r"VALGRIND_MEMPOOL_FREE through pool #1 \(.*\) of a VALGRIND_MALLOCLIKE_BLOCK block",
        r"VALGRIND_MEMPOOL_FREE of a block of pool #3 \(.*\) through pool #1 ",
    ]
    for pat in expected:
        hits = [l for l in w if re.search(pat, l)]
        assert len(hits) == 1, (pat, w)
        assert stack_after(r, hits[0])[0].startswith("at main (pool_errors.c:")
    assert len(w) == len(expected), w
    assert r.totals["bad_frees"] == 4
    # the metapool's chunk, shrunk by MEMPOOL_CHANGE and freed through its own
    # pool, auto-freed the two objects inside it
    meta = [s for s in r.sites if s["pool"] is not None and s["max_size"] == 16
            and s["pool"]["created_at"]["line"] != pool1_line(r)]
    assert sum(s["classes"]["frame"] for s in meta) == 2, r.sites
    assert sum(s["live_blocks"] for s in r.sites if s["stack"][0]["fn"] == "main") == 0


def pool1_line(r):
    """Line of pool #1's creation, from the first warning."""
    m = re.search(r"pool #1 \(created at main \(pool_errors\.c:(\d+)\)\)", r.text)
    return int(m.group(1))

"""Allocation sites are remembered per stack (sh_sites.c), and so are the
per-IP answers that make them (allocator frame to trim, start-up code):
both must be dropped when the code at an address changes.  A library is
closed and another one loaded at its address; its function allocating
from the same IPs is told apart from the first one's."""
import re
import subprocess

import pytest

from conftest import BUILD, PROGS, compile_prog, run_tool


STATS = re.compile(r"stackheap: ([\d,]+) allocation stacks: ([\d,]+) sites remembered, "
                   r"([\d,]+) longer unwinds")


def libs():
    out = []
    BUILD.mkdir(parents=True, exist_ok=True)
    for name in ("first_lib_fn", "other_lib_fn"):
        so = BUILD / ("site_epochs_%s.so" % name)
        src = PROGS / "site_epochs_lib.c"
        if not so.exists() or so.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["gcc", "-g", "-O0", "-shared", "-fPIC", "-DLIB_NAME=" + name,
                            "-o", str(so), str(src)], check=True)
        out.append(so)
    return out


def lib_sites(run):
    """(frame names up to call_lib, blocks) of the sites in the libraries."""
    got = []
    for s in run.sites:
        fns = [f["fn"] for f in s["stack"]]
        if "lib_alloc" in fns and "call_lib" in fns:
            got.append((tuple(fns[:fns.index("call_lib") + 1]), s["blocks"]))
    return sorted(got)


def run(tmp_path, tool_args):
    exe = compile_prog("site_epochs.c", extra=("-ldl",))
    r = run_tool([exe] + libs(), tool_args=tool_args, tmp_path=tmp_path)
    assert r.returncode == 0, r.text
    if "same-address" not in r.stdout:
        pytest.skip("the loader put the second library elsewhere")
    return r


def test_trimmed_frame_not_trimmed_in_the_next_library(tmp_path):
    # first_lib_fn is an allocation function: trimmed from the first
    # library's stacks.  other_lib_fn, at its address in the second
    # library, is not: its allocations are a site of their own with it.
    r = run(tmp_path, ("--alloc-fn=first_lib_fn",))
    assert lib_sites(r) == [(("lib_alloc", "call_lib"), 5),
                            (("other_lib_fn", "lib_alloc", "call_lib"), 7)]


def test_same_ips_after_reload_are_another_site_with_keep_debuginfo(tmp_path):
    # Without --keep-debuginfo the core forgets the first library's code,
    # and the same IPs are the same ExeContext, one site.
    r = run(tmp_path, ("--stats=yes",))
    assert lib_sites(r) == [(("other_lib_fn", "lib_alloc", "call_lib"), 12)]
    # the sites were remembered: each library's first two allocations
    # look their site up (the first unwinds with the CFI, the second reads
    # the shortened stack from the shadow stack: another key), the next
    # ones (3 + 5) find it remembered
    m = STATS.search(r.text)
    assert m, r.text
    stacks, remembered = (int(m.group(i).replace(",", "")) for i in (1, 2))
    assert 8 <= remembered < stacks, r.text
    # With it, the first library's ExeContexts are archived: the same IPs
    # in the second library make another ExeContext, another site.  (The
    # report names both by the code mapped at the end: the second's.)
    r = run(tmp_path, ("--keep-debuginfo=yes",))
    assert lib_sites(r) == [(("other_lib_fn", "lib_alloc", "call_lib"), 5),
                            (("other_lib_fn", "lib_alloc", "call_lib"), 7)]


@pytest.mark.parametrize("alloc_fn", [False, True])
@pytest.mark.parametrize("depth", [1, 4, 12])
def test_deep_stacks_remembered(tmp_path, alloc_fn, depth):
    """An allocation first unwinds --depth + 1 frames (more after one
    through an --alloc-fn wrapper): enough for a deep stack's site, which
    is then remembered."""
    exe = compile_prog("site_depths.c")
    args = ["--stats=yes", "--depth=%d" % depth] + (["--alloc-fn=wrap_alloc"] if alloc_fn else [])
    r = run_tool([exe, "30", "200"], tool_args=args, tmp_path=tmp_path)
    assert r.returncode == 0, r.text
    top = "leaf" if alloc_fn else "wrap_alloc"
    leaf_down = ["leaf"] + ["down"] * 30
    want = (leaf_down if alloc_fn else ["wrap_alloc"] + leaf_down)[:depth]
    wrapped = [s for s in r.sites if s["bytes"] == 200 * 32]
    direct = [s for s in r.sites if s["bytes"] == 200 * 16]
    assert [[f["fn"] for f in s["stack"]] for s in wrapped] == [want]
    assert [[f["fn"] for f in s["stack"]] for s in direct] == [leaf_down[:depth]]
    assert wrapped[0]["stack"][0]["fn"] == top
    m = STATS.search(r.text)
    assert m, r.text
    stacks, remembered, longer = (int(m.group(i).replace(",", "")) for i in (1, 2, 3))
    # each stack is looked up once, then remembered (a few more: start-up);
    # only the first wrapped allocation unwinds again (the next ones take
    # one more frame at once)
    assert remembered >= 400 - 4 and stacks - remembered < 40, r.text
    assert longer <= (1 if alloc_fn else 0), r.text



@pytest.mark.parametrize("depth", [4, 5])
def test_merged_recursion_unwinds_as_before(tmp_path, depth):
    """With --merge-recursive-frames a short unwind's frames are not a
    longer one's first frames: a ping/pong recursion merged 2 frames at a
    time ends with main's frame where a short unwind has ping's.  The
    first unwind is then the full --depth + 4 frames it always was, and
    the stacks are main's (a --depth + 1 frame unwind would end in ping)."""
    exe = compile_prog("site_depths.c")
    r = run_tool([exe, "30", "20", "mutual"],
                 tool_args=("--stats=yes", "--merge-recursive-frames=2", "--depth=%d" % depth),
                 tmp_path=tmp_path)
    assert r.returncode == 0, r.text
    got = sorted((s["blocks"], [f["fn"] for f in s["stack"]]) for s in r.sites)
    assert got == [(20, ["leaf", "ping", "pong", "main"]),
                   (20, ["wrap_alloc", "leaf", "ping", "pong", "main"][:depth])]
    m = STATS.search(r.text)
    assert m and int(m.group(2).replace(",", "")) >= 36, r.text

"""Allocation and free stacks read from the shadow stack (sh_sites.c):
once CFI unwinds have given the frame gap at each IP of a stack, the
stack is read from the shadow frames' return address slots instead of
unwinding again.  The first rounds of each program unwind with the CFI,
the later ones read the shadow stack, so one site holding every round's
blocks, with the frames the unwinder gives, shows that both gave the
same stack; a wrong read would make another site or move blocks.  The
programs put frames on the shadow stack that are not the unwinder's:
frames left by longjmp under a VLA, a frame left by a call before a
sibling call, a signal handler's, stacks that end in start-up code."""
import re

import pytest

from conftest import compile_prog, run_tool

N = 60
UNWINDS = re.compile(r"allocation stacks: .* ([\d,]+) read from the shadow stack; "
                     r"unwinds \(allocations and frees\): ([\d,]+) from the shadow stack, "
                     r"([\d,]+) with the CFI")

# (-O0 keeps every call; -O2 makes release() and via_tail() tail calls)
BUILDS = {"O0": ("-O0", ()), "O2": ("-O2", ()), "O2-nofp": ("-O2", ("-fomit-frame-pointer",))}


def run(tmp_path, build, mode, tool_args=()):
    opt, extra = BUILDS[build]
    exe = compile_prog("shadow_unwind.c", opt=opt, extra=extra)
    r = run_tool([exe, mode, N], tool_args=("--stats=yes",) + tuple(tool_args),
                 tmp_path=tmp_path)
    assert r.returncode == 0, r.text
    m = UNWINDS.search(r.text)
    assert m, r.text
    r.stacks_read, r.shadow_unwinds, r.cfi_unwinds = \
        (int(m.group(i).replace(",", "")) for i in (1, 2, 3))
    return r


def stacks(r, fn):
    """{(frame names...): blocks} of the sites whose stack has fn."""
    return {tuple(f["fn"] for f in s["stack"]): s["blocks"] for s in r.sites_in(fn)}


def freed_by(r, fn):
    """The free_sites of the sites whose stack has fn, merged."""
    out = {}
    for s in r.sites_in(fn):
        for f in s.get("free_sites", []):
            out[f["fn"]] = out.get(f["fn"], 0) + f["blocks"]
    return out


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_longjmp_leaves_frames_under_a_vla(tmp_path, build):
    # dive()'s 20 frames stay on the shadow stack below after_jump()'s
    # slot, their return addresses intact: the stack read passes over them.
    r = run(tmp_path, build, "jump")
    assert stacks(r, "leaf_alloc") == {("leaf_alloc", "after_jump", "main"): N}, r.text
    assert freed_by(r, "leaf_alloc") == {"release": N}
    assert r.stacks_read >= N - 5 and r.shadow_unwinds >= 2 * N - 10, r.text


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_frames_of_changing_size(tmp_path, build):
    # A VLA or alloca whose size changes: the gap at the call changes, so
    # those stacks are unwound with the CFI, and the sites are the same.
    for mode, fn in (("jumpvla", "after_jump"), ("alloca", "alloca_path")):
        r = run(tmp_path, build, mode)
        assert stacks(r, "leaf_alloc") == {("leaf_alloc", fn, "main"): N}, r.text
        assert freed_by(r, "leaf_alloc") == {"release": N}


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_tail_calls(tmp_path, build):
    # via_tail() calls helper(), then (-O2) jumps to make_obj(), whose
    # frame covers helper()'s slot; release() jumps to free.  The free's
    # caller is named by release() either way (sh_alloc.c: free_caller).
    r = run(tmp_path, build, "tail")
    # (-O2: tail_caller() also ends in a tail call to release(); a chain
    # of tail calls to free is named by its first function)
    if build.startswith("O2"):
        want, freer = ("make_obj", "tail_caller", "main"), "tail_caller"
    else:
        want, freer = ("make_obj", "via_tail", "tail_caller", "main"), "release"
    assert stacks(r, "make_obj") == {want: N}, r.text
    assert freed_by(r, "make_obj") == {freer: N}
    assert r.stacks_read >= N - 5 and r.shadow_unwinds >= 2 * N - 10, r.text


@pytest.mark.parametrize("mode", ["signal", "altstack"])
def test_handler_allocates(tmp_path, mode):
    # The handler's frames are the shadow stack's; past them is the
    # handler's pseudo-frame (or the alternate stack): unwound with the CFI.
    r = run(tmp_path, "O0", mode)
    got = stacks(r, "handler")
    assert list(got.values()) == [N], r.text
    assert list(got)[0][:2] == ("leaf_alloc", "handler"), r.text
    assert freed_by(r, "handler") == {"release": N}


@pytest.mark.parametrize("build", ["O0", "O2"])
def test_alloc_fn_wrappers_deep(tmp_path, build):
    r = run(tmp_path, build, "wrap", ("--alloc-fn=wrap_alloc", "--alloc-fn=wrap_outer"))
    # 21 wrap_down frames: the 12 of --depth
    assert stacks(r, "wrap_down") == {("wrap_down",) * 12: N}, r.text
    # (-O2: wrap_down() ends in a tail call to release())
    assert freed_by(r, "wrap_down") == {"release" if build == "O0" else "wrap_down": N}
    assert r.stacks_read >= N - 5 and r.shadow_unwinds >= 2 * N - 10, r.text


@pytest.mark.parametrize("depth", [4, 12])
def test_deep_recursion(tmp_path, depth):
    # rec(30) allocates at d = 30, 27, ..., 0: the stack from d has
    # 30 - d rec frames above the first one, then main.
    r = run(tmp_path, "O0", "deep", ("--depth=%d" % depth,))
    want = {}
    for d in range(30, -1, -3):
        st = (("leaf_alloc",) + ("rec",) * (31 - d) + ("main",))[:depth]
        want[st] = want.get(st, 0) + N
    assert stacks(r, "leaf_alloc") == want, r.text
    assert r.stacks_read >= 11 * N - 30 and r.shadow_unwinds >= 2 * 11 * N - 60, r.text


def test_threads_and_start_up_code(tmp_path):
    # Stacks end in start-up code (start_thread, __libc_start_main): the
    # read stops there, where sites are cut.
    r = run(tmp_path, "O0", "thread")
    assert stacks(r, "leaf_alloc") == {("leaf_alloc", "worker"): 2 * N}, r.text
    assert r.stacks_read >= 2 * N - 10 and r.shadow_unwinds >= 4 * N - 20, r.text
    r = run(tmp_path, "O0", "shallow")
    assert stacks(r, "leaf_alloc") == {("leaf_alloc", "main"): N}, r.text
    assert freed_by(r, "leaf_alloc") == {"release": N}
    assert r.stacks_read >= N - 5 and r.shadow_unwinds >= 2 * N - 10, r.text


def test_merge_recursive_frames_always_unwinds(tmp_path):
    # The unwinder drops recursive frames then: no stack is read from the
    # shadow stack, and the sites are the unwinder's.
    r = run(tmp_path, "O0", "deep", ("--merge-recursive-frames=1", "--depth=4"))
    assert r.stacks_read == r.shadow_unwinds == 0 and r.cfi_unwinds >= 2 * 11 * N, r.text
    assert sum(stacks(r, "leaf_alloc").values()) == 11 * N

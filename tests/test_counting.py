"""Counts the generated code keeps: the time base (guest instructions) and
the shadow stacks' frame statistics.  Both are kept by inline code and by
the on_call helper's fast and general paths; these tests pin them exactly
by difference, so that a count lost or doubled anywhere (a signal frame
restoring the shadow guest state, a thread's count never folded in, a
frame pushed twice or not at all) changes a number."""
import re

import pytest

from conftest import compile_prog, run_tool

N = 100000


def lifetimes(r):
    return {s["stack"][0]["fn"]: s["avg_lifetime_instrs"] for s in r.json["sites"]
            if s["stack"][0]["fn"].startswith("round_")}


@pytest.mark.parametrize("mode", ["plain", "signal", "altstack"])
def test_time_counts_every_instruction_once(sh, mode):
    """round_long spins N more iterations of two instructions than
    round_short, in main or in a signal handler (on the thread's stack or
    on the alternate stack): its block lives exactly 2N instructions
    longer."""
    r = sh("count_time.c", mode, str(N))
    assert r.returncode == 0
    lt = lifetimes(r)
    assert lt["round_short"] >= 2 * N
    assert lt["round_long"] - lt["round_short"] == 2 * N
    assert r.totals["instructions"] > 2 * (N + N + 2 * N)


def test_time_counts_other_threads(sh):
    """The spinning is done by a second thread that main joins: its
    instructions count too (the two rounds' thread start-up and join differ
    by a few futex loop passes)."""
    r = sh("count_time.c", "thread", str(N))
    assert r.returncode == 0
    lt = lifetimes(r)
    assert abs(lt["round_long"] - lt["round_short"] - 2 * N) < 2000
    assert r.totals["instructions"] > 2 * (N + N + 2 * N)


def _frames(tmp_path, exe, *args, tool_args=()):
    r = run_tool([exe, *map(str, args)], tool_args=tool_args, tmp_path=tmp_path,
                 json_name="cc-%s.json" % "-".join(map(str, args)))
    assert r.returncode == 0, r.text[-2000:]
    bottom = [s for s in r.json["sites"] if s["stack"][0]["fn"] == "rec"]
    assert len(bottom) == 1 and bottom[0]["classes"]["frame"] == 1
    assert bottom[0]["homes"] == [{"depth": 0, "fn": "rec", "blocks": 1}]
    t = r.totals
    return t["frames"], t["max_stack_depth"], t["max_stack_bytes"]


@pytest.mark.parametrize("tool_args", [(), ("--sanity-level=3",)])
def test_frames_counted_exactly(tmp_path, tool_args):
    """Sibling calls (the returned callee's frame replaced), a recursion
    past the shadow array's initial 256 frames, and recursions left by
    longjmp each add exactly their calls to the frame count; the maximum
    depth moves with the recursion only."""
    exe = compile_prog("count_calls.c")
    f = lambda *a: _frames(tmp_path, exe, *a, tool_args=tool_args)
    base = f(1000, 100, 1)
    more_calls = f(3000, 100, 1)
    deeper = f(1000, 700, 1)
    jumps3, jumps4 = f(1000, 100, 3), f(1000, 100, 4)
    assert more_calls == (base[0] + 2000, base[1], base[2])
    assert deeper[0] == base[0] + 600 and deeper[1] == base[1] + 600
    assert (deeper[2] - base[2]) % 600 == 0 and deeper[2] > base[2]
    per_jump = jumps4[0] - jumps3[0]
    assert per_jump >= 50 + 1 and jumps3[0] - base[0] == 2 * per_jump
    assert jumps3[1:] == jumps4[1:] == base[1:]


@pytest.mark.parametrize("mode", ["thread", "altstack"])
def test_sanity_checks_every_count_folded(sh, mode):
    """--sanity-level=3 checks, at every system call and thread switch, that
    no thread but the running one has instructions not yet in the total."""
    r = sh("count_time.c", mode, str(N), tool_args=("--sanity-level=3", "--stats=yes"))
    assert r.returncode == 0, r.text[-2000:]
    m = re.search(r"stackheap: ([\d,]+) cheap and ([\d,]+) full sanity checks passed", r.text)
    assert m and int(m.group(2).replace(",", "")) > 10, r.text[-2000:]
    assert "sanity check failed" not in r.text

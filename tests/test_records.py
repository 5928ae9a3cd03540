"""Block records stay small (issue 10): --stats=yes names the record size
and how many side records were live at most; only blocks that need one
(resized, escaped to a global, ...) get a side record, and the verdicts do
not depend on where a field is kept."""
import re

from conftest import run_tool


def test_plain_blocks_have_no_side_record(sh):
    r = sh("records.c", tool_args=("--stats=yes", "--sanity-level=3"))
    assert r.returncode == 0, r.stderr
    m = re.search(r"block records (\d+) bytes each, side records (\d+) bytes each "
                  r"\(([\d,]+) live at most\)", r.stderr)
    assert m, r.stderr
    # 4 million live blocks within 100 bytes each, table and arena included
    assert int(m.group(1)) <= 64
    assert int(m.group(3).replace(",", "")) == 11
    assert "sanity check failed" not in r.stderr
    s = r.site("make")
    assert s["blocks"] == 1000
    assert s["classes"]["global"] == 1
    assert s["classes"]["frame"] + s["classes"]["caller"] == 999
    assert s["max_size"] == 48 and s["min_size"] == 24
    # the grown blocks count their largest size once: 990 * 24 + 10 * 48
    assert s["bytes"] == 990 * 24 + 10 * 48


def test_too_many_threads_for_a_record_is_refused(tmp_path):
    # Block.tid has 16 bits: more threads than that is refused at start,
    # with a message, instead of an assertion in the middle of the run.
    r = run_tool(["/bin/true"], tool_args=("--max-threads=70000",), tmp_path=tmp_path)
    assert r.returncode == 1
    assert "--max-threads=70000 is more than the 65536 threads" in r.stderr
    ok = run_tool(["/bin/true"], tool_args=("--max-threads=65536",), tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr

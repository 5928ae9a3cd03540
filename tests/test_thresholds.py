"""CI thresholds (--max-escape-rate, --max-alloc-rate, --max-eligible-blocks) and
the exit status: a crossed threshold prints "THRESHOLD CROSSED" on the log; the
run keeps the program's own exit status unless --error-exitcode=N is given, in
which case it exits N.  sug_thresh.c: 80 blocks escape into a global, 20 are
frame-local, and the program exits 7 (argv: escaping local code).
"""
import re
import shutil
import subprocess

import pytest

from conftest import compile_prog, run_tool

CROSSED = "THRESHOLD CROSSED"


def crossed_lines(run):
    return [l for l in run.text.splitlines() if CROSSED in l]


# ------------------------------------------------------------- escape rate ----

def test_escape_rate_crossed_keeps_program_exit_code(sh):
    r = sh("sug_thresh.c", tool_args=["--max-escape-rate=0.1"])
    assert r.returncode == 7
    [line] = crossed_lines(r)
    assert "escape rate 0.800 > --max-escape-rate=0.100" in line
    assert "80 of 100 blocks could not live on the stack" in line
    assert "--error-exitcode" in r.text          # the hint how to fail the run
    assert r.totals["escape_rate"] == pytest.approx(0.8)


def test_escape_rate_crossed_with_error_exitcode(sh):
    r = sh("sug_thresh.c", tool_args=["--max-escape-rate=0.1", "--error-exitcode=3"])
    assert r.returncode == 3
    assert len(crossed_lines(r)) == 1
    assert r.json is not None and r.totals["blocks"] == 100   # report still written


def test_escape_rate_not_crossed(sh):
    r = sh("sug_thresh.c", tool_args=["--max-escape-rate=0.9", "--error-exitcode=3"])
    assert r.returncode == 7
    assert crossed_lines(r) == []


@pytest.mark.parametrize("limit,crossed", [("0.3", False), ("0.299", True)])
def test_escape_rate_equal_to_limit_is_not_crossed(sh, limit, crossed):
    # 3 of 10 blocks escape: exactly 0.3 (not more than 0.3).
    r = sh("sug_thresh.c", "3", "7", "0",
           tool_args=[f"--max-escape-rate={limit}", "--error-exitcode=3"])
    assert r.totals["blocks"] == 10
    assert bool(crossed_lines(r)) == crossed
    assert r.returncode == (3 if crossed else 0)


# -------------------------------------------------------------- alloc rate ----

def test_alloc_rate(tmp_path):
    exe = compile_prog("sug_thresh.c")
    base = run_tool([exe], tmp_path=tmp_path, json_name="base.json")
    blocks, instrs = base.totals["blocks"], base.totals["instructions"]
    assert blocks == 100
    floor = blocks * 1000000 // instrs      # blocks per million instructions, rounded down
    assert floor * instrs != blocks * 1000000

    # The rate is a little above `floor`: crossed.
    r = run_tool([exe], tool_args=[f"--max-alloc-rate={floor}"], tmp_path=tmp_path,
                 json_name="a.json")
    assert r.totals["instructions"] == instrs          # deterministic time base
    [line] = crossed_lines(r)
    assert f"--max-alloc-rate={floor} ({blocks} blocks in {instrs} instructions)" in line
    m = re.search(r"([\d.]+) blocks per million instructions", line)
    assert float(m.group(1)) == pytest.approx(blocks * 1e6 / instrs, abs=0.1)
    assert r.returncode == 7

    r = run_tool([exe], tool_args=[f"--max-alloc-rate={floor}", "--error-exitcode=3"],
                 tmp_path=tmp_path, json_name="b.json")
    assert r.returncode == 3

    # Below floor + 1: not crossed.
    r = run_tool([exe], tool_args=[f"--max-alloc-rate={floor + 1}", "--error-exitcode=3"],
                 tmp_path=tmp_path, json_name="c.json")
    assert crossed_lines(r) == []
    assert r.returncode == 7


# --------------------------------------------------------- eligible blocks ----

@pytest.mark.parametrize("limit,crossed", [(19, True), (20, False)])
def test_max_eligible_blocks(sh, limit, crossed):
    r = sh("sug_thresh.c", tool_args=[f"--max-eligible-blocks={limit}"])
    assert r.totals["stack_eligible_blocks"] == 20
    assert r.returncode == 7
    lines = crossed_lines(r)
    if crossed:
        [line] = lines
        assert f"20 blocks could have lived on the stack > --max-eligible-blocks={limit}" in line
    else:
        assert lines == []
    r2 = sh("sug_thresh.c",
            tool_args=[f"--max-eligible-blocks={limit}", "--error-exitcode=3"])
    assert r2.returncode == (3 if crossed else 7)


def test_all_thresholds_crossed_report_each(sh):
    r = sh("sug_thresh.c", tool_args=["--max-escape-rate=0.5", "--max-alloc-rate=0",
                                      "--max-eligible-blocks=0", "--error-exitcode=9"])
    lines = crossed_lines(r)
    assert len(lines) == 3
    assert any("escape rate" in l for l in lines)
    assert any("blocks per million" in l for l in lines)
    assert any("--max-eligible-blocks=0" in l for l in lines)
    assert r.returncode == 9


def test_no_threshold_no_warning(sh):
    r = sh("sug_thresh.c", tool_args=["--error-exitcode=3"])
    assert crossed_lines(r) == []
    assert r.returncode == 7


# ------------------------------------------------ acceptance: sqlite3 in CI ----

SQL = """\
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<300)
INSERT INTO t SELECT x, 'name' || x, x * 1.5 FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(v) FROM t WHERE name LIKE 'name1%';
SELECT name FROM t ORDER BY v DESC LIMIT 3;
"""

sqlite3 = shutil.which("sqlite3")
needs_sqlite = pytest.mark.skipif(sqlite3 is None, reason="sqlite3 not installed")


@needs_sqlite
@pytest.mark.parametrize("script", [SQL, SQL + "SELECT * FROM no_such_table;\n"],
                         ids=["ok", "sql-error"])
def test_sqlite3_escape_rate_gate(tmp_path, script):
    native = subprocess.run([sqlite3, ":memory:"], input=script, capture_output=True,
                            text=True, timeout=60)
    assert native.returncode == (0 if "no_such" not in script else 1)

    # Without a threshold: exits as sqlite3 does, same output, no warning.
    plain = run_tool([sqlite3, ":memory:"], tmp_path=tmp_path, json_name="plain.json",
                     stdin=script, timeout=300)
    assert plain.returncode == native.returncode
    assert plain.stdout == native.stdout
    assert crossed_lines(plain) == []
    assert plain.totals["blocks"] > 100

    # The acceptance: --error-exitcode=3 --max-escape-rate=0.1 exits 3
    # with a clear warning naming the rate and the limit.
    gated = run_tool([sqlite3, ":memory:"],
                     tool_args=["--error-exitcode=3", "--max-escape-rate=0.1"],
                     tmp_path=tmp_path, json_name="gated.json", stdin=script, timeout=300)
    assert gated.returncode == 3
    assert gated.stdout == native.stdout
    [line] = crossed_lines(gated)
    rate = gated.totals["escape_rate"]
    assert rate > 0.1
    blocks = gated.totals["blocks"]
    escaped = blocks - gated.totals["stack_eligible_blocks"]
    assert f"escape rate {rate:.3f} > --max-escape-rate=0.100" in line
    assert f"({escaped} of {blocks} blocks could not live on the stack)" in line

    # Without --error-exitcode the warning is printed but sqlite3's status stands.
    warned = run_tool([sqlite3, ":memory:"], tool_args=["--max-escape-rate=0.1"],
                      tmp_path=tmp_path, json_name="warned.json", stdin=script, timeout=300)
    assert warned.returncode == native.returncode
    assert len(crossed_lines(warned)) == 1

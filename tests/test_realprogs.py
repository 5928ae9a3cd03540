"""Real programs under stackheap: Debian's sqlite3, python3 and gcc.

Each must behave exactly as when run natively (same stdout, same exit status)
and produce a consistent JSON report: for the totals and for every site the
classes sum to the blocks.
"""
import glob
import json
import os
import shutil
import subprocess

import pytest

from conftest import run_tool

CLASSES = ("frame", "caller", "too_large", "global", "heap", "thread",
           "outlived", "never_freed")


def check_report(j):
    assert j["format"] == "stackheap-2"
    t = j["totals"]
    assert sum(t["classes"][c] for c in CLASSES) == t["blocks"]
    assert sum(s["blocks"] for s in j["sites"]) == t["blocks"]
    assert sum(s["bytes"] for s in j["sites"]) == t["bytes"]
    assert t["stack_eligible_blocks"] == t["classes"]["frame"] + t["classes"]["caller"]
    assert t["bad_frees"] == 0
    for s in j["sites"]:
        assert sum(s["classes"][c] for c in CLASSES) == s["blocks"], s
        assert 1 <= s["max_live"] <= s["blocks"]
        assert s["min_size"] <= s["max_size"]
        assert len(s["stack"]) >= 1
    ids = [s["id"] for s in j["sites"]]
    assert ids == list(range(1, len(ids) + 1))
    blocks = [s["blocks"] for s in j["sites"]]
    assert blocks == sorted(blocks, reverse=True)


def native(argv, stdin=None, cwd=None):
    return subprocess.run(argv, capture_output=True, text=True, input=stdin, cwd=cwd,
                          timeout=60)


@pytest.mark.skipif(not os.path.exists("/usr/bin/sqlite3"), reason="no sqlite3")
def test_sqlite3(tmp_path):
    lines = ["CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);",
             "CREATE INDEX t_name ON t(name);", "BEGIN;"]
    lines += [f"INSERT INTO t(name, v) VALUES('name{i}', {i * 0.5});" for i in range(3000)]
    lines += ["COMMIT;",
              "SELECT count(*), sum(v), max(name) FROM t;",
              "SELECT name FROM t WHERE id % 500 = 0 ORDER BY id;",
              "UPDATE t SET v = v * 2 WHERE id % 3 = 0;",
              "SELECT count(*), sum(v) FROM t WHERE v > 100;",
              "DELETE FROM t WHERE id > 2000;",
              "SELECT count(*) FROM t;"]
    script = "\n".join(lines) + "\n"
    argv = ["/usr/bin/sqlite3", ":memory:"]
    want = native(argv, stdin=script)
    assert want.returncode == 0 and "3000|" in want.stdout
    r = run_tool(argv, tool_args=("-q",), tmp_path=tmp_path, stdin=script, timeout=60)
    assert r.returncode == want.returncode
    assert r.stdout == want.stdout
    check_report(r.json)
    assert r.json["totals"]["blocks"] > 3000
    assert r.json["command"].startswith("/usr/bin/sqlite3")


WORKLOAD = """
import json
d = {}
for i in range(2000):
    d["k%d" % i] = [i, i * 2, str(i)]
lst = sorted(d.items(), key=lambda kv: -kv[1][0])[:5]
s = json.dumps(d, sort_keys=True)
back = json.loads(s)
print(len(back), sum(v[1] for v in back.values()), len(s))
print(lst[0][0], lst[-1][0])
"""


def test_python3(tmp_path):
    prog = tmp_path / "work.py"
    prog.write_text(WORKLOAD)
    argv = ["/usr/bin/python3", str(prog)]
    want = native(argv)
    assert want.returncode == 0
    assert want.stdout.startswith("2000 3998000 ")
    r = run_tool(argv, tool_args=("-q",), tmp_path=tmp_path, timeout=60)
    assert r.returncode == want.returncode
    assert r.stdout == want.stdout
    check_report(r.json)
    assert r.json["totals"]["blocks"] > 0


def test_python3_exit_status(tmp_path):
    argv = ["/usr/bin/python3", "-c", "import sys; print('bye'); sys.exit(4)"]
    r = run_tool(argv, tool_args=("-q",), tmp_path=tmp_path, timeout=60)
    assert r.returncode == 4
    assert r.stdout == "bye\n"
    check_report(r.json)


def gen_c_file(path):
    out = ["#include <stdio.h>"]
    for i in range(40):
        out.append(f"static int f{i}(int x) {{ int a[4] = {{x, {i}, x * {i}, 3}}; "
                   f"return a[x & 3] + {i}; }}")
    out.append("int main(void) { int s = 0;")
    out += [f"  s += f{i}(s);" for i in range(40)]
    out.append('  printf("%d\\n", s); return 0; }')
    path.write_text("\n".join(out) + "\n")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_gcc_c_with_children(tmp_path):
    src = tmp_path / "gen.c"
    gen_c_file(src)
    want = native(["gcc", "-c", "gen.c", "-o", "native.o"], cwd=tmp_path)
    assert want.returncode == 0
    pattern = str(tmp_path / "sh.%p.json")
    r = run_tool(["gcc", "-c", "gen.c", "-o", "tool.o"],
                 tool_args=("-q", "--trace-children=yes", f"--json-out-file={pattern}"),
                 cwd=tmp_path, timeout=60)
    assert r.returncode == want.returncode
    assert r.stdout == want.stdout
    assert (tmp_path / "tool.o").read_bytes() == (tmp_path / "native.o").read_bytes()
    reports = []
    for f in glob.glob(str(tmp_path / "sh.*.json")):
        with open(f) as fh:
            j = json.load(fh)
        assert os.path.basename(f) == f"sh.{j['pid']}.json"
        check_report(j)
        reports.append(j)
    progs = [os.path.basename(j["command"].split()[0]) for j in reports]
    # the driver, the compiler proper and the assembler each wrote a report
    assert "gcc" in progs
    assert "cc1" in progs
    assert "as" in progs
    assert len(set(j["pid"] for j in reports)) == len(reports)
    cc1 = [j for j, p in zip(reports, progs) if p == "cc1"][0]
    assert cc1["totals"]["blocks"] > 1000


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_gcc_compile_error_status(tmp_path):
    """gcc's failure status and diagnostics pass through unchanged."""
    (tmp_path / "bad.c").write_text("int main(void) { return undefined_name; }\n")
    want = native(["gcc", "-c", "bad.c", "-o", "bad.o"], cwd=tmp_path)
    assert want.returncode != 0
    pattern = str(tmp_path / "sh.%p.json")
    r = run_tool(["gcc", "-c", "bad.c", "-o", "bad.o"],
                 tool_args=("-q", "--trace-children=yes", f"--json-out-file={pattern}"),
                 cwd=tmp_path, timeout=60)
    assert r.returncode == want.returncode
    assert r.stdout == want.stdout
    assert "undefined_name" in r.stderr
    for f in glob.glob(str(tmp_path / "sh.*.json")):
        with open(f) as fh:
            check_report(json.load(fh))

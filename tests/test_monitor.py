"""vgdb monitor commands: help, report [FILE], stats, collect on|off.

tests/progs/monitor_wait.c allocates in three phases and blocks on stdin between them,
as a server waits for requests; the test sends monitor commands with
`vgdb --pid=N <command>` while it waits, then lets it go on with a line on stdin.
"""
import json
import os
import re
import select
import shutil
import subprocess

import pytest

from conftest import VALGRIND, compile_prog

pytestmark = pytest.mark.skipif(shutil.which("vgdb") is None,
                                reason="vgdb (package valgrind) is not installed")


class Waiting:
    """The program under the tool, stopped at its 'ready N' lines."""

    def __init__(self, tmp_path, tool_args=()):
        self.prefix = str(tmp_path / "vgdb-pipe")  # private FIFOs: other runs don't answer
        self.json_path = tmp_path / "final.json"
        exe = compile_prog("monitor_wait.c")
        env = dict(os.environ)
        env.pop("VALGRIND_OPTS", None)
        self.proc = subprocess.Popen(
            [VALGRIND, "--tool=stackheap", "--command-line-only=yes", "--vgdb=yes",
             f"--vgdb-prefix={self.prefix}", f"--json-out-file={self.json_path}",
             *tool_args, str(exe)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env, cwd=tmp_path)

    def expect(self, line, timeout=120):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no {line!r} from the program in {timeout} s"
        got = self.proc.stdout.readline()
        assert got == line + "\n", (got, self.proc.stderr.read() if not got else "")

    def monitor(self, *command):
        p = subprocess.run(["vgdb", f"--vgdb-prefix={self.prefix}", f"--pid={self.proc.pid}",
                            *command], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def go_on(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def finish(self):
        out, err = self.proc.communicate(timeout=120)
        assert self.proc.returncode == 0, err
        with open(self.json_path) as f:
            return out, err, json.load(f)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def waiting(tmp_path):
    runs = []

    def start(tool_args=()):
        runs.append(Waiting(tmp_path, tool_args))
        return runs[-1]

    yield start
    for r in runs:
        r.kill()


def stats(text):
    """'label: value' lines of `monitor stats`."""
    return dict(re.findall(r"^([a-z -]+):\s+(.*)$", text, re.M))


def site_blocks(report, fn):
    """Blocks of the sites whose stack goes through fn."""
    return sum(s["blocks"] for s in report["sites"] if any(f["fn"] == fn for f in s["stack"]))


def test_help_lists_the_commands(waiting):
    w = waiting()
    w.expect("ready 1")
    out = w.monitor("help")
    assert "stackheap monitor commands:" in out
    for cmd in ("report [<file>]", "stats", "collect on|off"):
        assert cmd in out
    assert "v.set" in out  # the core's own commands are still listed
    w.go_on(), w.expect("ready 2"), w.go_on()
    w.finish()


def test_report_stats_and_collect(waiting, tmp_path):
    w = waiting(["--xtree-out-file=xt.kcg"])
    w.expect("ready 1")
    s = stats(w.monitor("stats"))
    assert s["stackheap"] == "collecting on"
    # phase 1: 10 frame blocks; the buffers of stdout and stdin (fgets is waiting)
    # are still live
    assert s["stack-eligible"] == "10 blocks, 160 bytes"
    assert s["judged blocks"] == "10"
    assert s["live blocks"] == "2"
    blocks_1 = int(s["blocks"])
    assert blocks_1 == 12

    now = tmp_path / "now.json"
    out = w.monitor("report", str(now))
    assert f"stackheap: JSON report written to {now}" in out
    assert "Total:" in out  # the text report comes back through vgdb
    r1 = json.loads(now.read_text())
    assert r1["label"] == "monitor"
    assert r1["totals"]["blocks"] == 12
    assert site_blocks(r1, "phase_one") == 10
    assert r1["totals"]["classes"]["frame"] == 10
    # the live buffers get a verdict in the snapshot only
    assert r1["totals"]["classes"]["global"] + r1["totals"]["classes"]["never_freed"] == 2
    assert (tmp_path / "xt.kcg.1").is_file()  # the tree is dumped too

    assert "collecting off" in w.monitor("collect", "off")
    w.go_on()
    w.expect("ready 2")
    s = stats(w.monitor("stats"))
    assert s["stackheap"] == "collecting off"
    assert int(s["blocks"]) == blocks_1  # phase 2 was not collected
    assert "collecting on" in w.monitor("collect", "on")

    # report without a file: the --json-out-file name, numbered as dumps are
    out = w.monitor("report")
    assert f"written to {tmp_path / 'final.2.json'}" in out
    r2 = json.loads((tmp_path / "final.2.json").read_text())
    assert site_blocks(r2, "phase_two") == 0
    w.go_on()
    out, err, final = w.finish()
    assert out == "done\n"
    assert site_blocks(final, "phase_one") == 10
    assert site_blocks(final, "phase_two") == 0
    assert site_blocks(final, "phase_three") == 5
    # the snapshots did not count anything twice
    assert final["totals"]["classes"]["frame"] == 15


def test_bad_arguments_are_answered_not_fatal(waiting):
    w = waiting()
    w.expect("ready 1")
    assert "collect needs on or off" in w.monitor("collect")
    assert "does not match any of 'on off'" in w.monitor("collect", "maybe")
    assert "may not contain '%'" in w.monitor("report", "x.%p.json")
    assert "begin with '~'" in w.monitor("report", "~/r.json")
    # an unwritable file: the error is shown and the program goes on
    out = w.monitor("report", "/no/such/dir/r.json")
    assert "cannot write the JSON report to '/no/such/dir/r.json'" in out
    assert "written to" not in out
    w.go_on(), w.expect("ready 2"), w.go_on()
    out, err, final = w.finish()
    assert out == "done\n"
    assert site_blocks(final, "phase_three") == 5

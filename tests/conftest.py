"""Shared helpers for the stackheap test suite.

Every test compiles a small program from tests/progs/, runs it under
`valgrind --tool=stackheap` (the in-place build, scripts/vg-in-place, unless
SH_VALGRIND names another launcher) and asserts on the JSON and text reports.
"""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGS = ROOT / "tests" / "progs"
VALGRIND = os.environ.get("SH_VALGRIND", str(ROOT / "scripts" / "vg-in-place"))
# valgrind.h for the test programs' client requests: that Valgrind's own.
VG_INCLUDE = os.environ.get("SH_VG_INCLUDEDIR", "/usr/include/valgrind")
BUILD = Path(os.environ.get("SH_TEST_BUILD", str(ROOT / "tests" / ".build")))

_PID_PREFIX = re.compile(r"^==\d+== ?", re.M)


class Run:
    """One run of a program under the tool."""

    def __init__(self, proc, json_path):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        # The text report without the ==PID== prefixes.
        self.text = _PID_PREFIX.sub("", proc.stderr)
        self.json_path = json_path
        self.json = None
        if json_path is not None and Path(json_path).exists():
            with open(json_path) as f:
                self.json = json.load(f)

    # --- convenience accessors -------------------------------------------
    @property
    def totals(self):
        return self.json["totals"]

    @property
    def sites(self):
        return self.json["sites"]

    def site(self, fn, frame=0):
        """The single site whose stack frame `frame` is function `fn`."""
        found = [s for s in self.sites
                 if len(s["stack"]) > frame and s["stack"][frame]["fn"] == fn]
        assert len(found) == 1, (fn, [s["stack"][:2] for s in self.sites])
        return found[0]

    def sites_in(self, fn):
        """All sites whose stack mentions function `fn` anywhere."""
        return [s for s in self.sites if any(f["fn"] == fn for f in s["stack"])]

    def suggestions(self, kind=None, site=None):
        out = self.json.get("suggestions", [])
        if kind is not None:
            out = [s for s in out if s["kind"] == kind]
        if site is not None:
            # a suggestion covers every site through its source line
            out = [s for s in out if site["id"] in s.get("sites", [s["site"]])]
        return out


def compile_prog(name, opt="-O0", extra=(), out_name=None):
    """Compile tests/progs/<name> (.c or .cc/.cpp) with debug info; cached by flags."""
    src = PROGS / name
    assert src.exists(), src
    cxx = src.suffix in (".cc", ".cpp")
    tag = out_name or (src.stem + opt.replace("-", "_") +
                       "".join(re.sub(r"\W", "_", e) for e in extra))
    BUILD.mkdir(parents=True, exist_ok=True)
    exe = BUILD / tag
    # Rebuild when the source or any shared header in tests/progs is newer.
    newest = max([src.stat().st_mtime] + [h.stat().st_mtime for h in PROGS.glob("*.h")])
    if not exe.exists() or exe.stat().st_mtime < newest:
        cc = "g++" if cxx else "gcc"
        cmd = [cc, "-g", opt, "-fno-omit-frame-pointer", "-o", str(exe), str(src),
               "-I", str(ROOT / "stackheap"), "-I", VG_INCLUDE,
               "-pthread", *extra]
        subprocess.run(cmd, check=True)
    return exe


def run_tool(argv, tool_args=(), tmp_path=None, json_name="out.json", env=None,
             timeout=900, stdin=None, cwd=None):
    """Run argv (list; argv[0] the program) under stackheap and return a Run."""
    json_path = None
    args = [VALGRIND, "--tool=stackheap", "--command-line-only=yes"]
    if not any(a.startswith("--json-out-file=") for a in tool_args):
        assert tmp_path is not None, "pass tmp_path or an explicit --json-out-file"
        json_path = Path(tmp_path) / json_name
        args.append(f"--json-out-file={json_path}")
    else:
        for a in tool_args:
            if a.startswith("--json-out-file="):
                json_path = a.split("=", 1)[1]
                if json_path == "none":
                    json_path = None
                elif cwd is not None and not os.path.isabs(json_path):
                    json_path = os.path.join(cwd, json_path)
    args += list(tool_args)
    # SH_SANITY=1: every run also checks the tool's shadow state (its
    # sanity hooks) at every system call and thread switch.
    if os.environ.get("SH_SANITY") and not any(a.startswith("--sanity-level")
                                               for a in tool_args):
        args.append("--sanity-level=3")
    args += [str(a) for a in argv]
    e = dict(os.environ)
    e.pop("VALGRIND_OPTS", None)
    if env:
        e.update(env)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env=e, input=stdin, cwd=cwd)
    run = Run(proc, json_path)
    if os.environ.get("SH_RECORD_DIR"):
        _record(run, args, tmp_path)
    return run


# bench/same-reports: with SH_RECORD_DIR set, every run's reports are saved
# there (pid and temp paths normalised) so that two builds can be compared.
_record_seq = {}


def _record(run, args, tmp_path):
    test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").split(" ")[0]
    n = _record_seq[test] = _record_seq.get(test, 0) + 1
    name = re.sub(r"[^\w.-]", "_", test) + ".%d.txt" % n
    raw = ""
    if run.json_path is not None and Path(run.json_path).exists():
        raw = Path(run.json_path).read_text()
    text = "\n".join(["argv: " + " ".join(args), "exit: %d" % run.returncode,
                      "--- json", raw, "--- stdout", run.stdout, "--- log", run.text])
    if tmp_path is not None:
        text = text.replace(str(tmp_path), "<tmp>")
    text = re.sub(r"/tmp/pytest-of-[^/]+/pytest-\d+/", "<pytest>/", text)
    text = re.sub(r'"pid": \d+', '"pid": 0', text)
    text = re.sub(r"(stackheap\.out|vg|pid)[.=](\d+)", r"\1.<pid>", text)
    with open(os.path.join(os.environ["SH_RECORD_DIR"], name), "w") as f:
        f.write(text)


@pytest.fixture
def sh(tmp_path):
    """sh(prog_name, *prog_args, opt='-O0', tool_args=(), extra=()) -> Run."""

    def _run(name, *prog_args, opt="-O0", tool_args=(), extra=(), env=None):
        exe = compile_prog(name, opt=opt, extra=extra)
        return run_tool([exe, *prog_args], tool_args=tool_args, tmp_path=tmp_path,
                        env=env)

    return _run

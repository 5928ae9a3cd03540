"""`rep movs` copies (glibc's memcpy and memmove from 2 KiB up): the tool
does the rest of a forward copy in one helper call (sh_strmove.c) instead
of VEX's pass per element.  Every scenario's report is compared byte for
byte with a run that takes the passes (--batch-rep-movs=no, a --help-debug
option), and the classes are the ones the passes give."""
import json
import re

import pytest

from conftest import compile_prog, run_tool

# scenario: (class of the copied block, copied in one call?)
SCENARIOS = {
    "global": ("global", True),
    "heap": ("frame", True),
    "stack": ("frame", True),
    "movsw_odd": ("frame", True),   # no pass ends on a word boundary: not seen
    "movsd": ("global", True),
    "movsq": ("global", True),
    "overlap": ("frame", True),
    "backward": ("frame", False),   # backward copies complete words first byte last
    "data": ("global", False),      # a file mapping: the passes run
    "short": ("global", True),
}


def _run(tmp_path, exe, scenario, sub, tool_args):
    d = tmp_path / sub
    d.mkdir()
    r = run_tool([exe, scenario], tool_args=("--stats=yes",) + tool_args, tmp_path=d,
                 json_name="r.json")
    assert r.returncode == 0, r.stderr[-2000:]
    j = json.load(open(r.json_path))
    j.pop("pid")
    j["options"].pop("json-out-file")
    batched = int(re.search(r"([\d,]+) rep movs copies done in one helper call",
                            r.stderr).group(1).replace(",", ""))
    return r, j, batched


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_one_call_copy_reports_what_the_passes_report(tmp_path, scenario, opt):
    exe = compile_prog("rep_movs.c", opt)
    fast, fj, batched = _run(tmp_path, exe, scenario, "f", ())
    slow, sj, none = _run(tmp_path, exe, scenario, "s", ("--batch-rep-movs=no",))
    assert fj == sj
    assert none == 0
    cls, one_call = SCENARIOS[scenario]
    assert (batched >= 1) == one_call, batched
    fn = "do_" + scenario
    copied = [s for s in fj["sites"] if s["stack"][0]["fn"] == fn]
    assert copied, [s["stack"][0] for s in fj["sites"]]
    classes = {c for s in copied for c, n in s["classes"].items() if n}
    if cls == "global":
        assert "global" in classes, classes
    else:
        assert classes == {cls}, classes


def test_one_call_copy_with_sanity_checks(tmp_path):
    exe = compile_prog("rep_movs.c")
    r = run_tool([exe, "overlap"], tool_args=("--sanity-level=3",), tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]

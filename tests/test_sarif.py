"""sh_annotate --sarif: SARIF 2.1.0, validated against the OASIS schema (tests/data/).

Inputs: a real run of the bundled demo, the hand-written stackheap-1 report
tests/data/run_a.json, and the same report rewritten in the stackheap-2 shape
(suggestions with `location` and `sites`, sites with `free_sites`).
"""
import copy
import json
import subprocess

import pytest

from conftest import BUILD, ROOT, run_tool

jsonschema = pytest.importorskip(
    "jsonschema", reason="python3-jsonschema is not installed (scripts/setup installs it)")

SCRIPT = ROOT / "scripts" / "sh_annotate"
DATA = ROOT / "tests" / "data"
SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
KINDS = ["use_stack_allocation", "caller_owned_storage", "bounded_local_buffer",
         "reserve_capacity", "hoist_out_of_loop", "object_pool", "remove_escape",
         "split_paths"]
THRESHOLD_RULES = ["threshold/max-escape-rate", "threshold/max-alloc-rate",
                   "threshold/max-eligible-blocks"]


def sarif(report_path, *args, cwd=ROOT):
    p = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--sarif", *map(str, args),
                        str(report_path)], capture_output=True, text=True, cwd=cwd, timeout=60)
    assert p.returncode == 0, p.stderr
    log = json.loads(p.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log, p.stderr


def results(log, rule=None):
    return [r for r in log["runs"][0]["results"] if rule is None or r["ruleId"] == rule]


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    BUILD.mkdir(parents=True, exist_ok=True)
    exe = BUILD / "demo_sarif"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(ROOT / "demo" / "demo.c")],
                   check=True)
    r = run_tool([exe], tool_args=["--max-eligible-blocks=100"], tmp_path=tmp)
    assert r.returncode == 0, r.stderr
    return r


def test_the_schema_check_is_not_vacuous():
    log, _ = sarif(DATA / "run_a.json")
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(broken)
    del broken["version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(broken)


def test_demo_results_at_allocation_lines(demo_report, tmp_path):
    log, _ = sarif(demo_report.json_path, "--srcroot", ROOT)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "stackheap"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == KINDS + THRESHOLD_RULES
    for r in rules:
        assert len(r["help"]["text"]) > 60 and r["shortDescription"]["text"]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == f"file://{ROOT}/"
    sugs = demo_report.suggestions()
    sug_results = [r for r in results(log) if not r["ruleId"].startswith("threshold/")]
    assert len(sug_results) == len(sugs) >= 3
    sites = {s["id"]: s for s in demo_report.sites}
    for g, res in zip(sugs, sug_results):
        assert res["ruleId"] == g["kind"]
        assert rules[res["ruleIndex"]]["id"] == g["kind"]
        frame = g.get("location") or sites[g["site"]]["stack"][0]
        phys = res["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"] == {"uri": "demo/demo.c", "uriBaseId": "SRCROOT"}
        assert phys["region"]["startLine"] == frame["line"]
        assert res["locations"][0]["logicalLocations"][0]["name"] == frame["fn"]
        msg = res["message"]["text"]
        assert f"Saves {g['saved_calls']:,} allocator calls and {g['saved_bytes']:,} heap bytes" \
            in msg
        assert f"adds {g['stack_cost']:,} stack bytes" in msg
        assert res["properties"]["saved_calls"] == g["saved_calls"]
        assert [f["location"]["logicalLocations"][0]["name"]
                for f in res["stacks"][0]["frames"]] == [f["fn"] for f in sites[g["site"]]["stack"]]
    kinds = {r["ruleId"] for r in sug_results}
    assert {"use_stack_allocation", "caller_owned_storage"} <= kinds
    # norm2's malloc is demo.c line 15
    use = results(log, "use_stack_allocation")[0]
    assert use["locations"][0]["physicalLocation"]["region"]["startLine"] == 15


def test_tool_threshold_in_the_report_becomes_an_error_result(demo_report):
    # the run used --max-eligible-blocks=100; the demo has 2,501 eligible blocks
    log, err = sarif(demo_report.json_path, "--srcroot", ROOT)
    [res] = results(log, "threshold/max-eligible-blocks")
    assert res["level"] == "error"
    assert "2,501 blocks could have lived on the stack, more than --max-eligible-blocks=100" \
        in res["message"]["text"]
    # it points at the site with the most eligible blocks: norm2's
    assert res["locations"][0]["logicalLocations"][0]["name"] == "norm2"
    assert log["runs"][0]["invocations"][0]["properties"]["crossed_thresholds"] == \
        ["max-eligible-blocks"]
    assert not results(log, "threshold/max-escape-rate")


def test_annotate_thresholds_override_and_exit_status(tmp_path):
    report = DATA / "run_a.json"  # escape rate 0.1813, 570 blocks per million instrs
    log, _ = sarif(report, "--max-escape-rate", "0.2", "--max-alloc-rate", "1000")
    assert not [r for r in results(log) if r["ruleId"].startswith("threshold/")]
    out = tmp_path / "out.sarif"
    p = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--sarif", "-o", str(out),
                        "--max-escape-rate", "0.1", "--max-alloc-rate", "500",
                        "--error-exitcode", "3", str(report)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3 and p.stdout == ""
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [esc] = results(log, "threshold/max-escape-rate")
    assert "escape rate 0.1813 exceeds --max-escape-rate=0.1" in esc["message"]["text"]
    [rate] = results(log, "threshold/max-alloc-rate")
    assert "570.0 blocks per million instructions exceed --max-alloc-rate=500.0" \
        in rate["message"]["text"]


def test_stackheap1_relative_file_names(tmp_path):
    log, _ = sarif(DATA / "run_a.json")
    run_a = json.loads((DATA / "run_a.json").read_text())
    assert len(results(log)) == len(run_a["suggestions"])
    for res, g in zip(results(log), run_a["suggestions"]):
        site = next(s for s in run_a["sites"] if s["id"] == g["site"])
        phys = res["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == "points.c"
        assert phys["region"]["startLine"] == site["stack"][0]["line"]


def stackheap2(tmp_path):
    """run_a.json in the stackheap-2 shape: each suggestion at its own `location`."""
    r = json.loads((DATA / "run_a.json").read_text())
    r["format"] = "stackheap-2"
    for s in r["sites"]:
        s["free_sites"] = [{"fn": "main", "file": "points.c", "line": 99, "blocks": s["blocks"]}]
    for i, g in enumerate(r["suggestions"]):
        g["location"] = {"fn": f"edit_here_{i}", "file": "/src/points.c", "line": 500 + i}
        g["sites"] = [g["site"]]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(r))
    return path, r


def test_stackheap2_location_is_used(tmp_path):
    path, r = stackheap2(tmp_path)
    log, _ = sarif(path, "--srcroot", "/src")
    for i, res in enumerate(results(log)):
        loc = res["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"] == {"uri": "points.c",
                                                              "uriBaseId": "SRCROOT"}
        assert loc["physicalLocation"]["region"]["startLine"] == 500 + i
        assert loc["logicalLocations"][0]["name"] == f"edit_here_{i}"
        assert res["properties"]["sites"] == r["suggestions"][i]["sites"]
    # outside the source root: an absolute file URI
    log, _ = sarif(path, "--srcroot", "/elsewhere")
    assert results(log)[0]["locations"][0]["physicalLocation"]["artifactLocation"] == \
        {"uri": "file:///src/points.c"}


def test_frame_without_debug_info_is_shown_at_the_first_frame_with_a_file(tmp_path):
    r = json.loads((DATA / "run_a.json").read_text())
    g = r["suggestions"][0]
    site = next(s for s in r["sites"] if s["id"] == g["site"])
    site["stack"].insert(0, {"fn": "inner_nodebug", "obj": "/usr/lib/libfoo.so"})
    path = tmp_path / "nodebug.json"
    path.write_text(json.dumps(r))
    log, _ = sarif(path)
    res = results(log)[0]
    loc = res["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "points.c"
    assert loc["physicalLocation"]["region"]["startLine"] == site["stack"][1]["line"]
    assert loc["logicalLocations"][0]["name"] == site["stack"][1]["fn"]
    assert (f"No debug info for inner_nodebug; shown at its caller {site['stack'][1]['fn']}."
            in res["message"]["text"])


def test_split_paths_has_its_own_rule(sh, tmp_path):
    """A line kept by some paths (tests/progs/adv_split.c) is a split_paths result
    at that line, under its own rule with its own help text."""
    r = sh("adv_split.c")
    log, _ = sarif(r.json_path)
    run = log["runs"][0]
    res = results(log, "split_paths")
    assert len(res) == 1
    rule = run["tool"]["driver"]["rules"][res[0]["ruleIndex"]]
    assert rule["id"] == "split_paths" and rule["name"] == "SplitPaths"
    assert "call paths" in rule["help"]["text"]
    g = r.suggestions("split_paths")[0]
    region = res[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == g["location"]["line"]

"""sh_annotate --html: one self-contained page, checked in a real headless Chromium.

The browser tests load the page of a real run of the bundled demo through the DevTools
protocol (tests/browser.py): no console errors, the report's numbers in the summary,
class bars, icicle graphs and table, sorting by clicking headers, zooming the icicle.
They skip, saying why, where Chromium is not installed (scripts/setup installs it).
The static checks at the end need no browser.
"""
import html
import json
import re
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import BUILD, ROOT, run_tool
from browser import Browser, find_chromium

SCRIPT = ROOT / "scripts" / "sh_annotate"
DATA = ROOT / "tests" / "data"

needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="chromium is not installed (scripts/setup installs it); browser checks skipped")


def make_html(report_path, out, *args, cwd=ROOT):
    p = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--html", str(out), *map(str, args),
                        str(report_path)], capture_output=True, text=True, cwd=cwd, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    return out.read_text()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(report, page path) for a run of demo/demo.c."""
    tmp = tmp_path_factory.mktemp("html")
    BUILD.mkdir(parents=True, exist_ok=True)
    exe = BUILD / "demo_html"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(ROOT / "demo" / "demo.c")],
                   check=True)
    r = run_tool([exe], tmp_path=tmp)
    assert r.returncode == 0, r.stderr
    page = tmp / "demo.html"
    make_html(r.json_path, page)
    return r.json, page


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        pytest.skip("chromium is not installed (scripts/setup installs it)")
    b = Browser(width=1280, height=900)
    yield b
    b.close()


@pytest.fixture
def page(browser, demo):
    browser.events.clear()
    browser.open(demo[1])
    assert browser.eval("document.body.dataset.ready") == "yes"
    return browser


def row_order(b):
    return b.eval("Array.from(document.querySelectorAll('#sites-table tbody tr'))"
                  ".map(r => +r.dataset.site)")


def click(b, selector):
    b.eval(f"document.querySelector({json.dumps(selector)}).click()")


@needs_chromium
def test_loads_without_console_errors(page, demo):
    assert page.console_errors() == []
    report = demo[0]
    assert page.eval("document.title") == f"stackheap report: {report['command']}"


@needs_chromium
def test_summary_and_class_bars_show_the_reports_numbers(page, demo):
    t = demo[0]["totals"]
    for key in ("blocks", "bytes", "stack_eligible_blocks", "stack_eligible_bytes",
                "peak_live_bytes", "instructions", "frames"):
        value, text = page.eval(f"[+document.getElementById('sum-{key}').dataset.value,"
                                f" document.getElementById('sum-{key}').textContent]")
        assert (value, text) == (t[key], f"{t[key]:,}"), key
    assert page.eval("document.getElementById('sum-escape_rate').textContent") == \
        f"{100 * t['escape_rate']:.2f}%"
    track = page.eval("document.querySelector('#class-frame .track')"
                      ".getBoundingClientRect().width")
    for c, n in t["classes"].items():
        blocks, width = page.eval(f"[+document.getElementById('class-{c}').dataset.blocks,"
                                  f" document.querySelector('#class-{c} .fill')"
                                  ".getBoundingClientRect().width]")
        assert blocks == n, c
        assert width == pytest.approx(track * n / t["blocks"], abs=1.5), c


@needs_chromium
def test_icicles_render_bytes_by_call_stack(page, demo):
    report = demo[0]
    t = report["totals"]
    for graph, total in (("flame-bytes", t["bytes"]),
                         ("flame-eligible", t["stack_eligible_bytes"])):
        root = page.eval(f"(() => {{ const n = document.querySelector("
                         f"'#{graph} .node[data-depth=\"0\"]');"
                         f" return [+n.dataset.value, n.getBoundingClientRect().width,"
                         f" document.getElementById('{graph}').clientWidth]; }})()")
        assert root[0] == total, graph
        assert root[1] == pytest.approx(root[2], abs=2)
    norm2 = next(s for s in report["sites"] if s["stack"][0]["fn"] == "norm2")
    value, width, full = page.eval(
        "(() => { const n = document.querySelector('#flame-bytes .node[data-name=\"norm2\"]');"
        " return [+n.dataset.value, n.getBoundingClientRect().width,"
        " document.getElementById('flame-bytes').clientWidth]; })()")
    assert value == norm2["bytes"] == 32000
    assert width == pytest.approx(full * 32000 / t["bytes"], abs=2)
    # the escaping site is in the bytes graph only
    assert page.eval("!!document.querySelector('#flame-bytes .node[data-name=\"remember\"]')")
    assert not page.eval("!!document.querySelector("
                         "'#flame-eligible .node[data-name=\"remember\"]')")


@needs_chromium
def test_sites_table_sorts_by_every_column(page, demo):
    sites = demo[0]["sites"]
    assert row_order(page) == [s["id"] for s in sites]
    cells = page.eval("Array.from(document.querySelectorAll('#sites-table tbody tr'))"
                      ".map(r => Array.from(r.cells).map(c => c.textContent))")
    for s, row in zip(sites, cells):
        assert row[:5] == [str(s["id"]), s["stack"][0]["fn"],
                           f"{s['stack'][0]['file'].rsplit('/', 1)[-1]}:{s['stack'][0]['line']}",
                           f"{s['blocks']:,}", f"{s['bytes']:,}"]
    by = {s["id"]: s for s in sites}
    click(page, "th[data-key=bytes]")
    assert page.eval("document.querySelector('th[data-key=bytes]').getAttribute('aria-sort')") \
        == "descending"
    assert row_order(page) == sorted(by, key=lambda i: (-by[i]["bytes"], i))
    click(page, "th[data-key=bytes]")
    assert row_order(page) == sorted(by, key=lambda i: (by[i]["bytes"], i))
    click(page, "th[data-key=fn]")
    assert row_order(page) == sorted(by, key=lambda i: (by[i]["stack"][0]["fn"], i))
    click(page, "th[data-key=eshare]")
    share = {i: sum(by[i]["classes"][c] for c in ("frame", "caller")) / by[i]["blocks"]
             for i in by}
    assert row_order(page) == sorted(by, key=lambda i: (-share[i], i))
    # every column sorts, and only one header shows a direction
    for key in page.eval("Array.from(document.querySelectorAll('#sites-table th'))"
                         ".map(h => h.dataset.key)"):
        click(page, f"th[data-key={key}]")
        assert sorted(row_order(page)) == sorted(by)
        assert page.eval("Array.from(document.querySelectorAll('#sites-table th'))"
                         ".filter(h => h.getAttribute('aria-sort') !== 'none')"
                         ".map(h => h.dataset.key)") == [key]
    assert page.console_errors() == []


@needs_chromium
def test_icicle_zooms_in_and_out(page):
    graph = "document.getElementById('flame-bytes')"
    node = "document.querySelector('#flame-bytes .node[data-name=\"format_label\"]')"
    click(page, '#flame-bytes .node[data-name="format_label"]')
    width, full, top = page.eval(f"[{node}.getBoundingClientRect().width, {graph}.clientWidth,"
                                 f" {node}.style.top]")
    assert width == pytest.approx(full, abs=2) and top == "0px"
    assert page.eval(f"{graph}.querySelector('.node[data-name=\"norm2\"]').style.display") == "none"
    click(page, '#flame-bytes .node[data-name="format_label"]')  # again: back to everything
    assert page.eval(f"{graph}.querySelector('.node[data-name=\"norm2\"]').style.display") == ""
    assert page.eval(f"{graph}.querySelector('.node[data-depth=\"0\"]').style.width") == "100%"


@needs_chromium
def test_suggestions_show_their_source_lines(page, demo):
    sugs = demo[0]["suggestions"]
    assert page.eval("document.querySelectorAll('.sug').length") == len(sugs)
    first = page.eval("[document.querySelector('#sug-1 .kind').textContent,"
                      " document.querySelector('#sug-1 pre.src .hit').textContent]")
    assert first[0] == sugs[0]["kind"] == "use_stack_allocation"
    assert re.fullmatch(r"\s*15 \s+struct point \*p = malloc\(sizeof \*p\);", first[1])


@needs_chromium
def test_screenshot(browser, demo, tmp_path):
    browser.open(demo[1])
    out = tmp_path / "shot.png"
    browser.screenshot(out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 1500


# ------------------------------------------------------ static checks (no browser) ----

class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.ids, self.text = [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href", "action", "data"):
            if k in a:
                self.urls.append(a[k])
        if "id" in a:
            self.ids.add(a["id"])

    def handle_data(self, data):
        self.text.append(data)


def test_page_is_self_contained(demo):
    text = demo[1].read_text()
    c = Collector()
    c.feed(text)
    assert c.urls == ["data:,"]  # the empty favicon, nothing else is loaded
    assert "default-src 'none'" in text
    assert not re.search(r"https?://", text)
    assert {"summary", "classes", "flame-bytes", "flame-eligible", "sites-table",
            "suggestions"} <= c.ids


def test_stackheap2_report_and_source_dirs(tmp_path):
    r = json.loads((DATA / "run_a.json").read_text())
    r["format"] = "stackheap-2"
    for s in r["sites"]:
        s["free_sites"] = [{"fn": "release_all", "file": "points.c", "line": 77,
                            "blocks": s["blocks"]}]
    for g in r["suggestions"]:
        g["location"] = {"fn": "make_point", "file": "points.c", "line": 12}
        g["sites"] = [g["site"], 4]
    src = tmp_path / "v2.json"
    src.write_text(json.dumps(r))
    # sources not found from the temporary directory
    page = make_html(src, tmp_path / "a.html", cwd=tmp_path)
    assert page.count("(source not found: points.c)") == len(r["suggestions"])
    assert "release_all (points.c:77): " in page
    assert f"sites {r['suggestions'][0]['site']}, 4" in page
    # found with --source-dir: line 12 of points.c is marked
    page = make_html(src, tmp_path / "b.html", "--source-dir", DATA, cwd=tmp_path)
    line12 = (DATA / "points.c").read_text().splitlines()[11]
    assert f'<span class="hit"><span class="ln">   12</span> {html.escape(line12)}</span>' in page
    assert "source not found" not in page


def test_unwritable_output_is_a_clean_error(tmp_path):
    p = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--html", str(tmp_path / "no/x.html"),
                        str(DATA / "run_a.json")], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.startswith("sh_annotate: error: ") and "cannot write" in p.stderr


def test_thresholds_set_and_crossed(tmp_path):
    r = json.loads((DATA / "run_a.json").read_text())
    r["options"]["max-eligible-blocks"] = 100  # as the tool writes it: crossed (1,400)
    src = tmp_path / "t.json"
    src.write_text(json.dumps(r))
    page = make_html(src, tmp_path / "t.html", "--max-escape-rate", "0.5", cwd=tmp_path)
    assert ('<li id="thr-max-eligible-blocks" data-crossed="yes" class="crossed"><b>crossed</b>: '
            '1,400 blocks could have lived on the stack, more than --max-eligible-blocks=100</li>'
            in page)
    assert '<li id="thr-max-escape-rate" data-crossed="no">--max-escape-rate=0.5: not crossed' \
        in page
    assert 'id="thr-max-alloc-rate"' not in page
    # no threshold set: no section
    assert 'id="thresholds"' not in make_html(DATA / "run_a.json", tmp_path / "u.html")

"""sh_annotate --html: a stackheap report as one self-contained HTML page.

Everything (styles, script, data) is inside the file and its Content-Security-Policy
forbids loading anything else, so it works offline and can be attached to a CI run.
The page is built here as static HTML (readable without JavaScript); the small inline
script only sorts the sites table and zooms the icicle graphs.
Reads report formats stackheap-1 and stackheap-2. Standard library only.
"""

import html
import os

CLASSES = ("frame", "caller", "too_large", "global", "heap", "thread", "outlived", "never_freed")
ELIGIBLE = ("frame", "caller")
CLASS_WORDS = {
    "frame": "could have lived in the allocating function's frame",
    "caller": "could have lived in a caller's frame",
    "too_large": "eligible, but larger than --max-stack-block",
    "global": "a pointer was stored in global memory",
    "heap": "a pointer was stored in a heap block that escaped",
    "thread": "handed to another thread",
    "outlived": "outlived every frame of its allocation stack",
    "never_freed": "never freed",
}
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
SOURCE_CONTEXT = 2  # lines shown around a suggestion's line

E = html.escape


def num(n):
    return f"{n:,}"


def pct(part, whole):
    return f"{100 * part / whole:.1f}%" if whole else "-"


def cls(site, name):
    return site.get("classes", {}).get(name, 0)


def site_eligible_blocks(site):
    return sum(cls(site, c) for c in ELIGIBLE)


def site_eligible_bytes(site):
    """Exact when the tool wrote it; else estimated as sh_annotate does."""
    if "stack_eligible_bytes" in site:
        return site["stack_eligible_bytes"]
    return site["bytes"] * site_eligible_blocks(site) // site["blocks"] if site["blocks"] else 0


def base(path):
    return os.path.basename(path) if path else ""


def frame_text(f):
    if f.get("file"):
        where = f"{base(f['file'])}:{f['line']}" if f.get("line") else base(f["file"])
        return f"{f.get('fn', '???')} ({where})"
    return f.get("fn", "???")


def main_escape(site):
    counts = [(cls(site, c), c) for c in CLASSES if c not in ELIGIBLE and cls(site, c)]
    return max(counts)[1] if counts else ""


# ------------------------------------------------------------------ summary ----

def summary_section(report):
    t = report["totals"]
    blocks = t.get("blocks", 0)
    cards = [
        ("blocks", "heap blocks", t.get("blocks", 0), ""),
        ("bytes", "bytes requested", t.get("bytes", 0), ""),
        ("stack_eligible_blocks", "stack-eligible blocks", t.get("stack_eligible_blocks", 0),
         pct(t.get("stack_eligible_blocks", 0), blocks) + " of blocks"),
        ("stack_eligible_bytes", "stack-eligible bytes", t.get("stack_eligible_bytes", 0),
         pct(t.get("stack_eligible_bytes", 0), t.get("bytes", 0)) + " of bytes"),
        ("sites", "allocation sites", len(report["sites"]), ""),
        ("peak_live_bytes", "peak live bytes", t.get("peak_live_bytes", 0), ""),
        ("instructions", "guest instructions", t.get("instructions", 0), ""),
        ("frames", "function calls seen", t.get("frames", 0), ""),
    ]
    out = ['<section id="summary"><h2>Summary</h2>',
           f'<p class="cmd">Command: <code>{E(str(report.get("command", "?")))}</code></p>',
           '<div class="cards">']
    for key, label, value, note in cards:
        out.append(f'<div class="card"><div class="v" id="sum-{key}" data-value="{value}">'
                   f'{num(value)}</div><div class="l">{E(label)}</div>'
                   + (f'<div class="n">{E(note)}</div>' if note else "") + '</div>')
    rate = t.get("escape_rate", 0)
    out.append(f'<div class="card"><div class="v" id="sum-escape_rate" data-value="{rate}">'
               f'{100 * rate:.2f}%</div><div class="l">escape rate</div>'
               '<div class="n">blocks that could not live on the stack</div></div>')
    out.append('</div></section>')
    return out


# ------------------------------------------------------------------ classes ----

def classes_section(report):
    t = report["totals"]
    blocks = t.get("blocks", 0)
    out = ['<section id="classes"><h2>Classes of blocks</h2><div class="bars">']
    for c in CLASSES:
        n = t.get("classes", {}).get(c, 0)
        width = 100 * n / blocks if blocks else 0
        kind = "elig" if c in ELIGIBLE else ("large" if c == "too_large" else "esc")
        out.append(f'<div class="bar" id="class-{c}" data-blocks="{n}" title="{E(CLASS_WORDS[c])}">'
                   f'<span class="bn">{c}</span><span class="track"><span class="fill {kind}" '
                   f'style="width:{width:.3f}%"></span></span>'
                   f'<span class="bv">{num(n)} <small>({pct(n, blocks)})</small></span></div>')
    out.append('</div></section>')
    return out


# ------------------------------------------------------------------- icicle ----

def build_tree(sites, value):
    """Call tree, outermost frame at the root; nodes merge frames by function (and file)."""
    root = {"name": "all", "file": "", "value": 0, "elig": 0, "bytes": 0, "kids": {}}
    for s in sites:
        v = value(s)
        if v <= 0:
            continue
        eb, b = site_eligible_bytes(s), s["bytes"]
        node = root
        node["value"] += v
        node["elig"] += eb
        node["bytes"] += b
        for f in reversed(s["stack"]):
            key = (f.get("fn", "???"), base(f.get("file")))
            node = node["kids"].setdefault(key, {"name": key[0], "file": key[1], "value": 0,
                                                 "elig": 0, "bytes": 0, "kids": {}})
            node["value"] += v
            node["elig"] += eb
            node["bytes"] += b
    return root


def icicle_nodes(root):
    """(node, depth, x0, x1) in fractions of the root, parents first, biggest child first."""
    out, total = [], root["value"]
    todo = [(root, 0, 0.0)]
    while todo:
        node, depth, x0 = todo.pop(0)
        x1 = x0 + node["value"] / total
        out.append((node, depth, x0, x1))
        x = x0
        for kid in sorted(node["kids"].values(), key=lambda k: (-k["value"], k["name"])):
            todo.append((kid, depth + 1, x))
            x += kid["value"] / total
    return out


def icicle(graph_id, title, unit, sites, value):
    root = build_tree(sites, value)
    head = f'<h3>{E(title)}</h3>'
    if root["value"] == 0:
        return [head, f'<p class="empty" id="{graph_id}-empty">No {E(unit)} to show.</p>']
    nodes = icicle_nodes(root)
    depth = max(d for _, d, _, _ in nodes) + 1
    out = [head, f'<div class="icicle" id="{graph_id}" style="height:{depth * 22}px" '
           f'data-rows="{depth}">']
    for node, d, x0, x1 in nodes:
        if x1 - x0 < 0.001 and d > 0:  # thinner than a pixel or so: left out
            continue
        share = node["elig"] / node["bytes"] if node["bytes"] else 0
        hue = int(120 * share)  # red: escaping bytes, green: stack-eligible bytes
        where = f" ({node['file']})" if node["file"] else ""
        tip = (f"{node['name']}{where}\n{num(node['value'])} {unit} "
               f"({pct(node['value'], root['value'])} of all)\n"
               f"stack-eligible: {pct(node['elig'], node['bytes'])} of its bytes")
        out.append(f'<div class="node" data-name="{E(node["name"])}" data-value="{node["value"]}" '
                   f'data-depth="{d}" data-x0="{x0:.6f}" data-x1="{x1:.6f}" title="{E(tip)}" '
                   f'style="left:{100 * x0:.4f}%;width:{100 * (x1 - x0):.4f}%;top:{d * 22}px;'
                   f'background:hsl({hue},55%,62%)">{E(node["name"])}</div>')
    out.append('</div>')
    return out


def flame_section(report):
    sites = report["sites"]
    out = ['<section id="flame"><h2>Where the bytes were allocated</h2>',
           '<p class="hint">Icicle graphs: the outermost function at the top, callees below; '
           'widths are bytes. Colour: green where the bytes could have lived on the stack, '
           'red where they escaped. Click a box to zoom, the top box to zoom out.</p>']
    out += icicle("flame-bytes", "Bytes by call stack", "bytes", sites, lambda s: s["bytes"])
    out += icicle("flame-eligible", "Stack-eligible bytes by call stack", "bytes",
                  sites, site_eligible_bytes)
    out.append('</section>')
    return out


# -------------------------------------------------------------------- sites ----

# (key, header, numeric): numeric columns sort descending on the first click.
COLUMNS = [("id", "site", True), ("fn", "function", False), ("loc", "location", False),
           ("blocks", "blocks", True), ("bytes", "bytes", True),
           ("eblocks", "eligible blocks", True), ("eshare", "eligible %", True),
           ("ebytes", "eligible bytes", True), ("max_live", "max live", True),
           ("lifetime", "avg lifetime (instrs)", True), ("severity", "severity", True),
           ("escape", "main escape", False)]


def site_cells(s):
    f0 = s["stack"][0] if s["stack"] else {"fn": "???"}
    eb = site_eligible_blocks(s)
    loc = f"{base(f0.get('file'))}:{f0['line']}" if f0.get("file") and f0.get("line") else ""
    sev = s.get("severity", "low")
    share = eb / s["blocks"] if s["blocks"] else 0
    return {
        "id": (s["id"], str(s["id"])),
        "fn": (f0.get("fn", "???"), f0.get("fn", "???")),
        "loc": (loc, loc),
        "blocks": (s["blocks"], num(s["blocks"])),
        "bytes": (s["bytes"], num(s["bytes"])),
        "eblocks": (eb, num(eb)),
        "eshare": (round(share, 6), pct(eb, s["blocks"])),
        "ebytes": (site_eligible_bytes(s), num(site_eligible_bytes(s))),
        "max_live": (s.get("max_live", 0), num(s.get("max_live", 0))),
        "lifetime": (s.get("avg_lifetime_instrs", 0), num(s.get("avg_lifetime_instrs", 0))),
        "severity": (SEVERITY_RANK.get(sev, 0), sev),
        "escape": (main_escape(s), main_escape(s)),
    }


def sites_section(report):
    out = ['<section id="sites"><h2>Allocation sites</h2>',
           '<p class="hint">Click a column header to sort; click again to reverse. '
           'Hover a function for the whole stack.</p>',
           '<div class="tablewrap"><table id="sites-table"><thead><tr>']
    for key, head, numeric in COLUMNS:
        out.append(f'<th data-key="{key}" data-type="{"num" if numeric else "text"}" '
                   f'aria-sort="none" tabindex="0">{E(head)}</th>')
    out.append('</tr></thead><tbody>')
    for s in report["sites"]:
        cells = site_cells(s)
        stack = "\n".join(frame_text(f) for f in s["stack"])
        if s.get("free_sites"):
            stack += "\nfreed at:\n" + "\n".join(
                f"{frame_text(f)}: {num(f.get('blocks', 0))} blocks" for f in s["free_sites"])
        out.append(f'<tr data-site="{s["id"]}">')
        for key, _, numeric in COLUMNS:
            v, text = cells[key]
            attrs = ' class="num"' if numeric and key != "severity" else ""
            if key == "fn":
                attrs = f' title="{E(stack)}"'
            if key == "severity":
                attrs = f' class="sev {E(text)}"'
            out.append(f'<td data-key="{key}" data-v="{E(str(v))}"{attrs}>{E(text)}</td>')
        out.append('</tr>')
    out.append('</tbody></table></div></section>')
    return out


# -------------------------------------------------------------- suggestions ----

def suggestion_frame(g, sites):
    """The line to edit: stackheap-2's location, else the allocating frame of its site."""
    if isinstance(g.get("location"), dict) and g["location"].get("fn"):
        return g["location"]
    s = sites.get(g.get("site"))
    return s["stack"][0] if s and s["stack"] else {"fn": "???"}


def source_excerpt(frame, dirs, find_source):
    path, line = frame.get("file"), frame.get("line")
    if not path or not line:
        return ['<p class="nosrc">(no source line: no debug info)</p>']
    found = find_source(path, dirs)
    if found is None:
        return [f'<p class="nosrc">(source not found: {E(path)})</p>']
    try:
        with open(found, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return [f'<p class="nosrc">(cannot read {E(found)}: {E(e.strerror or str(e))})</p>']
    if line > len(lines):
        return [f'<p class="nosrc">({E(found)} has only {len(lines)} lines: changed since the '
                'run?)</p>']
    lo, hi = max(1, line - SOURCE_CONTEXT), min(len(lines), line + SOURCE_CONTEXT)
    out = [f'<pre class="src" data-file="{E(found)}">']
    for n in range(lo, hi + 1):
        mark = ' class="hit"' if n == line else ""
        out.append(f'<span{mark}><span class="ln">{n:>5}</span> {E(lines[n - 1])}</span>')
    out.append('</pre>')
    return ["".join(out)]  # no newlines between the block-level lines of a <pre>


def suggestions_section(report, dirs, find_source):
    sites = {s["id"]: s for s in report["sites"]}
    sugs = report.get("suggestions", [])
    out = ['<section id="suggestions"><h2>Suggestions</h2>']
    if not sugs:
        out.append('<p class="empty">No suggestions.</p>')
    for i, g in enumerate(sugs, 1):
        frame = suggestion_frame(g, sites)
        covered = g.get("sites", [g.get("site")])
        out.append(f'<div class="sug" id="sug-{i}" data-kind="{E(g["kind"])}">'
                   f'<div class="sh"><span class="kind">{E(g["kind"])}</span> '
                   f'<span class="diff {E(str(g.get("difficulty", "")))}">'
                   f'{E(str(g.get("difficulty", "?")))}</span> '
                   f'<span class="at">{E(frame_text(frame))}</span> '
                   f'<span class="sites">site{"s" if len(covered) > 1 else ""} '
                   f'{E(", ".join(str(x) for x in covered))}</span></div>'
                   f'<p>{E(g.get("text", ""))}</p>'
                   f'<p class="save">saves <b data-saved-calls="{g.get("saved_calls", 0)}">'
                   f'{num(g.get("saved_calls", 0))}</b> allocator calls and '
                   f'<b>{num(g.get("saved_bytes", 0))}</b> heap bytes; adds '
                   f'<b>{num(g.get("stack_cost", 0))}</b> stack bytes</p>')
        out += source_excerpt(frame, dirs, find_source)
        out.append('</div>')
    out.append('</section>')
    return out


# --------------------------------------------------------------------- page ----

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:0;
 color:#1d232a;background:#f6f7f9}
header{background:#23313f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.8}main{padding:8px 24px 40px;max-width:1400px}
h2{font-size:17px;margin:26px 0 10px;border-bottom:1px solid #d5dae0;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 6px}.hint{color:#5b6672;margin:4px 0 8px}
code{font-family:"DejaVu Sans Mono",monospace}.cmd code{word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #dde2e7;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:20px;font-weight:600}.card .l{color:#46525e}
.card .n{color:#7a8591;font-size:12px}
.bars{background:#fff;border:1px solid #dde2e7;border-radius:6px;padding:10px 14px;max-width:900px}
.bar{display:flex;align-items:center;gap:10px;margin:3px 0}
.bn{width:100px;font-family:"DejaVu Sans Mono",monospace}
.track{flex:1;background:#eef1f4;height:14px;border-radius:3px;overflow:hidden}
.fill{display:block;height:100%}
.fill.elig{background:#3f9b5a}.fill.esc{background:#d0643b}.fill.large{background:#d9a23a}
.bv{width:150px;text-align:right}
.icicle{position:relative;background:#fff;border:1px solid #dde2e7;border-radius:4px;
 overflow:hidden}
.node{position:absolute;height:20px;line-height:20px;font-size:12px;padding:0 4px;
 box-sizing:border-box;border:1px solid #fff;white-space:nowrap;overflow:hidden;
 text-overflow:ellipsis;cursor:pointer;color:#10161c}
.node:hover{filter:brightness(1.1);border-color:#333}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;background:#fff;border:1px solid #dde2e7;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #edf0f2;text-align:left;white-space:nowrap}
th{background:#eef1f4;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev.critical,.sev.high{color:#b42318;font-weight:600}.sev.medium{color:#a15c00}
.sug{background:#fff;border:1px solid #dde2e7;border-radius:6px;padding:10px 14px;margin:10px 0}
.sh{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.kind{font-weight:600;font-family:"DejaVu Sans Mono",monospace}
.diff{font-size:12px;padding:1px 6px;border-radius:8px;background:#e3ecf7}
.diff.easy{background:#dcefe1}.diff.hard{background:#f6dfd8}
.at{color:#46525e}.sites{color:#7a8591;font-size:12px}.save{color:#2d5f3c}
.thr{background:#fff;border:1px solid #dde2e7;border-radius:6px;padding:8px 30px;max-width:900px}
.thr .crossed{color:#b42318}
pre.src{background:#1f2630;color:#d8dee6;padding:6px 0;border-radius:4px;overflow-x:auto;
 margin:6px 0 0}
pre.src>span{display:block;padding:0 10px}pre.src .hit{background:#3d4b22}.ln{color:#7d8896}
.nosrc{color:#7a8591}
"""

SCRIPT = r"""
(function () {
  "use strict";
  // Sortable sites table: numbers descending first, text ascending first.
  var table = document.getElementById("sites-table");
  var heads = table.querySelectorAll("th");
  function sortBy(th) {
    var idx = Array.prototype.indexOf.call(heads, th);
    var numeric = th.dataset.type === "num";
    var cur = th.getAttribute("aria-sort");
    var dir = cur === "none" ? (numeric ? "descending" : "ascending")
                             : (cur === "ascending" ? "descending" : "ascending");
    var sign = dir === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[idx].dataset.v, y = b.cells[idx].dataset.v, c;
      if (numeric) { c = parseFloat(x) - parseFloat(y); }
      else { c = x < y ? -1 : (x > y ? 1 : 0); }
      if (c === 0) { c = parseInt(a.dataset.site, 10) - parseInt(b.dataset.site, 10); return c; }
      return sign * c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    heads.forEach(function (h) { h.setAttribute("aria-sort", h === th ? dir : "none"); });
  }
  heads.forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(th); } });
  });
  // Icicle zoom: the clicked box spans the width, its callees below it.
  function zoom(graph, target) {
    var t0 = parseFloat(target.dataset.x0), t1 = parseFloat(target.dataset.x1);
    var td = parseInt(target.dataset.depth, 10), w = t1 - t0;
    graph.querySelectorAll(".node").forEach(function (n) {
      var x0 = parseFloat(n.dataset.x0), x1 = parseFloat(n.dataset.x1);
      var d = parseInt(n.dataset.depth, 10);
      var inside = d >= td && x0 >= t0 - 1e-9 && x1 <= t1 + 1e-9;
      n.style.display = inside ? "" : "none";
      if (inside) {
        n.style.left = (100 * (x0 - t0) / w) + "%";
        n.style.width = (100 * (x1 - x0) / w) + "%";
        n.style.top = (22 * (d - td)) + "px";
      }
    });
    graph.dataset.zoom = target.dataset.name;
  }
  document.querySelectorAll(".icicle").forEach(function (graph) {
    graph.addEventListener("click", function (e) {
      var n = e.target.closest(".node");
      if (!n) { return; }
      // the box zoomed to (now at the top) zooms back out to the whole graph
      var target = n === graph.zoomed ? graph.querySelector('.node[data-depth="0"]') : n;
      zoom(graph, target);
      graph.zoomed = target;
    });
  });
  document.body.dataset.ready = "yes";
})();
"""


def thresholds_section(limits, crossed):
    """The CI thresholds that were set (option -> limit) and which were crossed."""
    set_limits = {k: v for k, v in (limits or {}).items() if v is not None}
    if not set_limits:
        return []
    texts = {opt: text for opt, _, text, _ in crossed}
    out = ['<section id="thresholds"><h2>CI thresholds</h2><ul class="thr">']
    for opt, lim in set_limits.items():
        if opt in texts:
            out.append(f'<li id="thr-{opt}" data-crossed="yes" class="crossed">'
                       f'<b>crossed</b>: {E(texts[opt])}</li>')
        else:
            out.append(f'<li id="thr-{opt}" data-crossed="no">--{opt}={E(str(lim))}: '
                       'not crossed</li>')
    out.append('</ul></section>')
    return out


def html_page(report, source_dirs, find_source, limits=None, crossed=()):
    """The whole page as a string. find_source(path, dirs) -> readable path or None;
    limits: CI threshold option -> limit (None: not set); crossed: the crossed ones, as
    sh_sarif.crossed_thresholds gives them."""
    title = f"stackheap report: {report.get('command', '?')}"
    head = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        # Nothing may be loaded from elsewhere: the page is complete in itself.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'; img-src data:">',
        '<link rel="icon" href="data:,">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{E(title)}</title><style>{STYLE}</style></head><body>",
        f'<header><h1>stackheap report</h1><p>format {E(str(report.get("format")))}, '
        f'version {E(str(report.get("version", "?")))}, pid {E(str(report.get("pid", "?")))}'
        + (f', label {E(str(report["label"]))}' if report.get("label") else "")
        + (f', merged from {report["merged_runs"]} runs' if report.get("merged_runs") else "")
        + '</p></header><main>',
    ]
    body = (summary_section(report) + thresholds_section(limits, crossed)
            + classes_section(report) + flame_section(report)
            + sites_section(report) + suggestions_section(report, source_dirs, find_source))
    tail = ["</main>", f"<script>{SCRIPT}</script>", "</body></html>", ""]
    return "\n".join(head + body + tail)

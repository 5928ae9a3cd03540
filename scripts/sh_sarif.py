"""sh_annotate --sarif: a stackheap report as SARIF 2.1.0, for code-scanning tools and IDEs.

One rule per suggestion kind (with help text) and one per CI threshold; one result per
suggestion, at the allocation line it asks to edit, with the savings in its message and
the allocation stack in `stacks`; one result per crossed threshold, at the site that
contributes most to it. Reads report formats stackheap-1 and stackheap-2.
Standard library only.
"""

import os
import urllib.parse

SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
SRCROOT = "SRCROOT"
ELIGIBLE = ("frame", "caller")
ESCAPING = ("global", "thread", "heap", "never_freed", "outlived", "too_large")

# kind -> (name, short description, help: what it means and what to do)
SUGGESTION_RULES = {
    "use_stack_allocation": (
        "UseStackAllocation",
        "A heap block could be a local variable",
        "Every block allocated here was freed before the allocating function returned, and "
        "its address never left that function's frame (nor its callees'). Replace the "
        "malloc/new with a local variable or array of the same size: this saves an allocator "
        "call and a free per block and costs the block's size in stack."),
    "caller_owned_storage": (
        "CallerOwnedStorage",
        "A caller could own the storage",
        "The blocks allocated here always lived inside one caller's activation: the caller "
        "(named in the message, with its depth) could declare the storage as a local and "
        "pass it down, or the value could be returned by struct."),
    "bounded_local_buffer": (
        "BoundedLocalBuffer",
        "Most blocks fit a small local buffer",
        "Most blocks allocated here are small and could have lived on the stack: use a "
        "fixed-size local buffer for the common sizes and fall back to the heap above it "
        "(small-buffer optimisation)."),
    "reserve_capacity": (
        "ReserveCapacity",
        "A buffer grows one step at a time",
        "The blocks allocated here are grown repeatedly (realloc, or allocate-copy-free). "
        "Reserve the final capacity up front, or grow geometrically, to save the "
        "intermediate allocations and copies."),
    "hoist_out_of_loop": (
        "HoistOutOfLoop",
        "An allocation is repeated in a loop",
        "One activation allocates and frees a block here again and again, never two alive "
        "at once: allocate once before the loop and reuse the block."),
    "object_pool": (
        "ObjectPool",
        "Many short-lived blocks of one size",
        "Many blocks of the same size are allocated and freed here while escaping the "
        "frame: a free list or object pool would save most allocator calls."),
    "remove_escape": (
        "RemoveEscape",
        "One store keeps blocks off the stack",
        "These blocks would have been stack-eligible but for the stores at one code "
        "location (named in the message): removing or narrowing that escape would let "
        "them live on the stack."),
    "split_paths": (
        "SplitPaths",
        "Some call paths keep the block, others could use a local",
        "Blocks allocated at this line could have lived on the stack on some call paths but "
        "not on others (named in the message, with what they do with the block). A local "
        "at this line would break those paths: change them first, or give the eligible "
        "paths their own allocation."),
}

# option -> (rule id, name, short description, help)
THRESHOLD_RULES = {
    "max-escape-rate": (
        "threshold/max-escape-rate", "EscapeRateThreshold",
        "The escape rate exceeds --max-escape-rate",
        "The share of heap blocks that could not live on the stack is above the limit set "
        "with --max-escape-rate. The result points at the site with the most escaping "
        "blocks."),
    "max-alloc-rate": (
        "threshold/max-alloc-rate", "AllocRateThreshold",
        "The allocation rate exceeds --max-alloc-rate",
        "More heap blocks were allocated per million guest instructions than "
        "--max-alloc-rate allows. The result points at the site with the most blocks."),
    "max-eligible-blocks": (
        "threshold/max-eligible-blocks", "EligibleBlocksThreshold",
        "More stack-eligible blocks than --max-eligible-blocks",
        "More heap blocks could have lived on the stack than --max-eligible-blocks allows. "
        "The result points at the site with the most stack-eligible blocks."),
}


def _cls(site, name):
    return site.get("classes", {}).get(name, 0)


def _num(n):
    return f"{n:,}"


class SarifWriter:
    """Builds the SARIF log of one report. srcroot: files under it get relative URIs."""

    def __init__(self, report, srcroot):
        self.report = report
        self.srcroot = os.path.abspath(srcroot)
        self.sites = {s["id"]: s for s in report["sites"]}
        self.rules = []
        self.rule_index = {}

    # ---- locations ----

    def artifact(self, path):
        """artifactLocation for a file name from the report."""
        absolute = os.path.normpath(path) if os.path.isabs(path) else None
        if absolute is not None:
            rel = os.path.relpath(absolute, self.srcroot)
            if not rel.startswith(os.pardir + os.sep) and rel != os.pardir:
                return {"uri": urllib.parse.quote(rel.replace(os.sep, "/")),
                        "uriBaseId": SRCROOT}
            return {"uri": "file://" + urllib.parse.quote(absolute)}
        # a relative name from the debug info (e.g. libc's "./libio/genops.c")
        return {"uri": urllib.parse.quote(os.path.normpath(path).replace(os.sep, "/"))}

    def location(self, frame, message=None):
        loc = {}
        if frame.get("file"):
            phys = {"artifactLocation": self.artifact(frame["file"])}
            if frame.get("line"):
                phys["region"] = {"startLine": frame["line"]}
            loc["physicalLocation"] = phys
        loc["logicalLocations"] = [{"name": frame.get("fn", "???"), "kind": "function"}]
        if message:
            loc["message"] = {"text": message}
        return loc

    def stack(self, site):
        frames = [{"location": self.location(f)} for f in site["stack"]]
        return {"message": {"text": f"allocation stack of site {site['id']}"},
                "frames": frames or [{"location": {"message": {"text": "(empty)"}}}]}

    def suggestion_frame(self, g):
        """The source line a suggestion asks to edit: stackheap-2's location, else the
        allocating frame of its site (the same line in stackheap-1)."""
        if isinstance(g.get("location"), dict) and g["location"].get("fn"):
            return g["location"]
        site = self.sites.get(g.get("site"))
        return site["stack"][0] if site and site["stack"] else {"fn": "???"}

    @staticmethod
    def with_source(frame, site):
        """frame, or when it has no file (no debug info) the innermost frame of the
        site's stack that has one, since code scanning needs a physical location;
        returns (frame, a note for the message or "")."""
        if frame.get("file") or not site:
            return frame, ""
        for f in site["stack"]:
            if f.get("file"):
                return f, (f" (No debug info for {frame.get('fn', '???')}; shown at its "
                           f"caller {f.get('fn', '???')}.)")
        return frame, ""

    # ---- rules ----

    def add_rule(self, rule_id, rule):
        if rule_id not in self.rule_index:
            self.rule_index[rule_id] = len(self.rules)
            self.rules.append(rule)
        return self.rule_index[rule_id]

    def suggestion_rule(self, kind):
        name, short, text = SUGGESTION_RULES.get(
            kind, ("".join(w.title() for w in kind.split("_")), kind.replace("_", " "),
                   "A stackheap suggestion (kind " + kind + ")."))
        return self.add_rule(kind, {
            "id": kind, "name": name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": text},
            "help": {"text": text, "markdown": f"**{short}.** {text}"},
            "defaultConfiguration": {"level": "note"},
            "properties": {"tags": ["performance", "memory", "heap"]},
        })

    def threshold_rule(self, option):
        rule_id, name, short, text = THRESHOLD_RULES[option]
        return self.add_rule(rule_id, {
            "id": rule_id, "name": name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": text},
            "help": {"text": text, "markdown": f"**{short}.** {text}"},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["performance", "memory", "ci-threshold"]},
        })

    # ---- results ----

    def suggestion_result(self, g):
        kind = g["kind"]
        index = self.suggestion_rule(kind)
        site = self.sites.get(g.get("site"))
        severity = site.get("severity", "low") if site else "low"
        saving = (f"Saves {_num(g.get('saved_calls', 0))} allocator calls and "
                  f"{_num(g.get('saved_bytes', 0))} heap bytes; adds "
                  f"{_num(g.get('stack_cost', 0))} stack bytes "
                  f"({g.get('difficulty', '?')}).")
        frame, note = self.with_source(self.suggestion_frame(g), site)
        result = {
            "ruleId": kind, "ruleIndex": index,
            "level": "warning" if severity in ("high", "critical") else "note",
            "message": {"text": f"{g.get('text', '').rstrip('.')}. {saving}{note}"},
            "locations": [self.location(frame)],
            "partialFingerprints": {
                "stackheap/v1": f"{kind}:{frame.get('fn', '???')}:"
                                f"{os.path.basename(frame.get('file', ''))}"},
            "properties": {
                "saved_calls": g.get("saved_calls", 0), "saved_bytes": g.get("saved_bytes", 0),
                "stack_cost": g.get("stack_cost", 0), "difficulty": g.get("difficulty"),
                "sites": g.get("sites", [g.get("site")]), "severity": severity,
            },
        }
        if site:
            result["stacks"] = [self.stack(site)]
        return result

    def threshold_result(self, option, text, site):
        index = self.threshold_rule(option)
        rule_id = THRESHOLD_RULES[option][0]
        frame, note = self.with_source(site["stack"][0] if site["stack"] else {"fn": "???"},
                                       site)
        return {
            "ruleId": rule_id, "ruleIndex": index, "level": "error",
            "message": {"text": f"Threshold crossed: {text}. The largest contributor is site "
                                f"{site['id']} ({_num(site['blocks'])} blocks, "
                                f"{_num(site['bytes'])} bytes).{note}"},
            "locations": [self.location(frame)],
            "partialFingerprints": {"stackheap/v1": rule_id},
            "stacks": [self.stack(site)],
        }

    def log(self, limits):
        # Every rule, in a fixed order, so that the catalogue and ruleIndex never depend
        # on what this run found.
        for kind in SUGGESTION_RULES:
            self.suggestion_rule(kind)
        for option in THRESHOLD_RULES:
            self.threshold_rule(option)
        results = [self.suggestion_result(g) for g in self.report.get("suggestions", [])]
        crossed = crossed_thresholds(self.report, limits)
        results += [self.threshold_result(opt, text, site) for opt, _, text, site in crossed
                    if site is not None]
        t = self.report["totals"]
        run = {
            "tool": {"driver": {
                "name": "stackheap",
                "version": str(self.report.get("version", "0")),
                "rules": self.rules,
            }},
            "invocations": [{
                "executionSuccessful": True,
                "commandLine": self.report.get("command", ""),
                "properties": {"pid": self.report.get("pid"),
                               "crossed_thresholds": [c[0] for c in crossed]},
            }],
            "originalUriBaseIds": {
                SRCROOT: {"uri": "file://" + urllib.parse.quote(self.srcroot.rstrip("/") + "/")}},
            "results": results,
            "properties": {"format": self.report.get("format"), "totals": {
                k: t[k] for k in ("blocks", "bytes", "stack_eligible_blocks",
                                  "stack_eligible_bytes", "escape_rate", "instructions")
                if k in t}},
        }
        return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def crossed_thresholds(report, limits):
    """[(option, limit, text, the site to point at)] for each crossed threshold of limits
    (option name -> limit or None); the site is None when the report has none."""
    t = report["totals"]
    blocks, instrs = t.get("blocks", 0), t.get("instructions", 0)
    eligible = t.get("stack_eligible_blocks", 0)
    sites = report["sites"]
    out = []
    lim = limits.get("max-escape-rate")
    if lim is not None and blocks and (blocks - eligible) > lim * blocks:
        top = max(sites, default=None,
                  key=lambda s: (sum(_cls(s, c) for c in ESCAPING), -s["id"]))
        out.append(("max-escape-rate", lim,
                    f"escape rate {(blocks - eligible) / blocks:.4f} exceeds "
                    f"--max-escape-rate={lim} ({_num(blocks - eligible)} of {_num(blocks)} "
                    "blocks could not live on the stack)", top))
    lim = limits.get("max-alloc-rate")
    if lim is not None and instrs and blocks * 1e6 > lim * instrs:
        top = max(sites, default=None, key=lambda s: (s["blocks"], -s["id"]))
        out.append(("max-alloc-rate", lim,
                    f"{blocks * 1e6 / instrs:,.1f} blocks per million instructions exceed "
                    f"--max-alloc-rate={lim} ({_num(blocks)} blocks in {_num(instrs)} "
                    "instructions)", top))
    lim = limits.get("max-eligible-blocks")
    if lim is not None and eligible > lim:
        top = max(sites, default=None,
                  key=lambda s: (sum(_cls(s, c) for c in ELIGIBLE), -s["id"]))
        out.append(("max-eligible-blocks", lim,
                    f"{_num(eligible)} blocks could have lived on the stack, more than "
                    f"--max-eligible-blocks={lim}", top))
    return out


def threshold_limits(report, args):
    """The limits to check: sh_annotate's --max-* options, else the tool's own (options)."""
    opts = report.get("options", {})
    return {
        "max-escape-rate": args.max_escape_rate if args.max_escape_rate is not None
        else opts.get("max-escape-rate"),
        "max-alloc-rate": args.max_alloc_rate if args.max_alloc_rate is not None
        else opts.get("max-alloc-rate"),
        "max-eligible-blocks": args.max_eligible_blocks if args.max_eligible_blocks is not None
        else opts.get("max-eligible-blocks"),
    }


def sarif_log(report, args, srcroot):
    return SarifWriter(report, srcroot).log(threshold_limits(report, args))

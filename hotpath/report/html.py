"""The HTML report: one self-contained, offline file (flame graph, tables, Pareto, candidates).

The page is a template, a stylesheet and a script kept as package data under ``assets/``,
plus the analysis embedded as JSON in ``<script type="application/json">``. The JSON has
``<``, ``>``, ``&`` and U+2028/U+2029 escaped, so no function name can close the script
element; the script inserts data only with ``textContent``. A Content-Security-Policy with
``default-src 'none'`` and hashes of the one script and stylesheet forbids every network
request and every other script, so even a missed escape could not run injected code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from dataclasses import asdict, replace
from functools import cache
from importlib import resources
from typing import IO, Any

from hotpath import escape
from hotpath._version import __version__
from hotpath.analysis.calltree import CallTreeNode
from hotpath.analysis.results import Analysis, FunctionRow
from hotpath.report.base import Renderer
from hotpath.report.json import function_dict, plan_dict

MAX_FUNCTIONS = 1000
"""Rows of the function table: enough to browse, bounded so huge profiles stay small."""
KINDS = ["app", "library", "stdlib", "native", "root", "hidden"]

_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")
_PLACEHOLDER_RE = re.compile(r"\{\{(CSP|VERSION|TITLE|CSS|JS|DATA)\}\}")


def json_for_script(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>``, ``<!--`` or line separators."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return escape.json_text(_JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text))


@cache
def _asset(name: str) -> str:
    return (resources.files("hotpath.report") / "assets" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    return x if math.isfinite(x) else None


MAX_FLAME_DEPTH = 400
"""Flame graph levels drawn; deeper frames are summed into one "N deeper frames hidden"."""


def _tree_data(root: CallTreeNode, min_share: float) -> dict[str, Any]:
    """The call tree as nested arrays over a string table: a third of the size of objects."""
    strings: dict[str, int] = {"": 0}

    def sid(s: str) -> int:
        i = strings.get(s)
        if i is None:
            i = strings[s] = len(strings)
        return i

    hidden = 0
    out: list[Any] = []
    todo: list[tuple[CallTreeNode, list[Any], int]] = [(root, out, 0)]
    while todo:
        node, slot, depth = todo.pop()
        kids: list[Any] = []
        hidden += node.hidden
        if depth >= MAX_FLAME_DEPTH and node.children:
            # Deeper than anyone reads a flame graph (and than JSON encoders and the page's
            # script recurse): the rest of the path becomes one hidden node.
            count = sum(c.count() for c in node.children)
            hidden += count
            label = f"{count} deeper frame{'s' if count != 1 else ''} hidden"
            total = sum(c.total for c in node.children)
            kids.append([sid(label), 0, KINDS.index("hidden"), total, 0.0, count, []])
            node = replace(node, children=())
        slot.extend(
            [
                sid(node.name),
                sid(node.file),
                KINDS.index(node.kind),
                node.total,
                node.self,
                node.hidden,
                kids,
            ]
        )
        for child in node.children:
            arr: list[Any] = []
            kids.append(arr)
            todo.append((child, arr, depth + 1))
    return {
        "strings": list(strings),
        "kinds": KINDS,
        "root": out,
        "hidden_frames": hidden,
        "min_share": min_share,
    }


def _function(r: FunctionRow) -> dict[str, Any]:
    # The JSON report's row, plus the line the page shows (first_line where known, else
    # the smallest sampled line).
    return {**function_dict(r), "line": r.line}


def report_data(analysis: Analysis, min_share: float | None = None) -> dict[str, Any]:
    """Everything the page's script reads, as plain JSON-able data."""
    from hotpath.analysis.calltree import DEFAULT_MIN_SHARE

    p = analysis.profile
    data: dict[str, Any] = {
        "title": "hotpath report",
        "profile": {
            "sources": [{"path": s.path, "format": s.format} for s in p.sources],
            "unit": p.unit,
            "total": p.total,
            "samples": p.samples,
            "duration_s": _num(p.duration_s),
            "tools": p.tools,
        },
        "functions": [_function(r) for r in analysis.functions[:MAX_FUNCTIONS]],
        "functions_total": len(analysis.functions),
        "recursion_groups": len(analysis.recursion),
        "endpoints": None,
        "pareto": None,
        "candidates": None,
        "plan": None,
        "flame": None,
    }
    if analysis.endpoints is not None:
        data["endpoints"] = [asdict(e) for e in analysis.endpoints]
    if analysis.pareto is not None:
        data["pareto"] = asdict(analysis.pareto)
    if analysis.candidates is not None:
        data["candidates"] = [asdict(c) for c in analysis.candidates]
    if analysis.plan is not None:
        data["plan"] = plan_dict(analysis.plan)  # the JSON report's, as the page reads it
    if analysis.flame is not None:
        share = DEFAULT_MIN_SHARE if min_share is None else min_share
        data["flame"] = _tree_data(analysis.flame, share)
    return data


def render_html(analysis: Analysis) -> str:
    """The whole page as one string."""
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        "default-src 'none'; "
        f"script-src '{_sha256(js)}'; style-src '{_sha256(css)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    sources = ", ".join(s.path.rsplit("/", 1)[-1] for s in analysis.profile.sources[:3])
    values = {
        "CSP": csp,
        "VERSION": html.escape(__version__),
        "TITLE": html.escape(f"hotpath report: {sources}" if sources else "hotpath report"),
        "CSS": css,
        "JS": js,
        "DATA": json_for_script(report_data(analysis)),
    }
    # One pass, so text inside the data can never be taken for a placeholder.
    return _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], _asset("report.html"))


def render(analysis: Analysis, out: IO[str]) -> None:
    out.write(render_html(analysis))


RENDERER = Renderer("html", ".html", render)

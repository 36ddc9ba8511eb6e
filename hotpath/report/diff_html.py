"""The differential flame graph: one self-contained HTML page, no scripts, no network.

Boxes are functions in the merged call tree of both profiles; a box is as wide as its share
of the current profile (as in Brendan Gregg's differential flame graphs; paths that vanished
are listed above the graph instead) and coloured by the change: red where the current
profile spends more, blue where it spends less, grey where nothing moved.
Every name is HTML-escaped.
"""

from __future__ import annotations

from typing import IO

from hotpath import escape
from hotpath.analysis.diff import DiffNode, DiffResult
from hotpath.report.diff import describe, pct

ROW_PX = 18
MAX_DEPTH = 60


def colour(base: float, current: float) -> str:
    """Red for growth, blue for shrinkage, saturating at a 5 point change."""
    delta = current - base
    strength = min(1.0, abs(delta) / 0.05)
    if strength < 0.02:
        return "rgb(210,210,210)"
    fade = int(230 - 170 * strength)
    return f"rgb(235,{fade},{fade})" if delta > 0 else f"rgb({fade},{fade},235)"


def _boxes(node: DiffNode, left: float, depth: int, out: list[str]) -> None:
    width = node.current_share
    if depth > MAX_DEPTH or width <= 0:
        return
    label = node.name if not node.file else f"{node.name} ({node.file})"
    tip = (
        f"{escape.html_text(label)}&#10;base {pct(node.base_share)} → current "
        f"{pct(node.current_share)} ({(node.current_share - node.base_share) * 100:+.1f} pp)"
    )
    out.append(
        f'<div class="b" style="left:{left * 100:.4f}%;width:{width * 100:.4f}%;'
        f'top:{depth * ROW_PX}px;background:{colour(node.base_share, node.current_share)}" '
        f'title="{tip}">{escape.html_text(node.name)}</div>'
    )
    x = left
    for child in node.children:
        _boxes(child, x, depth + 1, out)
        x += child.current_share


def _depth(node: DiffNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=0)


def render_diff_html(result: DiffResult, out: IO[str]) -> None:
    boxes: list[str] = []
    if result.tree is not None:
        _boxes(result.tree, 0.0, 0, boxes)
    height = (min(_depth(result.tree), MAX_DEPTH + 1) if result.tree else 1) * ROW_PX + 4
    items = (
        "".join(
            f"<li class='{c.status}'>{escape.html_text(describe(c))}</li>"
            for c in (*result.regressions, *result.improvements)
        )
        or "<li>No significant change above the thresholds.</li>"
    )
    out.write(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">"
        "<title>hotpath diff</title><style>"
        "body{font:13px system-ui,sans-serif;margin:16px}"
        "#fg{position:relative;width:100%;border:1px solid #ccc}"
        ".b{position:absolute;height:17px;overflow:hidden;white-space:nowrap;"
        "font:11px monospace;line-height:17px;padding-left:2px;box-sizing:border-box;"
        "border-right:1px solid #fff}"
        ".regressed,.new{color:#b00}.improved,.vanished{color:#00a}"
        "</style></head><body>"
        "<h1>hotpath diff</h1>"
        f"<p>base: {result.base.samples:,.0f} samples · current: "
        f"{result.current.samples:,.0f} samples · red: heavier now, blue: lighter now</p>"
        f"<ul id='changes'>{items}</ul>"
        f"<div id='fg' style='height:{height}px'>{''.join(boxes)}</div>"
        "</body></html>\n"
    )

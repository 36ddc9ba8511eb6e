"""Graphviz DOT call graph of the analysis, pruned like gprof2dot.

Drawn from the analysis's own :class:`~hotpath.analysis.callgraph.CallGraph` of one measure
(the CPU view by default), so its percentages are the report's: inclusive and self share per
function (capped at 100%, like the report, where cProfile's cumulative time exceeds the sum
of its self times), coloured from cold (blue) to hot (red); edges carry the share of time
spent in the callee when called from the caller. A node below ``node_thres`` percent of the
total is dropped, and so is an edge below ``edge_thres`` percent or touching a dropped node
(gprof2dot's ``-n``/``-e``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from hotpath.analysis.callgraph import ROOT, CallGraph
from hotpath.errors import UsageError
from hotpath.escape import dot_string


@dataclass(frozen=True)
class DotOptions:
    node_thres: float = 0.5
    """Percent of the total below which a function is left out."""
    edge_thres: float = 0.1
    """Percent of the total below which a call edge is left out."""


def escape(text: str) -> str:
    """Escape text for a double-quoted DOT string (see :func:`hotpath.escape.dot_string`)."""
    return dot_string(text)


def _colour(share: float) -> str:
    """gprof2dot-like temperature: blue (cold) through green and yellow to red (hot)."""
    share = max(0.0, min(1.0, share)) ** 0.5
    hue = (2.0 / 3.0) * (1.0 - share)
    return f"{hue:.3f} 0.85 0.95"


def render_dot(cg: CallGraph, stream: IO[bytes], options: DotOptions | None = None) -> None:
    """Write the DOT graph of ``cg`` (its totals and edges, pruned by ``options``)."""
    opts = options or DotOptions()
    if opts.node_thres < 0 or opts.edge_thres < 0:
        raise UsageError("--node-thres and --edge-thres must not be negative")
    total = cg.total

    def pct(w: float) -> float:
        return min(100.0, 100.0 * w / total) if total else 0.0

    fns = cg.functions
    kept = sorted(
        (k for k, f in fns.items() if pct(f.inclusive) >= opts.node_thres),
        key=lambda k: (-fns[k].inclusive, k.name, k.file),
    )
    ids = {k: f"n{i}" for i, k in enumerate(kept)}
    lines = [
        "digraph hotpath {",
        '  graph [fontname="Helvetica", nodesep=0.25, ranksep=0.3];',
        '  node [fontname="Helvetica", shape=box, style=filled, fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for k in kept:
        f = fns[k]
        where = k.file.replace("\\", "/").rsplit("/", 2)[-2:]
        shares = f"{pct(f.inclusive):.2f}%\n({pct(f.self):.2f}%)"
        label = f"{k.name}\n{'/'.join(where)}\n{shares}"
        lines.append(
            f'  {ids[k]} [label="{escape(label)}", tooltip="{escape(str(k))}", '
            f'fillcolor="{_colour(pct(f.inclusive) / 100)}"];'
        )
    for (a, b), w in sorted(cg.edges.items(), key=lambda kv: (-kv[1], kv[0])):
        if a in (ROOT, b) or a not in ids or b not in ids or pct(w) < opts.edge_thres:
            continue
        share = pct(w) / 100
        lines.append(
            f'  {ids[a]} -> {ids[b]} [label="{pct(w):.2f}%", penwidth={0.5 + 3.5 * share:.2f}, '
            f'color="{_colour(share)}"];'
        )
    lines.append("}")
    stream.write(("\n".join(lines) + "\n").encode("utf-8"))

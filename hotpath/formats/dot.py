"""Graphviz DOT call graph (write only), pruned like gprof2dot.

Nodes are functions labelled with inclusive and self share, coloured from cold (blue) to hot
(red) by inclusive share; edges carry the share of time spent in the callee when called from
the caller. A node below ``node_thres`` percent of the total is dropped, and so is an edge
below ``edge_thres`` percent or touching a dropped node (gprof2dot's ``-n``/``-e``).

Formats depend only on the model, so the few totals needed here are counted from the
profile directly (once per stack, like the analysis call graph) rather than imported.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import IO, BinaryIO

from hotpath.errors import ProfileParseError, UsageError
from hotpath.escape import dot_string
from hotpath.formats.spec import FormatSpec
from hotpath.model import FunctionKey, Profile


@dataclass(frozen=True)
class DotOptions:
    node_thres: float = 0.5
    """Percent of the total below which a function is left out."""
    edge_thres: float = 0.1
    """Percent of the total below which a call edge is left out."""


def escape(text: str) -> str:
    """Escape text for a double-quoted DOT string (see :func:`hotpath.escape.dot_string`)."""
    return dot_string(text)


def _totals(
    profile: Profile,
) -> tuple[
    float,
    dict[FunctionKey, float],
    dict[FunctionKey, float],
    dict[tuple[FunctionKey, FunctionKey], float],
]:
    if not profile.samples and profile.function_stats:
        fs = profile.function_stats
        return (
            profile.total,
            {k: v.self for k, v in fs.items()},
            {k: v.inclusive for k, v in fs.items()},
            {k: v.inclusive for k, v in profile.call_edges.items()},
        )
    keys = [fr.function for fr in profile.frames]
    self_w: dict[FunctionKey, float] = {}
    incl: dict[FunctionKey, float] = {}
    edges: dict[tuple[FunctionKey, FunctionKey], float] = {}
    total = 0.0
    for (stack, _lid), w in profile.samples.items():
        total += w
        if not stack:
            continue
        fns = [keys[f] for f in stack]
        self_w[fns[-1]] = self_w.get(fns[-1], 0.0) + w
        for k in set(fns):  # once per stack: recursion never exceeds the total
            incl[k] = incl.get(k, 0.0) + w
        for pair in set(itertools.pairwise(fns)):
            edges[pair] = edges.get(pair, 0.0) + w
    return total, self_w, incl, edges


def _colour(share: float) -> str:
    """gprof2dot-like temperature: blue (cold) through green and yellow to red (hot)."""
    share = max(0.0, min(1.0, share)) ** 0.5
    hue = (2.0 / 3.0) * (1.0 - share)
    return f"{hue:.3f} 0.85 0.95"


def write_dot(profile: Profile, stream: IO[bytes], options: DotOptions | None = None) -> None:
    opts = options or DotOptions()
    if opts.node_thres < 0 or opts.edge_thres < 0:
        raise UsageError("--node-thres and --edge-thres must not be negative")
    total, self_w, incl, edges = _totals(profile)
    scale = 100.0 / total if total else 0.0
    kept = sorted(
        (k for k, v in incl.items() if v * scale >= opts.node_thres),
        key=lambda k: (-incl[k], k.name, k.file),
    )
    ids = {k: f"n{i}" for i, k in enumerate(kept)}
    lines = [
        "digraph hotpath {",
        '  graph [fontname="Helvetica", nodesep=0.25, ranksep=0.3];',
        '  node [fontname="Helvetica", shape=box, style=filled, fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for k in kept:
        where = k.file.replace("\\", "/").rsplit("/", 2)[-2:]
        shares = f"{incl[k] * scale:.2f}%\n({self_w.get(k, 0.0) * scale:.2f}%)"
        label = f"{k.name}\n{'/'.join(where)}\n{shares}"
        share = incl[k] / total if total else 0.0
        lines.append(
            f'  {ids[k]} [label="{escape(label)}", tooltip="{escape(str(k))}", '
            f'fillcolor="{_colour(share)}"];'
        )
    for (a, b), w in sorted(edges.items(), key=lambda kv: -kv[1]):
        if a == b or a not in ids or b not in ids or w * scale < opts.edge_thres:
            continue
        width = 0.5 + 3.5 * (w / total if total else 0.0)
        lines.append(
            f'  {ids[a]} -> {ids[b]} [label="{w * scale:.2f}%", penwidth={width:.2f}, '
            f'color="{_colour(w / total)}"];'
        )
    lines.append("}")
    stream.write(("\n".join(lines) + "\n").encode("utf-8"))


def write(profile: Profile, stream: IO[bytes]) -> None:
    write_dot(profile, stream)


def _read(stream: BinaryIO, path: str) -> Profile:
    raise ProfileParseError(path, "hotpath writes DOT call graphs but cannot read them back")


SPEC = FormatSpec(
    name="dot",
    description="Graphviz DOT call graph (write only; render with `dot -Tsvg`)",
    extensions=(".dot", ".gv"),
    sniff=lambda head: False,
    read=_read,
    write=write,
)

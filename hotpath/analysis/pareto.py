"""Pareto curves: how few functions (and endpoints) carry most of the CPU.

Functions are ranked by self weight (self weights add up to the total, inclusive ones do
not). The app's size is what the profile saw, or, with a source root, every function and
line of the app's ``.py`` files under that root, counted with :mod:`ast`.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotpath.analysis.callgraph import CallGraph, FunctionTotals
from hotpath.analysis.classify import Classifier
from hotpath.analysis.results import Pareto
from hotpath.analysis.sourcefile import read_source
from hotpath.model import FunctionKey


@dataclass(frozen=True)
class SourceSize:
    functions: int
    lines: int
    files: int
    defs: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    """Real path -> (function name, first line, last line) of every def."""


def count_source(root: str) -> SourceSize:
    """Functions (defs, incl. methods) and non-blank lines of every ``.py`` file under root."""
    root = os.path.realpath(root)
    functions = lines = files = 0
    defs: dict[str, list[tuple[str, int, int]]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d not in ("__pycache__", "node_modules")
        )
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            if os.path.islink(path) and not os.path.realpath(path).startswith(root + os.sep):
                continue  # never read outside the root
            text = read_source(path)  # regular files only: a FIFO named x.py must not hang us
            if text is None:
                continue
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                continue
            files += 1
            lines += sum(1 for line in text.splitlines() if line.strip())
            found = [
                (n.name, n.lineno, n.end_lineno or n.lineno)
                for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            functions += len(found)
            defs[os.path.realpath(path)] = found
    return SourceSize(functions, lines, files, defs)


MAX_CURVE_POINTS = 256
"""A curve is thinned to about this many points: a million functions must not make a
million-point curve in every JSON and HTML report (the shape is concave; lines between the
kept points stay within a hair of it)."""


def curve(
    weights: Sequence[float], max_points: int = MAX_CURVE_POINTS
) -> list[tuple[float, float]]:
    """Cumulative (fraction of items, fraction of weight), heaviest first, from (0, 0).

    Every point is kept for the first ``max_points // 4`` items (where the curve is steep),
    then evenly spaced ones, and always the last."""
    ws = sorted((w for w in weights if w > 0), reverse=True)
    total = sum(ws)
    n = len(ws)
    if not n or total <= 0:
        return []
    points = [(0.0, 0.0)]
    acc = 0.0
    head = max_points // 4
    step = max(1, -(-(n - head) // max(1, max_points - head - 1)))
    for i, w in enumerate(ws, 1):
        acc += w
        if i <= head or i == n or (i - head) % step == 0:
            points.append((i / n, min(1.0, acc / total)))
    return points


def compute_pareto(
    cg: CallGraph,
    classifier: Classifier,
    endpoint_weights: dict[str, float] | None = None,
    target: float = 0.8,
) -> Pareto:
    """Curves for the app's functions (by self weight) and endpoints, and the headline."""
    app = {
        k: f
        for k, f in cg.functions.items()
        if classifier.kind(k.name, k.file) == "app" and f.self > 0
    }
    fn_curve = curve([f.self for f in app.values()])
    size = count_source(classifier.source_root) if classifier.source_root else None
    sentence = _sentence(app, cg, size, target, classifier.source_root)
    if size is not None and size.functions and fn_curve:
        seen = sum(1 for f in app.values() if f.self > 0)
        fn_curve = [(x * seen / size.functions, y) for x, y in fn_curve]
    ep_curve = curve(list(endpoint_weights.values())) if endpoint_weights else []
    return Pareto(fn_curve, ep_curve, sentence)


def _sentence(
    app: dict[FunctionKey, FunctionTotals],
    cg: CallGraph,
    size: SourceSize | None,
    target: float,
    classifier_root: str | None,
) -> str:
    rows = sorted(app.values(), key=lambda f: (-f.self, f.key))
    app_total = sum(f.self for f in rows)
    if not rows or cg.total <= 0:
        return "no app functions were sampled"
    acc = 0.0
    picked: list[FunctionTotals] = []
    for f in rows:
        picked.append(f)
        acc += f.self
        if acc >= target * app_total:
            break
    n = len(picked)
    cpu = acc / cg.total
    if size is not None and size.functions:
        lines = sum(_span(f, size, classifier_root) for f in picked)
        where = f"{n / size.functions:.1%} of the app's {size.functions:,} functions"
        if lines:
            where += f" / about {lines / max(size.lines, 1):.1%} of its {size.lines:,} lines"
    else:
        plural = "s" if len(rows) != 1 else ""
        where = f"{n / len(rows):.0%} of the {len(rows):,} app function{plural} sampled"
    return (
        f"{n} function{'s' if n != 1 else ''} ({where}) take{'s' if n == 1 else ''} {cpu:.0%} "
        "of the CPU "
        f"({acc / app_total:.0%} of the app's own self time)"
    )


def _span(f: FunctionTotals, size: SourceSize, root: str | None) -> int:
    """Source lines of a sampled function's def (0 when its file is not under the root)."""
    if root is None or not f.key.file or "\0" in f.key.file:
        return 0
    file = f.key.file
    path = os.path.realpath(file if os.path.isabs(file) else os.path.join(root, file))
    short = f.key.name.rsplit(".", 1)[-1]
    line = f.first_line if f.first_line is not None else f.min_line
    for name, start, end in size.defs.get(path, ()):
        if name == short and line is not None and start <= line <= end:
            return end - start + 1
    return 0

"""The call graph view of a profile: self and inclusive weight per function, caller→callee edges.

A function is (qualified name, file); samples at different lines of one function add up.
Inclusive weight counts a function once per stack, so a recursive function's inclusive
weight never exceeds the total. Edge weights likewise count each distinct caller→callee
pair once per stack. For cProfile/pstats input the exact totals of the profiler are used.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotpath.model import FunctionKey, Profile, Unit

if TYPE_CHECKING:  # networkx is imported lazily: it costs 0.13 s at start-up
    import networkx as nx

ROOT = FunctionKey("<root>", "")
"""Synthetic caller of every outermost frame (the entry point of dominator analysis)."""


@dataclass(frozen=True, slots=True)
class FunctionTotals:
    key: FunctionKey
    self: float
    inclusive: float
    calls: int | None = None
    first_line: int | None = None
    """The def line where the format records it."""
    min_line: int | None = None
    """The smallest sampled line: a stand-in for display when first_line is unknown."""


@dataclass(frozen=True)
class CallGraph:
    """Per-function totals and caller→callee edge weights of one profile."""

    unit: Unit
    total: float
    functions: dict[FunctionKey, FunctionTotals]
    edges: dict[tuple[FunctionKey, FunctionKey], float]
    """(caller, callee) -> weight; callers include :data:`ROOT` for outermost frames."""
    line_self: dict[tuple[FunctionKey, int], float] = field(default_factory=dict)
    """(function, sampled line) -> self weight, for line-level drill-down."""
    edge_calls: dict[tuple[FunctionKey, FunctionKey], int] = field(default_factory=dict)

    def ranked(self, by: str = "inclusive") -> list[FunctionTotals]:
        """Functions by descending weight (``"inclusive"`` or ``"self"``), ties by name."""
        if by not in ("inclusive", "self"):
            raise ValueError(by)
        return sorted(
            self.functions.values(),
            key=lambda f: (-getattr(f, by), f.key.name, f.key.file),
        )

    def callers(self, key: FunctionKey) -> dict[FunctionKey, float]:
        return {a: w for (a, b), w in self.edges.items() if b == key and a != key}

    def callees(self, key: FunctionKey) -> dict[FunctionKey, float]:
        return {b: w for (a, b), w in self.edges.items() if a == key and b != key}

    def digraph(self) -> nx.DiGraph:
        """A networkx DiGraph: nodes carry ``self_weight``/``inclusive``, edges ``weight``."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_node(ROOT, self_weight=0.0, inclusive=self.total)
        for key, f in self.functions.items():
            g.add_node(key, self_weight=f.self, inclusive=f.inclusive)
        g.add_weighted_edges_from((a, b, w) for (a, b), w in self.edges.items())
        return g


def build_callgraph(profile: Profile) -> CallGraph:
    """Build the call graph of a profile (stacks, or exact call statistics for pstats)."""
    if not profile.samples and profile.function_stats:
        return _from_stats(profile)
    frames = profile.frames
    # Frame ids -> function index; many frames (one per line) map to one function.
    fn_index: dict[FunctionKey, int] = {}
    fn_of: list[int] = []
    first_lines: list[int | None] = []
    min_lines: list[int | None] = []
    for fr in frames:
        key = fr.function
        idx = fn_index.get(key)
        if idx is None:
            idx = len(fn_index)
            fn_index[key] = idx
            first_lines.append(fr.first_line)
            min_lines.append(fr.line)
        else:
            if first_lines[idx] is None and fr.first_line is not None:
                first_lines[idx] = fr.first_line
            ml = min_lines[idx]
            if fr.line is not None and (ml is None or fr.line < ml):
                min_lines[idx] = fr.line
        fn_of.append(idx)
    n = len(fn_index)
    self_w = [0.0] * n
    incl_w = [0.0] * n
    leaf_w: dict[int, float] = {}
    edges: dict[tuple[int, int], float] = {}
    total = 0.0
    root = -1
    for (stack, _lid), w in profile.samples.items():
        total += w
        if not stack or not w:  # zero-weight stacks would leave edges to absent functions
            continue
        leaf = stack[-1]
        leaf_w[leaf] = leaf_w.get(leaf, 0.0) + w
        fns = [fn_of[f] for f in stack]
        self_w[fns[-1]] += w
        if len(fns) == 1:
            incl_w[fns[0]] += w
            key1 = (root, fns[0])
            edges[key1] = edges.get(key1, 0.0) + w
            continue
        distinct = set(fns)
        for fn in distinct:
            incl_w[fn] += w
        pairs = set(itertools.pairwise(fns))
        pairs.add((root, fns[0]))
        for pair in pairs:
            edges[pair] = edges.get(pair, 0.0) + w
    keys = list(fn_index)
    functions = {
        keys[i]: FunctionTotals(keys[i], self_w[i], incl_w[i], None, first_lines[i], min_lines[i])
        for i in range(n)
        if incl_w[i] > 0 or self_w[i] > 0
    }
    named_edges = {(ROOT if a == root else keys[a], keys[b]): w for (a, b), w in edges.items()}
    line_self: dict[tuple[FunctionKey, int], float] = {}
    for fid, w in leaf_w.items():
        fr = frames[fid]
        if fr.line is not None:
            lk = (fr.function, fr.line)
            line_self[lk] = line_self.get(lk, 0.0) + w
    return CallGraph(profile.meta.unit, total, functions, named_edges, line_self)


def _from_stats(profile: Profile) -> CallGraph:
    functions = {
        key: FunctionTotals(key, st.self, st.inclusive, st.calls, st.first_line, st.first_line)
        for key, st in profile.function_stats.items()
    }
    edges = {k: e.inclusive for k, e in profile.call_edges.items()}
    edge_calls = {k: e.calls for k, e in profile.call_edges.items()}
    called = {b for (_a, b) in profile.call_edges}
    for key, st in profile.function_stats.items():
        if key not in called:  # never called from profiled code: an entry point
            edges[(ROOT, key)] = st.inclusive
    return CallGraph(profile.meta.unit, profile.total, functions, edges, {}, edge_calls)


def recursion_groups(cg: CallGraph) -> list[list[FunctionKey]]:
    """Groups of mutually recursive functions (strongly connected components with a cycle),
    largest weight first. Uses SCCs, never cycle enumeration (which can take minutes)."""
    import networkx as nx

    g = cg.digraph()
    groups: list[list[FunctionKey]] = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1 or any(g.has_edge(n, n) for n in comp):
            groups.append(sorted(comp))
    groups.sort(
        key=lambda c: -max((cg.functions[k].inclusive for k in c if k in cg.functions), default=0)
    )
    return groups


def shares(values: Iterable[float], total: float) -> list[float]:
    return [v / total if total else 0.0 for v in values]

"""The call graph view of a profile: self and inclusive weight per function, caller→callee edges.

A function is (qualified name, file); samples at different lines of one function add up.
Inclusive weight counts a function once per stack, so a recursive function's inclusive
weight never exceeds the total. Edge weights likewise count each distinct caller→callee
pair once per stack. For cProfile/pstats input the exact totals of the profiler are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hotpath.analysis.stacktable import CodeSums, StackTable, by_stack, first_of_each
from hotpath.model import Frame, FunctionKey, Profile, Unit

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
    line_self: Mapping[tuple[FunctionKey, int], float] = field(default_factory=dict)
    """(function, sampled line) -> self weight, for line-level drill-down."""
    edge_calls: dict[tuple[FunctionKey, FunctionKey], int] = field(default_factory=dict)
    stacks: StackTable | None = field(default=None, compare=False, repr=False)
    """The distinct stacks it was built from (labels ignored), for the advisor's tallies."""
    samples_of: object = field(default=None, compare=False, repr=False)
    """The ``samples`` dict of the profile those stacks are of (reused only for that one)."""

    def ranked(self, by: str = "inclusive") -> list[FunctionTotals]:
        """Functions by descending weight (``"inclusive"`` or ``"self"``), ties by name."""
        if by not in ("inclusive", "self"):
            raise ValueError(by)
        return sorted(
            self.functions.values(),
            key=lambda f: (-getattr(f, by), f.key.name, f.key.file),
        )

    def callers(self, key: FunctionKey) -> dict[FunctionKey, float]:
        """Weight of each caller of ``key`` (not itself)."""
        return {a: w for a, w in self._adjacency(1).get(key, {}).items() if a != key}

    def callees(self, key: FunctionKey) -> dict[FunctionKey, float]:
        """Weight of each callee of ``key`` (not itself)."""
        return {b: w for b, w in self._adjacency(0).get(key, {}).items() if b != key}

    def _adjacency(self, to: int) -> dict[FunctionKey, dict[FunctionKey, float]]:
        """Callees by caller (``to`` 0) or callers by callee (1), each built once on first
        use: scanning every edge per lookup made the advisor quadratic (3 s of a 5 s analysis
        on a 10 MB py-spy file), and the advisor only asks for callers (building both maps
        held 2.9 MiB at its peak on a 100 MB py-spy file, not 1.4)."""
        name = ("_callees", "_callers")[to]
        adj: dict[FunctionKey, dict[FunctionKey, float]] | None = self.__dict__.get(name)
        if adj is None:
            adj = {}
            for edge, w in self.edges.items():
                adj.setdefault(edge[to], {})[edge[1 - to]] = w
            object.__setattr__(self, name, adj)
        return adj

    def digraph(self) -> nx.DiGraph:
        """A networkx DiGraph: nodes carry ``self_weight``/``inclusive``, edges ``weight``.

        For graph work beyond hotpath's own (the analysis does not import networkx: see
        :func:`strongly_connected`); the tests use it as the reference for the hand-written
        algorithms."""
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
    # Keyed by plain (name, file) tuples: FunctionKey's dataclass hash runs in Python.
    fn_index: dict[tuple[str, str], int] = {}
    fn_of: list[int] = []
    first_lines: list[int | None] = []
    min_lines: list[int | None] = []
    for fr in frames:
        key = (fr.name, fr.file)
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
    table = by_stack(profile)
    total = 0.0
    for w in table.weights.tolist():  # in sample order, as a loop over the stacks adds
        total += w
    fn_array = np.asarray(fn_of, dtype=np.int64)
    del fn_of
    self_w, incl_w, edges, leaves = _weigh(table, fn_array, n)
    keys = [FunctionKey(name, file) for name, file in fn_index]
    self_l, incl_l = self_w.tolist(), incl_w.tolist()
    functions = {
        keys[i]: FunctionTotals(keys[i], self_l[i], incl_l[i], None, first_lines[i], min_lines[i])
        for i in range(n)
        if incl_l[i] > 0 or self_l[i] > 0
    }
    named_edges = {(ROOT if a < 0 else keys[a], keys[b]): w for (a, b), w in edges.items()}
    line_self = _LineSelf(leaves, frames, fn_array, keys)
    return CallGraph(
        profile.meta.unit,
        total,
        functions,
        named_edges,
        line_self,
        stacks=table,
        samples_of=profile.samples,
    )


class _LineSelf(Mapping[tuple[FunctionKey, int], float]):
    """(function, sampled line) -> self weight, added up from the leaves' weights when first
    read: no report reads it yet, and as a dict it was 1.75 MiB of the advisor's peak on the
    100 MB unique-line benchmark file (15,498 lines); the leaves' arrays are 0.7 MiB."""

    def __init__(
        self, leaves: CodeSums, frames: list[Frame], fn_of: np.ndarray, keys: list[FunctionKey]
    ) -> None:
        self._made: dict[tuple[FunctionKey, int], float] | None = None
        self._from: tuple[CodeSums, list[Frame], np.ndarray, list[FunctionKey]] | None = (
            leaves,
            frames,
            fn_of,
            keys,
        )

    def _dict(self) -> dict[tuple[FunctionKey, int], float]:
        made = self._made
        if made is None:
            assert self._from is not None
            leaves, frames, fn_of, keys = self._from
            made = {}
            fn = fn_of.tolist()
            for fid, w in leaves.items():  # leaves in the order first seen
                fr = frames[fid]
                if fr.line is not None:
                    lk = (keys[fn[fid]], fr.line)
                    made[lk] = made.get(lk, 0.0) + w
            self._made, self._from = made, None
        return made

    def __getitem__(self, key: tuple[FunctionKey, int]) -> float:
        return self._dict()[key]

    def __iter__(self) -> Iterator[tuple[FunctionKey, int]]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())


def _weigh(
    table: StackTable, fn_of: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], float], CodeSums]:
    """Self and inclusive weight per function, caller -> callee edge weights (the root's
    caller is -1) and self weight per leaf frame, by numpy over chunks of stacks.

    Every weight is added in stack order (``np.add.at`` is sequential), so the sums are
    the ones a loop over the stacks gives, to the last bit. Edges and leaves come in the
    order they first appear."""
    self_w = np.zeros(n, dtype=np.float64)
    incl_w = np.zeros(n, dtype=np.float64)
    edges, leaves = CodeSums(), CodeSums()
    m = n + 1
    for part in table.chunks():
        sid = part.sid()
        fns = fn_of[part.flat]
        # Empty and zero-weight stacks add nothing (and would leave edges to absent functions).
        counted = (part.weights != 0) & (part.ends > part.starts)
        leaf = (part.ends - 1)[counted]
        weights = part.weights[counted]
        np.add.at(self_w, fns[leaf], weights)
        once = first_of_each(sid * n + fns)  # a function counts once per stack
        once = once[counted[sid[once]]]
        np.add.at(incl_w, fns[once], part.weights[sid[once]])
        callers = np.empty_like(fns)
        callers[1:] = fns[:-1]
        callers[part.starts[part.ends > part.starts]] = -1
        codes = (callers + 1) * m + fns
        once = first_of_each(sid * (m * m) + codes)  # an edge counts once per stack
        once = once[counted[sid[once]]]
        edges.add(codes[once], part.weights[sid[once]])
        leaves.add(part.flat[leaf], weights)
    by_edge = {(code // m - 1, code % m): w for code, w in edges.items()}
    return self_w, incl_w, by_edge, leaves


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
    largest weight first. Uses SCCs, never cycle enumeration (which can take minutes).

    Found once per graph (the dominator tree and the report both ask)."""
    found = cg.__dict__.get("_recursion")
    if found is None:
        found = _recursion_groups(cg)
        object.__setattr__(cg, "_recursion", found)
    return [list(g) for g in found]


def _recursion_groups(cg: CallGraph) -> list[list[FunctionKey]]:
    index: dict[FunctionKey, int] = {}
    for a, b in cg.edges:
        index.setdefault(a, len(index))
        index.setdefault(b, len(index))
    succ: list[list[int]] = [[] for _ in index]
    loops: set[int] = set()
    for a, b in cg.edges:
        ia, ib = index[a], index[b]
        if ia == ib:
            loops.add(ia)
        else:
            succ[ia].append(ib)
    keys = list(index)
    groups = [
        sorted((keys[i] for i in comp), key=_name_file)
        for comp in strongly_connected(succ)
        if len(comp) > 1 or comp[0] in loops
    ]
    # Heaviest first; ties by their functions, not by the order the edges were found in.
    groups.sort(
        key=lambda c: (
            -max((cg.functions[k].inclusive for k in c if k in cg.functions), default=0),
            [_name_file(k) for k in c],
        )
    )
    return groups


def _name_file(key: FunctionKey) -> tuple[str, str]:
    return (key.name, key.file)  # FunctionKey's order, without its Python-level __lt__


def strongly_connected(succ: list[list[int]]) -> list[list[int]]:
    """Tarjan's strongly connected components of the graph ``succ`` (node -> successors).

    Iterative, so deep call chains cannot overflow Python's stack. Hand-written rather than
    ``networkx.strongly_connected_components`` because networkx costs a noticeable share of
    an analysis: importing it takes 0.13 s, and on the benchmark's ~5,000-function graphs
    building its DiGraph and running its SCCs took 63-110 ms of CPU against 25-36 ms here.
    With networkx for SCCs and dominators a whole analysis took 1.16-1.71x the CPU, and
    1.20-1.81x on the first call of a process (``python -m benchmarks.analysis_time``).
    tests/analysis/test_callgraph.py checks it against networkx on random graphs.
    """
    n = len(succ)
    low = [0] * n
    order = [0] * n  # 0: not visited yet; else DFS discovery number (1-based)
    on_stack = [False] * n
    stack: list[int] = []
    comps: list[list[int]] = []
    counter = 0
    for start in range(n):
        if order[start]:
            continue
        counter += 1
        order[start] = low[start] = counter
        stack.append(start)
        on_stack[start] = True
        work = [(start, iter(succ[start]))]
        while work:
            v, it = work[-1]
            for w in it:
                if not order[w]:
                    counter += 1
                    order[w] = low[w] = counter
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, iter(succ[w])))
                    break
                if on_stack[w] and order[w] < low[v]:
                    low[v] = order[w]
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == order[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        comp.append(w)
                        if w == v:
                            break
                    comps.append(comp)
    return comps


def shares(values: Iterable[float], total: float) -> list[float]:
    return [v / total if total else 0.0 for v in values]

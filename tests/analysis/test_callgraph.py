from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotpath.analysis.callgraph import ROOT, build_callgraph, recursion_groups
from hotpath.model import EdgeStats, Frame, FunctionKey, FunctionStats, Metadata, Profile

NAMES = ["a", "b", "c", "d", "e"]


def _profile(stacks: list[tuple[list[str], float]]) -> Profile:
    p = Profile()
    for names, w in stacks:
        # Different lines of one function must aggregate into one function.
        p.add_frames([Frame(n, "m.py", 10 + i) for i, n in enumerate(names)], w)
    return p


def test_callgraph_self_and_inclusive() -> None:
    cg = build_callgraph(_profile([(["a", "b"], 3), (["a", "c"], 1), (["a"], 2)]))
    a, b = cg.functions[FunctionKey("a", "m.py")], cg.functions[FunctionKey("b", "m.py")]
    assert (a.self, a.inclusive) == (2, 6)
    assert (b.self, b.inclusive) == (3, 3)
    assert cg.edges[(FunctionKey("a", "m.py"), FunctionKey("b", "m.py"))] == 3
    assert cg.edges[(ROOT, FunctionKey("a", "m.py"))] == 6
    assert cg.total == 6


def test_callgraph_recursion_counts_once_per_stack() -> None:
    # fib -> fib -> fib ...: inclusive of fib must never exceed the total.
    stacks = [(["main"] + ["fib"] * depth, 1.0) for depth in range(1, 30)]
    cg = build_callgraph(_profile(stacks))
    fib = cg.functions[FunctionKey("fib", "m.py")]
    assert fib.inclusive == cg.total == 29
    assert fib.self == 29
    groups = recursion_groups(cg)
    assert groups == [[FunctionKey("fib", "m.py")]]


def test_callgraph_mutual_recursion_is_one_group() -> None:
    cg = build_callgraph(_profile([(["main", "even", "odd", "even", "odd"], 4), (["main"], 1)]))
    assert recursion_groups(cg) == [[FunctionKey("even", "m.py"), FunctionKey("odd", "m.py")]]
    assert cg.functions[FunctionKey("even", "m.py")].inclusive == 4


def test_callgraph_uses_exact_stats_for_pstats_profiles() -> None:
    p = Profile(Metadata(unit="seconds"))
    f, g = FunctionKey("f", "x.py"), FunctionKey("g", "x.py")
    p.function_stats[f] = FunctionStats(1.0, 3.0, 1, 1, 5)
    p.function_stats[g] = FunctionStats(2.0, 2.0, 10, 10, 9)
    p.call_edges[(f, g)] = EdgeStats(2.0, 2.0, 10)
    cg = build_callgraph(p)
    assert cg.total == 3.0
    assert cg.functions[g].calls == 10
    assert cg.edges[(ROOT, f)] == 3.0
    assert cg.edge_calls[(f, g)] == 10


stack_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from(NAMES), min_size=0, max_size=12),
        st.integers(min_value=1, max_value=100),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(stack_strategy)
def test_callgraph_invariants_on_generated_stacks(stacks: list[tuple[list[str], int]]) -> None:
    cg = build_callgraph(_profile([(s, float(w)) for s, w in stacks]))
    total = sum(w for _s, w in stacks)
    assert cg.total == total
    # Independent computation of self and inclusive by brute force.
    self_w: Counter[str] = Counter()
    incl_w: Counter[str] = Counter()
    for names, w in stacks:
        if names:
            self_w[names[-1]] += w
            for n in set(names):
                incl_w[n] += w
    for key, f in cg.functions.items():
        assert f.self == self_w[key.name]
        assert f.inclusive == incl_w[key.name]
        assert f.self <= f.inclusive <= total
    assert sum(f.self for f in cg.functions.values()) == sum(w for s, w in stacks if s)
    for (caller, callee), w in cg.edges.items():
        assert w <= cg.functions[callee].inclusive
        if caller != ROOT:
            assert w <= cg.functions[caller].inclusive


@pytest.mark.parametrize("by", ["self", "inclusive"])
def test_callgraph_ranked_is_descending(by: str) -> None:
    cg = build_callgraph(_profile([(["a", "b"], 3), (["a", "c"], 1), (["d"], 7)]))
    values = [getattr(f, by) for f in cg.ranked(by)]
    assert values == sorted(values, reverse=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=120),
)
def test_strongly_connected_matches_networkx(pairs: list[tuple[int, int]]) -> None:
    """Our iterative Tarjan (analyze does not import networkx: see its docstring) against
    networkx's SCCs."""
    import networkx as nx

    from hotpath.analysis.callgraph import strongly_connected

    succ: list[list[int]] = [[] for _ in range(31)]
    for a, b in pairs:
        succ[a].append(b)
    g = nx.DiGraph()
    g.add_nodes_from(range(31))
    g.add_edges_from(pairs)
    ours = sorted(sorted(c) for c in strongly_connected(succ))
    assert ours == sorted(sorted(c) for c in nx.strongly_connected_components(g))


def test_strongly_connected_survives_a_chain_deeper_than_the_recursion_limit() -> None:
    import sys

    from hotpath.analysis.callgraph import strongly_connected

    n = sys.getrecursionlimit() * 3
    succ = [[i + 1] for i in range(n - 1)] + [[0]]  # one cycle through n functions
    (comp,) = strongly_connected(succ)
    assert sorted(comp) == list(range(n))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8), max_size=12))
def test_recursion_groups_are_the_functions_that_reach_each_other(stacks: list[list[str]]) -> None:
    """By definition: a and b are in one group iff each reaches the other along call edges
    (a function calling itself is a group of one)."""
    cg = build_callgraph(_profile([(names, 1.0) for names in stacks]))
    succ: dict[FunctionKey, set[FunctionKey]] = {}
    for a, b in cg.edges:
        succ.setdefault(a, set()).add(b)

    def reach(start: FunctionKey) -> set[FunctionKey]:
        seen: set[FunctionKey] = set()
        todo = list(succ.get(start, ()))
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(succ.get(k, ()))
        return seen

    reaches = {k: reach(k) for k in cg.functions}
    expected = {
        frozenset(k2 for k2 in cg.functions if k2 in reaches[k] and k in reaches[k2])
        for k in cg.functions
        if k in reaches[k]
    }
    groups = recursion_groups(cg)
    assert {frozenset(g) for g in groups} == expected
    assert len(groups) == len(expected)
    # networkx on the same graph (CallGraph.digraph) agrees.
    import networkx as nx

    g = cg.digraph()
    theirs = {
        frozenset(c)
        for c in nx.strongly_connected_components(g)
        if len(c) > 1 or g.has_edge(next(iter(c)), next(iter(c)))
    }
    assert theirs == expected


def test_recursion_groups_on_labelled_threads_adds_stacks_once() -> None:
    """Stacks split by thread labels count like one stack in the graph (labels ignored)."""
    p = Profile(Metadata())
    a, b = Frame("a", "x.py", 1), Frame("b", "x.py", 2)
    p.add_frames([a, b, a], 2, {"thread": "t1"})
    p.add_frames([a, b, a], 3, {"thread": "t2"})
    cg = build_callgraph(p)
    assert cg.functions[a.function].inclusive == 5 and cg.functions[b.function].self == 0
    assert cg.edges[(a.function, b.function)] == 5 and cg.edges[(ROOT, a.function)] == 5
    assert recursion_groups(cg) == [[a.function, b.function]]


weighted_stacks = st.lists(
    st.tuples(
        st.lists(st.sampled_from(NAMES), min_size=0, max_size=12),
        st.one_of(
            st.integers(min_value=0, max_value=3).map(float),  # sample counts, zero included
            st.floats(min_value=1e-6, max_value=1e3),  # seconds: sums depend on their order
        ),
    ),
    min_size=0,
    max_size=60,
)


def _per_stack_loop(profile: Profile) -> tuple[float, dict, dict, dict, dict]:  # type: ignore[type-arg]
    """The call graph as one Python step per stack and frame, in sample order."""
    total = 0.0
    self_w: dict[FunctionKey, float] = {}
    incl: dict[FunctionKey, float] = {}
    edges: dict[tuple[FunctionKey, FunctionKey], float] = {}
    lines: dict[tuple[FunctionKey, int], float] = {}
    for (stack, _lid), w in profile.samples.items():
        total += w
        if not stack or not w:
            continue
        fns = [profile.frames[f].function for f in stack]
        self_w[fns[-1]] = self_w.get(fns[-1], 0.0) + w
        for fn in dict.fromkeys(fns):
            incl[fn] = incl.get(fn, 0.0) + w
        for pair in dict.fromkeys(zip([ROOT, *fns], fns, strict=False)):
            edges[pair] = edges.get(pair, 0.0) + w
        leaf = profile.frames[stack[-1]]
        if leaf.line is not None:
            lines[(fns[-1], leaf.line)] = lines.get((fns[-1], leaf.line), 0.0) + w
    return total, self_w, incl, edges, lines


@settings(max_examples=120, deadline=None)
@given(weighted_stacks, st.sampled_from([None, 1, 3, 17]))
def test_callgraph_is_the_per_stack_loop_to_the_last_bit(
    stacks: list[tuple[list[str], float]], chunk: int | None
) -> None:
    """numpy adds the weights chunk by chunk (np.add.at, sequential): every total must be
    the one the per-stack loop gives, bit for bit, for counts and for seconds."""
    from hotpath.analysis import stacktable

    profile = _profile(stacks)
    real = stacktable.CHUNK_SLOTS
    stacktable.CHUNK_SLOTS = chunk or real
    try:
        cg = build_callgraph(profile)
    finally:
        stacktable.CHUNK_SLOTS = real
    total, self_w, incl, edges, lines = _per_stack_loop(profile)
    assert cg.total == total
    assert {k: f.self for k, f in cg.functions.items()} == {k: self_w.get(k, 0.0) for k in incl}
    assert {k: f.inclusive for k, f in cg.functions.items()} == incl
    assert cg.edges == edges and list(cg.edges) == list(edges)  # in first-seen order too
    assert cg.line_self == lines and list(cg.line_self) == list(lines)


def test_callers_and_callees_are_the_edges_either_way_without_self_calls() -> None:
    cg = build_callgraph(
        _profile([(["a", "b", "b"], 3), (["a", "c"], 1), (["d", "c"], 2), (["a"], 2)])
    )
    a, b, c, d = (FunctionKey(n, "m.py") for n in "abcd")
    assert cg.callees(a) == {b: 3, c: 1}
    assert cg.callers(c) == {a: 1, d: 2}
    assert cg.callers(b) == {a: 3} and cg.callees(b) == {}  # b -> b is not its own caller
    assert cg.callers(a) == {ROOT: 6} and cg.callees(c) == {}
    for (x, y), w in cg.edges.items():
        if x != y:
            assert cg.callees(x)[y] == w == cg.callers(y)[x]

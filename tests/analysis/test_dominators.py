"""Dominator regions against regions worked out by hand."""

from __future__ import annotations

import networkx as nx
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hotpath.analysis.callgraph import ROOT, CallGraph, FunctionTotals, build_callgraph
from hotpath.analysis.dominators import dominator_tree, immediate_dominators, region_of
from hotpath.model import FunctionKey
from tests.analysis.conftest import profile_of


def _k(name: str) -> FunctionKey:
    return FunctionKey(name, "a.py")


def test_region_holds_only_code_reached_through_the_function() -> None:
    p = profile_of(
        [
            ([("main", "a.py", 1), ("f", "a.py", 1), ("g", "a.py", 1), ("h", "a.py", 1)], 5, None),
            ([("main", "a.py", 1), ("f", "a.py", 1), ("shared", "a.py", 1)], 3, None),
            ([("main", "a.py", 1), ("other", "a.py", 1), ("shared", "a.py", 1)], 2, None),
            ([("main", "a.py", 1), ("f", "a.py", 1), ("f", "a.py", 2)], 1, None),  # recursion
        ]
    )
    tree = dominator_tree(build_callgraph(p))
    assert region_of(tree, _k("f")) == {_k("f"), _k("g"), _k("h")}
    assert region_of(tree, _k("other")) == {_k("other")}
    assert _k("shared") in region_of(tree, _k("main"))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4 * n),
        )
    )
)
def test_immediate_dominators_match_networkx(graph: tuple[int, list[tuple[int, int]]]) -> None:
    # networkx is the reference implementation of the same algorithm.
    n, edges = graph
    succ: list[list[int]] = [[] for _ in range(n)]
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b in edges:
        if b not in succ[a]:
            succ[a].append(b)
        g.add_edge(a, b)
    ours = immediate_dominators(succ, 0)
    theirs = nx.immediate_dominators(g, 0)
    theirs.pop(0, None)  # networkx 3.5 leaves the start node out, earlier ones map it to itself
    assert {i: d for i, d in enumerate(ours) if d >= 0 and i != 0} == theirs


def test_immediate_dominators_survive_a_chain_deeper_than_the_recursion_limit() -> None:
    n = 50_000
    succ = [[i + 1] for i in range(n - 1)] + [[0]]
    idom = immediate_dominators(succ, 0)
    assert idom[0] == 0
    assert idom[n - 1] == n - 2


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=7), min_size=1, max_size=20)
)
def test_regions_match_the_definition_of_dominance(stacks: list[list[str]]) -> None:
    """By definition: F's region is every function that cannot be reached from the root
    once F is taken out (each stack weighs 1 and there are few: no edge is noise). Stacks whose
    outermost function other stacks show called by another function read as torn samples
    (dominators.TORN_ROOT_SHARE) and are left to the torn-stack tests; recursion is kept."""
    assume(not any(s[0] in t[1:] for s in stacks for t in stacks if t[0] != s[0]))
    p = profile_of([([(n, "a.py", 1) for n in names], 1, None) for names in stacks])
    cg = build_callgraph(p)
    tree = dominator_tree(cg)

    def reachable_without(gone: FunctionKey) -> set[FunctionKey]:
        seen = {ROOT}
        todo = [ROOT]
        while todo:
            node = todo.pop()
            for a, b in cg.edges:
                if a == node and b != gone and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    for f in cg.functions:
        expected = {f} | (set(cg.functions) - reachable_without(f))
        assert region_of(tree, f) == expected, f


def test_unreachable_parts_hang_off_their_heaviest_function() -> None:
    """cProfile's outermost ``exec`` calls itself: nothing hangs off the root. The heaviest
    function of such a part becomes its entry."""
    ex, main, f = _k("exec"), _k("main"), _k("f")
    functions = {
        ex: FunctionTotals(ex, 0.0, 10.0),
        main: FunctionTotals(main, 0.0, 9.0),
        f: FunctionTotals(f, 9.0, 9.0),
    }
    edges = {(ex, ex): 1.0, (ex, main): 9.0, (main, f): 9.0}
    tree = dominator_tree(CallGraph("seconds", 10.0, functions, edges, {}, {(ex, main): 1}))
    assert tree[ROOT] == [ex]
    assert region_of(tree, ex) == {ex, main, f}
    assert region_of(tree, main) == {main, f}


def test_a_torn_stack_does_not_take_the_kernel_out_of_its_region() -> None:
    """py-spy --nonblocking can read a torn stack: one sample of the kernel's inner loop
    under a JSON helper. Under 1% of the loop's weight, it does not cost the kernel its
    region; a second caller with a real share (here 30%) does."""
    kernel = [("view", "a.py", 1), ("kernel", "a.py", 2), ("loop", "a.py", 3), ("dist", "a.py", 4)]
    torn = [("view", "a.py", 1), ("json", "a.py", 5), ("loop", "a.py", 3), ("dist", "a.py", 4)]
    p = profile_of([(kernel, 1000, None), (torn, 1, None)])
    tree = dominator_tree(build_callgraph(p))
    assert region_of(tree, _k("kernel")) == {_k("kernel"), _k("loop"), _k("dist")}
    p = profile_of([(kernel, 700, None), (torn, 300, None)])
    tree = dominator_tree(build_callgraph(p))
    assert region_of(tree, _k("kernel")) == {_k("kernel")}

"""Dominator regions of the call graph: the code reached only through one function.

The region of F is every function that F dominates from :data:`callgraph.ROOT`: each path
from the program's entry to them passes through F, so F is the single door a rewrite would
lift out. Uses :func:`networkx.immediate_dominators` (Cooper-Harvey-Kennedy, near linear);
never cycle enumeration, which can run for minutes on a large recursive component.
"""

from __future__ import annotations

from hotpath.analysis.callgraph import ROOT, CallGraph
from hotpath.model import FunctionKey


def dominator_tree(cg: CallGraph) -> dict[FunctionKey, list[FunctionKey]]:
    """Children of each node in the dominator tree rooted at :data:`ROOT`."""
    import networkx as nx

    g = cg.digraph()
    idom: dict[FunctionKey, FunctionKey] = nx.immediate_dominators(g, ROOT)
    children: dict[FunctionKey, list[FunctionKey]] = {}
    for node, dom in idom.items():
        if node != dom:
            children.setdefault(dom, []).append(node)
    for kids in children.values():
        kids.sort()
    return children


def region_of(children: dict[FunctionKey, list[FunctionKey]], key: FunctionKey) -> set[FunctionKey]:
    """``key`` and every function it dominates."""
    region = {key}
    todo = [key]
    while todo:
        for kid in children.get(todo.pop(), ()):
            if kid not in region:
                region.add(kid)
                todo.append(kid)
    return region

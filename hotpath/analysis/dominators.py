"""Dominator regions of the call graph: the code reached only through one function.

The region of F is every function that F dominates from :data:`callgraph.ROOT`: each path
from the program's entry to them passes through F, so F is the single door a rewrite would
lift out. Uses :func:`networkx.immediate_dominators` (Cooper-Harvey-Kennedy, near linear);
never cycle enumeration, which can run for minutes on a large recursive component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotpath.analysis.callgraph import ROOT, CallGraph
from hotpath.model import FunctionKey

if TYPE_CHECKING:
    import networkx as nx


def dominator_tree(cg: CallGraph) -> dict[FunctionKey, list[FunctionKey]]:
    """Children of each node in the dominator tree rooted at :data:`ROOT`."""
    import networkx as nx

    g = cg.digraph()
    _connect_unreachable(g)
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


def _connect_unreachable(g: nx.DiGraph) -> None:
    """Give unreachable parts an entry from ROOT (cProfile's outermost ``exec`` calls itself,
    so no function is "never called" and nothing hangs off ROOT): the heaviest node of each
    unreachable part becomes an entry point."""
    import networkx as nx

    reached = nx.descendants(g, ROOT) | {ROOT}
    while len(reached) < g.number_of_nodes():
        rest = [n for n in g.nodes if n not in reached]
        entry = max(rest, key=lambda n: (g.nodes[n].get("inclusive", 0.0), str(n)))
        g.add_edge(ROOT, entry, weight=g.nodes[entry].get("inclusive", 0.0))
        reached |= nx.descendants(g, entry) | {entry}

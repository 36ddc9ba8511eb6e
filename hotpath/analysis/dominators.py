"""Dominator regions of the call graph: the code reached only through one function.

The region of F is every function that F dominates from :data:`callgraph.ROOT`: each path
from the program's entry to them passes through F, so F is the single door a rewrite would
lift out. Uses the Cooper-Harvey-Kennedy algorithm (near linear, as
:func:`networkx.immediate_dominators`); never cycle enumeration, which can run for minutes
on a large recursive component.
"""

from __future__ import annotations

from collections.abc import Sequence

from hotpath.analysis.callgraph import ROOT, CallGraph, recursion_groups
from hotpath.model import FunctionKey

NOISE_SHARE = 0.01
"""A call edge carrying less than this share of its callee's incoming weight does not count
against dominance. One torn stack is enough to make a kernel's inner loop "reachable" from
elsewhere: py-spy ``--nonblocking`` read ``_json -> rank_candidates.<locals>.<listcomp>`` in
3.5 ms of the live demo's 4.8 s there, and the kernel lost its region ("too entangled: 99%").
Such a callee is reached through F for 99% of its weight: F is the door a rewrite lifts out.
Sampled profiles only: exact call statistics (cProfile) count every call, torn or not."""
TORN_ROOT_SHARE = 0.5
"""A stack whose outermost frame is a function that other functions call for at least this
share of its incoming weight is a torn read (py-spy ``--nonblocking`` caught the thread
mid-update): its edge from the root does not count against dominance. On the second
monolith 14% of PyYAML's ``Parser.parse_node`` weight came in such stacks, and the YAML
loader lost its region to the root ("too entangled: 75%"). Thread and module entries are
called from the root only and keep their edge."""


def dominator_tree(cg: CallGraph) -> dict[FunctionKey, list[FunctionKey]]:
    """Children of each node in the dominator tree rooted at :data:`ROOT`."""
    # Nodes are ints: hashing a FunctionKey (a dataclass) a million times cost a third of
    # the advisor's time on a 100 MB profile.
    keys: list[FunctionKey] = [ROOT, *(k for k in cg.functions if k != ROOT)]
    ids = {k: i for i, k in enumerate(keys)}
    weight = [cg.total] + [cg.functions[k].inclusive for k in keys[1:]]
    succ: list[list[int]] = [[] for _ in keys]
    sampled = not cg.edge_calls  # exact call statistics (cProfile) have no torn stacks
    incoming: dict[FunctionKey, float] = {}
    for (_a, b), w in cg.edges.items():
        incoming[b] = incoming.get(b, 0.0) + w
    # Calls from b's own recursion group come from stacks b started itself: they are no other
    # caller, and a recursive entry point's stacks are not torn (see TORN_ROOT_SHARE).
    group = {k: i for i, g in enumerate(recursion_groups(cg)) if sampled for k in g}
    from_others = dict(incoming)
    for (a, b), w in cg.edges.items():
        if a in group and group.get(b) == group[a]:
            from_others[b] -= w
    for (a, b), w in cg.edges.items():
        for k in (a, b):
            if k not in ids:  # an edge of a function the profile has no totals for
                ids[k] = len(keys)
                keys.append(k)
                weight.append(0.0)
                succ.append([])
        if sampled and w < NOISE_SHARE * incoming[b]:
            continue
        if sampled and a == ROOT and from_others[b] - w >= TORN_ROOT_SHARE * from_others[b]:
            continue
        succ[ids[a]].append(ids[b])
    _connect_unreachable(succ, weight, keys)
    idom = immediate_dominators(succ, 0)
    children: dict[FunctionKey, list[FunctionKey]] = {}
    for node, dom in enumerate(idom):
        if dom >= 0 and node != dom:
            children.setdefault(keys[dom], []).append(keys[node])
    for kids in children.values():
        kids.sort()
    return children


def immediate_dominators(succ: Sequence[Sequence[int]], root: int) -> list[int]:
    """Immediate dominator of every node of a graph given as successor lists (-1 where not
    reachable from ``root``; the root's is itself).

    Cooper, Harvey and Kennedy, "A Simple, Fast Dominance Algorithm" (2001), the algorithm
    :func:`networkx.immediate_dominators` implements too. Hand-written because networkx costs
    a noticeable share of an analysis: importing it takes 0.13 s (22 MiB), and on the
    benchmark's ~5,000-function graphs its DiGraph plus ``immediate_dominators`` took
    99-153 ms of CPU against 44-68 ms for all of :func:`dominator_tree` here
    (``python -m benchmarks.analysis_time``). The tests compare the two on random graphs
    and check regions against the definition of dominance.
    """
    n = len(succ)
    # Postorder numbers by an iterative depth-first search (call graphs run deep).
    order = [-1] * n
    post: list[int] = []
    visited = [False] * n
    visited[root] = True
    stack: list[tuple[int, int]] = [(root, 0)]
    while stack:
        node, i = stack[-1]
        kids = succ[node]
        if i < len(kids):
            stack[-1] = (node, i + 1)
            kid = kids[i]
            if not visited[kid]:
                visited[kid] = True
                stack.append((kid, 0))
        else:
            stack.pop()
            order[node] = len(post)
            post.append(node)
    preds: list[list[int]] = [[] for _ in range(n)]
    for a in post:
        for b in succ[a]:
            preds[b].append(a)
    idom = [-1] * n
    idom[root] = root
    rpo = post[::-1][1:]
    changed = True
    while changed:
        changed = False
        for node in rpo:
            new = -1
            for p in preds[node]:
                if idom[p] < 0:
                    continue
                if new < 0:
                    new = p
                    continue
                a, b = p, new  # intersect: walk up until the two fingers meet
                while a != b:
                    while order[a] < order[b]:
                        a = idom[a]
                    while order[b] < order[a]:
                        b = idom[b]
                new = a
            if idom[node] != new:
                idom[node] = new
                changed = True
    return idom


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


def _connect_unreachable(
    succ: list[list[int]], weight: list[float], keys: list[FunctionKey]
) -> None:
    """Give unreachable parts an entry from the root, node 0 (cProfile's outermost ``exec``
    calls itself, so no function is "never called" and nothing hangs off ROOT): the heaviest
    node of each unreachable part becomes an entry point."""
    reached = _reach(succ, 0, set())
    while len(reached) < len(succ):
        rest = [i for i in range(len(succ)) if i not in reached]
        entry = max(rest, key=lambda i: (weight[i], str(keys[i])))
        succ[0].append(entry)
        _reach(succ, entry, reached)


def _reach(succ: list[list[int]], start: int, reached: set[int]) -> set[int]:
    """Add to ``reached`` every node reachable from ``start`` (itself included)."""
    reached.add(start)
    todo = [start]
    while todo:
        for kid in succ[todo.pop()]:
            if kid not in reached:
                reached.add(kid)
                todo.append(kid)
    return reached

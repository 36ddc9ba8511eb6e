"""Choosing among overlapping candidates: dispatchers, wrappers, nested regions.

A region's time can split over many unrelated paths (a router: extract the paths, not the
router); a view can wrap the real work (recommend the work); a helper can be nested in a
recommended caller (say it once, unless it suggests a different shape).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import replace

from hotpath.analysis.evidence import Measured
from hotpath.analysis.results import Candidate
from hotpath.model import FunctionKey


def find_branches(
    m: Measured,
    inclusive: dict[FunctionKey, float],
    children: dict[FunctionKey, list[FunctionKey]],
) -> list[str]:
    """Where a region's time splits (a dispatcher: a router, a main loop). Walks down the
    heaviest dominator-tree child while it holds >= 50% of the entry's weight; a node with
    three or more children of >= 5% each, none holding 60% and together half the time, is
    a split: those children are returned."""
    if m.key is None or m.weight <= 0:
        return []
    return _paths_of(inclusive, children).find(m.key, m.weight)


_LAST: list[tuple[object, object, HeavyPaths]] = []


def _paths_of(
    inclusive: dict[FunctionKey, float], children: dict[FunctionKey, list[FunctionKey]]
) -> HeavyPaths:
    """The advisor asks once per candidate about the same tree: build its paths once."""
    if _LAST and _LAST[0][0] is inclusive and _LAST[0][1] is children:
        return _LAST[0][2]
    paths = HeavyPaths(inclusive, children)
    _LAST[:] = [(inclusive, children, paths)]
    return paths


class HeavyPaths:
    """The dominator tree cut into heavy paths (each node followed by its heaviest child),
    each stored contiguously, with a range-minimum table of the heaviest child's weight.

    The walk of :func:`find_branches` follows one heavy path and can only stop where the
    heaviest child drops below half the entry's weight (found by binary lifting on the
    table) or split at a node with three or more children (the next one is precomputed):
    O(log n) per such node instead of a step per level, which was quadratic in a deep stack
    of distinct functions (5,000 frames: 28 s).
    """

    def __init__(
        self, inclusive: dict[FunctionKey, float], children: dict[FunctionKey, list[FunctionKey]]
    ) -> None:
        self.inclusive = inclusive
        self.children = children
        self.nodes: list[FunctionKey] = []
        self.pos: dict[FunctionKey, int] = {}
        heavy: list[float] = []  # per position: weight of the node's heaviest child
        self.path_end: list[int] = []
        roots = set(children) - {k for kids in children.values() for k in kids}
        todo = sorted(roots, key=str)
        while todo:  # each popped node starts a heavy path
            node: FunctionKey | None = todo.pop()
            begin = len(self.nodes)
            while node is not None and node not in self.pos:
                self.pos[node] = len(self.nodes)
                self.nodes.append(node)
                kids = children.get(node, ())
                ranked = sorted(((inclusive.get(k, 0.0), k) for k in kids), reverse=True)
                heavy.append(ranked[0][0] if ranked else 0.0)
                todo.extend(k for _w, k in ranked[1:])
                node = ranked[0][1] if ranked else None
            self.path_end.extend([len(self.nodes) - 1] * (len(self.nodes) - begin))
        n = len(self.nodes)
        self.next_multi = [n] * (n + 1)  # next position holding a node of >= 3 children
        for i in range(n - 1, -1, -1):
            many = len(children.get(self.nodes[i], ())) >= 3
            self.next_multi[i] = i if many else self.next_multi[i + 1]
        self.table = [heavy]  # table[k][i] = min(heavy[i : i + 2**k])
        span = 1
        while 2 * span <= n:
            prev = self.table[-1]
            self.table.append([min(prev[i], prev[i + span]) for i in range(n - 2 * span + 1)])
            span *= 2

    def _first_below(self, start: int, end: int, limit: float) -> int:
        """The first position in [start, end] whose heaviest child weighs < limit."""
        q = start
        for k in range(len(self.table) - 1, -1, -1):
            row = self.table[k]
            if q + (1 << k) - 1 <= end and row[q] >= limit:
                q += 1 << k
        return q

    def find(self, key: FunctionKey, weight: float) -> list[str]:
        q = self.pos.get(key)
        if q is None:
            return []
        end = self.path_end[q]
        while q <= end:
            stop = self._first_below(q, end, 0.5 * weight)
            multi = self.next_multi[q]
            if multi > stop:
                return []
            kids = self.children.get(self.nodes[multi], ())
            ranked = sorted(((self.inclusive.get(k, 0.0), k) for k in kids), reverse=True)
            heavy = [(w, k) for w, k in ranked if w >= 0.05 * weight]
            if (
                len(heavy) >= 3
                and heavy[0][0] < 0.6 * weight
                and sum(w for w, _k in heavy) >= 0.5 * weight
            ):
                return [k.name for _w, k in heavy]
            if multi == stop:
                return []
            q = multi + 1  # on to its heaviest child: the next node of this path
        return []


def endpoint_shapes(cands: list[Candidate], measured: list[Measured]) -> list[Candidate]:
    """An endpoint whose saving sits mostly in one fine-grained function (a helper called
    thousands of times per request) is an extension of that function, not a service,
    unless a coarse function in its region (one call per request) carries that saving."""
    funcs = [
        (m.key, c)
        for m, c in zip(measured, cands, strict=True)
        if m.kind == "function" and c.recommendation != "leave"
    ]
    out = []
    for m, c in zip(measured, cands, strict=True):
        if m.kind == "endpoint" and c.recommendation == "microservice":
            carrying = [
                f
                for k, f in funcs
                if k in m.region and f.saving_share[1] >= 0.5 * c.saving_share[1]
            ]
            coarse = [f for f in carrying if f.granularity == "coarse"]
            fine = [f for f in carrying if f.granularity == "fine"]
            best = max(fine, key=lambda f: f.saving_share[1], default=None)
            if best is not None and not coarse:
                reasons = [r for r in c.reasons if not r.startswith("coarse-grained")]
                reasons.insert(
                    0,
                    f"too fine-grained for a network hop: its saving sits in {best.target}, "
                    "called many times per request; extract that function as an in-process "
                    "extension (PyO3)",
                )
                c = replace(c, recommendation="extension", granularity="fine", reasons=reasons)
        out.append(c)
    return out


def drop_nested(cands: list[Candidate], measured: list[Measured]) -> list[Candidate]:
    """Keep one recommendation per region.

    A recommended wrapper (a view around the real work) is replaced by the innermost
    recommended function inside its region that keeps >= 85% of its score without becoming
    finer-grained (a finer boundary means more crossings); then a recommended function
    nested in, or wrapping, a better one already kept says the same thing twice.
    """
    regions = {m.target: (m.key, m.region) for m in measured if m.kind == "function"}
    recommended = [c for c in cands if c.kind == "function" and c.recommendation != "leave"]
    # Membership by identity: a Candidate's generated __eq__ compares every field, and
    # comparing hundreds of candidates pairwise took 0.1 s on a 100 MB profile.
    recommended_ids = {id(c) for c in recommended}
    order: list[Candidate] = []
    in_order: set[int] = set()
    for c in cands:
        if id(c) in recommended_ids:
            _key, region = regions[c.target]
            inner = [
                d
                for d in recommended
                if d is not c
                and regions[d.target][0] in region
                and d.score >= 0.85 * c.score
                and (d.granularity != "fine" or c.granularity == "fine")
            ]
            if inner:
                c = min(inner, key=lambda d: (len(regions[d.target][1]), d.target))
        if id(c) not in in_order:
            in_order.add(id(c))
            order.append(c)
    accepted: list[tuple[FunctionKey | None, AbstractSet[FunctionKey], str]] = []
    out = []
    for c in order:
        if c.kind == "function" and c.recommendation != "leave":
            key, region = regions[c.target]
            if any(
                rec == c.recommendation and (key in r or (k is not None and k in region))
                for k, r, rec in accepted
            ):
                continue
            accepted.append((key, region, c.recommendation))
        out.append(c)
    return out

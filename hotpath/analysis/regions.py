"""Choosing among overlapping candidates: dispatchers, wrappers, nested regions.

A region's time can split over many unrelated paths (a router: extract the paths, not the
router); a view can wrap the real work (recommend the work); a helper can be nested in a
recommended caller (say it once, unless it suggests a different shape).
"""

from __future__ import annotations

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
    node = m.key
    for _ in range(len(m.region)):
        kids = sorted(((inclusive.get(k, 0.0), k) for k in children.get(node, ())), reverse=True)
        heavy = [(w, k) for w, k in kids if w >= 0.05 * m.weight]
        if (
            len(heavy) >= 3
            and heavy[0][0] < 0.6 * m.weight
            and sum(w for w, _k in heavy) >= 0.5 * m.weight
        ):
            return [k.name for _w, k in heavy]
        if not heavy or heavy[0][0] < 0.5 * m.weight:
            return []
        node = heavy[0][1]
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
    accepted: list[tuple[FunctionKey | None, frozenset[FunctionKey], str]] = []
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

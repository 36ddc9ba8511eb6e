"""The helper rule's sums as one Python step per stack: the reference that
``_StackEndpoints.names_below_table`` (numpy) is checked against."""

from __future__ import annotations

from collections.abc import Iterable

from hotpath.analysis.recognize import _StackEndpoints


def reference_names_below(
    finder: _StackEndpoints,
    found: Iterable[tuple[tuple[int, ...], str | None]],
    weights: Iterable[float],
    routed_apps: set[str],
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(weight of each endpoint name as an endpoint, and for each endpoint name E the
    weight of each other endpoint's stacks that show E below their endpoint frame) over
    distinct stacks with their weights. Only endpoint names are counted below: no other
    name is ever looked up."""
    d = finder.described
    pairs = [
        (st, n, w)
        for (st, n), w in zip(found, weights, strict=True)
        if n is not None and n not in routed_apps
    ]
    names = {name for _st, name, _w in pairs}
    ids_of: dict[str, set[int]] = {}
    for i, fr in enumerate(d):
        if fr.name in names:
            ids_of.setdefault(fr.name, set()).add(i)
    endpoint_ids = set().union(*ids_of.values()) if ids_of else set()
    own: dict[str, float] = {}
    under: dict[str, dict[str, float]] = {}
    for stack, name, w in pairs:
        own[name] = own.get(name, 0.0) + w
        pos = min(stack.index(f) for f in ids_of[name].intersection(stack))
        rest = stack[pos + 1 :]
        if endpoint_ids.isdisjoint(rest):
            continue
        below_names = dict.fromkeys(d[f].name for f in filter(endpoint_ids.__contains__, rest))
        for below in below_names:
            if below != name:
                per = under.setdefault(below, {})
                per[name] = per.get(name, 0.0) + w
    return own, under

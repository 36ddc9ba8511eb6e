"""The endpoint table: per endpoint its CPU share, wall share, traffic, latency, top functions.

Endpoints come from the ``endpoint`` label of samples (the middleware's label, or one set by
the stack recognisers in :mod:`hotpath.analysis.recognize`) and from
:attr:`Profile.requests` (the middleware's request statistics).
Shares are fractions of the whole profile's CPU weight (:func:`~hotpath.model.cpu_view`) and
wall weight (:func:`~hotpath.model.wall_view`), so work outside any request (background
threads) keeps the endpoints' shares honest. Requests, CPU per request and latency
percentiles are known only where the middleware counted requests.
"""

from __future__ import annotations

from hotpath.analysis.results import EndpointRow
from hotpath.model import ENDPOINT, LATENCY_BUCKETS_MS, Profile, RequestStats, cpu_view, wall_view


def weight_by_endpoint(view: Profile) -> dict[str, float]:
    """The summed sample weight of each endpoint in ``view`` (pass ``cpu_view(profile)``
    for CPU per endpoint, ``wall_view`` for wall time); samples without one are left out."""
    endpoint_of = [dict(ls).get(ENDPOINT) for ls in view.label_sets]
    out: dict[str, float] = {}
    samples = view.samples
    for lid, w in zip(samples.lids, samples.weights, strict=True):
        ep = endpoint_of[lid]
        if ep is not None:
            out[ep] = out.get(ep, 0.0) + w
    return out


def _top_functions(profile: Profile, n: int) -> dict[str, list[str]]:
    """Per endpoint, the functions with the most self weight (the leaf of each stack)."""
    endpoint_of = [dict(ls).get(ENDPOINT) for ls in profile.label_sets]
    self_w: dict[str, dict[str, float]] = {}
    frames = profile.frames
    samples = profile.samples
    leaf_of = samples.store.leaf
    for row, lid, w in zip(samples.rows, samples.lids, samples.weights, strict=True):
        ep = endpoint_of[lid]
        if ep is None:
            continue
        leaf = leaf_of(row)
        if leaf < 0:
            continue
        name = frames[leaf].name
        per = self_w.setdefault(ep, {})
        per[name] = per.get(name, 0.0) + w
    return {
        ep: [name for name, _w in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
        for ep, per in self_w.items()
    }


def percentile_ms(stats: RequestStats, q: float) -> float | None:
    """The ``q`` quantile (0..1) of the latency histogram: the geometric middle of its bucket.

    Buckets are 10% wide, so the answer is within about 5% of the exact percentile.
    """
    if stats.count <= 0 or not stats.latency_ms:
        return None
    rank = q * sum(stats.latency_ms.values())
    seen = 0
    for b in sorted(stats.latency_ms):
        seen += stats.latency_ms[b]
        if seen >= rank:
            upper = LATENCY_BUCKETS_MS[b]
            lower = LATENCY_BUCKETS_MS[b - 1] if b > 0 else 0.0
            return float((lower * upper) ** 0.5) if lower > 0 else upper
    return LATENCY_BUCKETS_MS[max(stats.latency_ms)]


def endpoint_rows(profile: Profile, top_functions: int = 5) -> list[EndpointRow] | None:
    """One row per endpoint, highest CPU share first; None when nothing names endpoints."""
    cpu, wall = cpu_view(profile), wall_view(profile)
    cpu_by = weight_by_endpoint(cpu)
    cpu_total = sum(cpu.samples.values())
    if wall is cpu:  # one measure recorded: both views are the profile itself
        wall_by, wall_total = cpu_by, cpu_total
    else:
        wall_by, wall_total = weight_by_endpoint(wall), sum(wall.samples.values())
    names = set(cpu_by) | set(wall_by) | set(profile.requests)
    if not names:
        return None
    tops = _top_functions(cpu, top_functions)
    rows = []
    for name in names:
        req = profile.requests.get(name)
        samples = cpu_by.get(name, 0.0)
        rows.append(
            EndpointRow(
                name=name,
                samples=samples,
                share=samples / cpu_total if cpu_total > 0 else 0.0,
                wall_share=wall_by.get(name, 0.0) / wall_total if wall_total > 0 else None,
                requests=req.count if req is not None else None,
                cpu_per_request_s=req.cpu_s / req.count if req is not None and req.count else None,
                p50_ms=percentile_ms(req, 0.50) if req is not None else None,
                p99_ms=percentile_ms(req, 0.99) if req is not None else None,
                top_functions=tops.get(name, []),
            )
        )
    rows.sort(key=lambda r: (-r.share, -(r.requests or 0), r.name))
    return rows


NO_ENDPOINTS = (
    "No endpoint recognised on these stacks: add the hotpath middleware to name each "
    "request's route (docs/middleware.md), or, for a server whose workers are child "
    "processes (gunicorn, uvicorn --workers, Sanic, Celery), record with --subprocesses."
)


def no_endpoints_note(profile: Profile) -> str | None:
    """The one-line note for a profile with stacks but no endpoint at all, else None."""
    samples = profile.samples
    if any(map((1).__lt__, map(samples.store.length, samples.rows))):
        return NO_ENDPOINTS
    return None

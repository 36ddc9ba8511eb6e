"""Endpoint rows against hand-computed truth: shares, traffic, percentiles, ordering."""

from __future__ import annotations

import random

import pytest

from hotpath.analysis.endpoints import endpoint_rows, percentile_ms
from hotpath.analysis.pipeline import analyze
from hotpath.collect.request_store import latency_bucket
from hotpath.model import Frame, Profile, RequestStats
from hotpath.report.json import to_dict

VIEW_A, VIEW_B, WAIT = Frame("view_a", "app.py"), Frame("view_b", "app.py"), Frame("sleep")
KERNEL = Frame("kernel", "app.py")


def _profile() -> Profile:
    p = Profile()
    p.meta.unit = "seconds"
    a, b = {"endpoint": "GET /a"}, {"endpoint": "GET /b"}
    p.add_frames([VIEW_A, KERNEL], 3.0, {**a, "measure": "cpu"})
    p.add_frames([VIEW_A], 1.0, {**a, "measure": "cpu"})
    p.add_frames([VIEW_B], 2.0, {**b, "measure": "cpu"})
    p.add_frames([Frame("bg")], 2.0, {"measure": "cpu"})  # no endpoint: background work
    p.add_frames([VIEW_A, KERNEL], 3.0, {**a, "measure": "wall", "state": "active"})
    p.add_frames([VIEW_A], 1.0, {**a, "measure": "wall", "state": "active"})
    p.add_frames([VIEW_B], 2.0, {**b, "measure": "wall", "state": "active"})
    p.add_frames([VIEW_B, WAIT], 10.0, {**b, "measure": "wall", "state": "idle"})
    p.add_frames([Frame("bg")], 4.0, {"measure": "wall"})
    p.requests["GET /a"] = RequestStats(count=8, wall_s=4.0, cpu_s=4.0)
    return p


def test_endpoint_rows_shares_from_cpu_and_wall_views() -> None:
    rows = endpoint_rows(_profile())
    assert rows is not None
    assert [r.name for r in rows] == ["GET /a", "GET /b"]
    a, b = rows
    assert a.samples == 4.0 and a.share == pytest.approx(4 / 8)
    assert b.share == pytest.approx(2 / 8)
    assert a.wall_share == pytest.approx(4 / 20) and b.wall_share == pytest.approx(12 / 20)
    assert a.requests == 8 and a.cpu_per_request_s == pytest.approx(0.5)
    assert b.requests is None and b.cpu_per_request_s is None and b.p50_ms is None
    assert a.top_functions == ["kernel", "view_a"]
    assert b.top_functions == ["view_b"]  # idle stacks are not CPU


def test_endpoint_rows_none_without_endpoints() -> None:
    p = Profile()
    p.add_frames([Frame("f")], 1.0)
    assert endpoint_rows(p) is None


def test_percentile_ms_within_histogram_resolution_of_exact() -> None:
    rng = random.Random(7)
    latencies = sorted(rng.lognormvariate(1.5, 0.8) for _ in range(5000))  # milliseconds
    stats = RequestStats(count=len(latencies))
    for ms in latencies:
        b = latency_bucket(ms / 1000)
        stats.latency_ms[b] = stats.latency_ms.get(b, 0) + 1
    for q in (0.5, 0.99):
        exact = latencies[int(q * len(latencies)) - 1]
        assert percentile_ms(stats, q) == pytest.approx(exact, rel=0.06)


def test_analyze_json_endpoints_key_matches_contract() -> None:
    doc = to_dict(analyze(_profile()))
    assert doc["endpoints"][0] == {
        "name": "GET /a",
        "samples": 4,
        "share": 0.5,
        "requests": 8,
        "cpu_per_request_s": 0.5,
        "p50_ms": None,
        "p99_ms": None,
        "top_functions": ["kernel", "view_a"],
    }
    assert [e["name"] for e in doc["endpoints"]] == ["GET /a", "GET /b"]

from __future__ import annotations

from array import array

import pytest

from hotpath.collect.chrometrace import Span
from hotpath.collect.clocks import ClockRecord, ThreadClock
from hotpath.collect.weigh import WeighOptions, weigh_spans
from hotpath.model import CPU, IDLE, MEASURE, STATE, WALL, Frame, Metadata


def _clock(pid: int, tid: int, points: list[tuple[float, float]]) -> ThreadClock:
    c = ThreadClock(pid, tid)
    c.times = array("d", [t for t, _ in points])
    c.cpu = array("d", [v for _, v in points])
    c.runq = array("d", [0.0] * len(points))
    return c


def _by(profile, measure: str, state: str | None = None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    for frames, labels, w in profile.iter_samples():
        d = dict(labels)
        if d[MEASURE] == measure and (state is None or d.get(STATE) == state):
            out[frames[-1].name] = out.get(frames[-1].name, 0.0) + w
    return out


def test_weigh_cpu_follows_the_thread_clock_and_idle_is_the_rest() -> None:
    """A thread busy for 1 s in `spin`, then idle 1 s in `wait`: truth by construction."""
    spin, wait = (Frame("spin", "/a.py", 1),), (Frame("wait", "/a.py", 2),)
    spans = [Span(1, 10, "w", None, spin, 0.0, 1.0), Span(1, 10, "w", None, wait, 1.0, 2.0)]
    # Another thread changing stack on every 10 ms tick (py-spy's ticks are span starts).
    spans += [
        Span(1, 11, "t", None, (Frame(f"t{i % 2}", "/b.py", 1),), i / 100, (i + 1) / 100)
        for i in range(200)
    ]
    clock = _clock(1, 10, [(100.0, 0.0), (100.5, 0.5), (101.0, 1.0), (102.0, 1.0)])
    idle = _clock(1, 11, [(100.0, 0.0), (102.0, 0.0)])
    record = ClockRecord({(1, 10): clock, (1, 11): idle}, 4, 100.0, 102.0)
    p = weigh_spans(spans, record, WeighOptions(origin=100.0), Metadata())
    assert p.meta.unit == "seconds"
    # Edges move to the midpoint between ticks: 5 ms of spin's CPU lands on wait.
    assert _by(p, CPU) == pytest.approx({"spin": 0.995, "wait": 0.005})
    assert _by(p, WALL, IDLE)["wait"] == pytest.approx(1.0, abs=0.006)
    assert sum(_by(p, WALL).values()) == pytest.approx(4.0, abs=0.011)


def test_weigh_total_cpu_is_conserved_across_many_spans() -> None:
    frames = [(Frame(f"f{i % 3}", "/a.py", i),) for i in range(50)]
    spans = [Span(1, 5, None, None, frames[i], i * 0.01, (i + 1) * 0.01) for i in range(50)]
    clock = _clock(1, 5, [(i / 200, (i / 200) ** 1.5) for i in range(121)])
    record = ClockRecord({(1, 5): clock}, 80, 0.0, 0.6)
    p = weigh_spans(spans, record, WeighOptions(origin=0.0), Metadata())
    assert sum(_by(p, CPU).values()) == pytest.approx(0.5**1.5, rel=1e-6)


def test_weigh_drops_idle_when_asked() -> None:
    spans = [Span(1, 10, None, None, (Frame("wait", "/a.py", 2),), 0.0, 1.0)]
    record = ClockRecord({(1, 10): _clock(1, 10, [(0.0, 0.0), (1.0, 0.0)])}, 2, 0.0, 1.0)
    p = weigh_spans(spans, record, WeighOptions(origin=0.0, keep_idle=False), Metadata())
    assert p.total == 0.0

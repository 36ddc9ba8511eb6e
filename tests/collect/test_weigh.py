from __future__ import annotations

from array import array

import pytest

from hotpath.collect.chrometrace import Span
from hotpath.collect.clocks import ClockRecord, ThreadClock
from hotpath.collect.weigh import WeighOptions, weigh_spans
from hotpath.model import CPU, IDLE, MEASURE, STATE, THREAD_ID, WALL, Frame, Metadata


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


def test_clock_offset_lines_py_spy_up_with_the_clocks() -> None:
    """py-spy's timestamps 17 ms early against the clocks (as measured on the monolith):
    short threads born and gone while the clocks ran pin the offset; threads that outlive
    the recording say nothing and do not pull it."""
    from hotpath.collect.weigh import clock_offset

    early = 0.017
    spans, threads = [], {}
    for i in range(40):
        born = 1.0 + i * 0.05
        threads[(1, 100 + i)] = _clock(1, 100 + i, [(born, 0.0), (born + 0.004, 0.003)])
        seen = born + 0.002 - early  # py-spy's time for a moment inside the thread's life
        spans.append(Span(1, 100 + i, None, None, (Frame("view", "/a.py", 1),), seen, seen))
    threads[(1, 1)] = _clock(1, 1, [(0.0, 0.0), (4.0, 1.0)])
    spans.append(Span(1, 1, None, None, (Frame("main", "/a.py", 1),), 0.0, 3.9))
    record = ClockRecord(threads, 800, 0.0, 4.0)
    assert clock_offset(spans, record, origin=0.0) == pytest.approx(early, abs=0.0025)
    p = weigh_spans(spans, record, WeighOptions(origin=0.0), Metadata())
    assert p.meta.attrs["clock_offset_ms"].startswith("+1")


def test_cpu_of_exited_threads_is_recovered_from_the_process_clock() -> None:
    """Thread 10 exits 2 ms after its last reading having used 3 ms more; thread 11 lives and
    dies between two sweeps. Only the process clock (which keeps exited threads' CPU) saw
    both: the recovered CPU makes the profile's total equal the process's."""
    from hotpath.collect.clocks import ProcessClock

    view = (Frame("view", "/a.py", 1),)
    proc = ProcessClock(1)
    # Sweeps at 0, 10, 20, 30 ms (each 1 ms long). Thread 10: 4 ms by the 10 ms sweep, gone
    # at 20 ms with 7 ms used; thread 11: born after 20 ms, gone before 30 ms, used 2 ms.
    for t, process, known in [(0.0, 0.0, 0.0), (0.01, 0.004, 0.004), (0.02, 0.007, 0.004)]:
        proc.starts.append(t)
        proc.ends.append(t + 0.001)
        proc.cpu.append(process)
        proc.known.append(known)
    proc.starts.append(0.03)
    proc.ends.append(0.031)
    proc.cpu.append(0.009)
    proc.known.append(0.004)
    threads = {
        (1, 10): _clock(1, 10, [(0.0, 0.0), (0.0105, 0.004)]),
        (1, 1): _clock(1, 1, [(-1.0, 0.0), (1.0, 0.0)]),  # an idle thread, there throughout
    }
    # py-spy: the idle thread changes stack every millisecond (the ticks); the two request
    # threads keep their last stack until py-spy's output, as py-spy does for exited threads.
    spans = [
        Span(1, 1, None, None, (Frame(f"t{i % 2}", "/b.py", 1),), i / 1000, (i + 1) / 1000)
        for i in range(40)
    ]
    spans += [
        Span(1, 10, None, None, view, 0.001, 0.04),
        Span(1, 11, None, None, view, 0.021, 0.04),
    ]
    record = ClockRecord(threads, 4, -1.0, 1.0, {1: proc})
    p = weigh_spans(spans, record, WeighOptions(origin=0.0, interval_s=0.001), Metadata())
    by_thread: dict[str, float] = {}
    for _frames, labels, w in p.iter_samples():
        d = dict(labels)
        if d[MEASURE] == CPU:
            by_thread[d[THREAD_ID]] = by_thread.get(d[THREAD_ID], 0.0) + w
    assert by_thread == pytest.approx({"10": 0.007, "11": 0.002}, abs=1e-6)

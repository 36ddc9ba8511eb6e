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
    # Wall edges move to the midpoint between ticks, but the 5 ms of CPU between the last
    # tick in spin and the first in wait stays with spin: wait uses no CPU anywhere else.
    cpu = _by(p, CPU)
    assert cpu["spin"] == pytest.approx(1.0, abs=1e-3)
    assert cpu.get("wait", 0.0) < 1e-3
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


def _pool_thread(
    tid: int,
    seed: int,
    seconds: float,
    tick_s: float,
    busy_s: tuple[float, float] = (0.006, 0.012),
    rate: float = 1.0,
) -> tuple[list[Span], ThreadClock, float]:
    """A thread-pool thread: requests of ``busy_s`` in `work` using ``rate`` of a core,
    waits of 5-30 ms in `wait`, seen by ticks every ``tick_s``; its clock is read every
    millisecond. Returns the spans (py-spy's view), the clock and the CPU it used."""
    import random

    rng = random.Random(seed)
    work, wait = (Frame("work", "/app.py", 1),), (Frame("wait", "/threading.py", 2),)
    phases: list[tuple[float, float, bool]] = []
    t = rng.uniform(0, 0.01)
    while t < seconds:
        busy = rng.uniform(*busy_s)
        phases.append((t, t + busy, True))
        idle = rng.uniform(0.005, 0.03)
        phases.append((t + busy, t + busy + idle, False))
        t += busy + idle

    def cpu_at(x: float) -> float:
        return rate * sum(min(max(x - a, 0.0), b - a) for a, b, on in phases if on)

    def in_work(x: float) -> bool:
        return any(a <= x < b for a, b, on in phases if on)

    ticks = [i * tick_s + tid * 1e-5 for i in range(int(seconds / tick_s))]
    spans: list[Span] = []
    for x in ticks:
        stack = work if in_work(x) else wait
        if spans and spans[-1].stack == stack:
            spans[-1] = Span(1, tid, None, None, stack, spans[-1].start, x)
        else:
            if spans:
                spans[-1] = Span(1, tid, None, None, spans[-1].stack, spans[-1].start, x)
            spans.append(Span(1, tid, None, None, stack, x, x))
    n = int(seconds * 1000)
    readings = [(-1.0, 0.0)] + [(i / 1000, cpu_at(i / 1000)) for i in range(n + 1)]
    clock = _clock(1, tid, [*readings, (seconds + 1.0, cpu_at(seconds))])
    return spans, clock, cpu_at(ticks[-1]) - cpu_at(ticks[0])


def test_pool_threads_cpu_goes_to_the_work_not_the_wait() -> None:
    """Requests of one to two ticks between long waits: splitting each change of stack at
    the midpoint gave the waits 16% of the CPU; by the stacks' CPU rates the work keeps it."""
    spans: list[Span] = []
    threads = {}
    truth = 0.0
    for tid in range(4):
        s, clock, cpu = _pool_thread(10 + tid, tid, 4.0, 0.005)
        spans += s
        threads[(1, 10 + tid)] = clock
        truth += cpu
    record = ClockRecord(threads, 4000, -1.0, 5.0)
    p = weigh_spans(spans, record, WeighOptions(origin=0.0, interval_s=0.005), Metadata())
    cpu = _by(p, CPU)
    assert cpu["work"] == pytest.approx(truth, rel=0.03)
    assert cpu.get("wait", 0.0) < 0.03 * truth


def test_pool_threads_line_the_clocks_up_by_their_sleeps() -> None:
    """py-spy's printed moment 6 ms late and no thread born or gone: the offset is found
    where the threads' clocks stand still while py-spy sees them wait. (Requests of 10-25 ms
    at 40% of a core: four threads sharing two cores and the GIL. An offset near a whole
    request is found only where the waits still look like waits, as they did on every server
    measured, up to 66 ms off.)"""
    from hotpath.collect.weigh import clock_offset, sleep_offset

    spans: list[Span] = []
    threads = {}
    for tid in range(4):
        s, clock, _cpu = _pool_thread(10 + tid, 100 + tid, 4.0, 0.002, (0.01, 0.025), 0.4)
        spans += s
        threads[(1, 10 + tid)] = clock
    record = ClockRecord(threads, 4000, -1.0, 5.0)
    late = 0.006
    assert clock_offset(spans, record, origin=-late) == 0.0  # nothing to go by
    found = sleep_offset(spans, record, -late, 0.0, 0.002 / 3)
    assert found == pytest.approx(late, abs=0.001)
    p = weigh_spans(spans, record, WeighOptions(origin=-late, interval_s=0.002), Metadata())
    assert float(p.meta.attrs["clock_offset_ms"]) == pytest.approx(6.0, abs=1.0)


def test_a_lone_thread_keeps_the_cpu_of_its_long_calls() -> None:
    """An event loop alone in its process: py-spy's spans start only where its stack changed,
    so a 30 ms call shows no tick inside it. The ticks still fell every interval (the last
    one that saw the call 2 ms before the change), so the call keeps its CPU: the clock's
    30 ms, give or take a tick, and the short response writing after it its 2 ms. Taking
    the previous change as the last tick made the whole call a gap shared with the next
    stack (the event-loop servers' endpoints read 7-12 points off)."""
    dump, send = (Frame("dumps", "/a.py", 1),), (Frame("send", "/a.py", 2),)
    spans = []
    t = 0.0
    for _ in range(20):  # dumps 30 ms then send 2 ms, at one core all along
        spans.append(Span(1, 10, "loop", None, dump, t, t + 0.030))
        spans.append(Span(1, 10, "loop", None, send, t + 0.030, t + 0.032))
        t += 0.032
    clock = _clock(1, 10, [(i * 0.002, i * 0.002) for i in range(int(t / 0.002) + 2)])
    record = ClockRecord({(1, 10): clock}, len(clock.times), 0.0, t + 0.002)
    p = weigh_spans(spans, record, WeighOptions(origin=0.0, interval_s=0.002), Metadata())
    cpu = _by(p, CPU)
    assert cpu["dumps"] == pytest.approx(20 * 0.030, abs=20 * 0.002)
    assert cpu["send"] == pytest.approx(20 * 0.002, abs=20 * 0.002)

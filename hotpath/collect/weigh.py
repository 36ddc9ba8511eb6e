"""Weigh py-spy's spans by the CPU each thread really used: one run, CPU and wall separately.

For a span "thread T was in stack S from t0 to t1" (see :mod:`hotpath.collect.chrometrace`)
the thread's cumulative CPU clock (see :mod:`hotpath.collect.clocks`), interpolated at t0 and
t1, gives the on-CPU seconds ``c`` it spent there. The stack is recorded with ``measure=cpu``
weight ``c``, and with ``measure=wall`` weight ``t1 - t0`` split into ``state=active`` (``c``:
on a CPU) and ``state=idle`` (the rest: blocked on I/O, a lock, the GIL, a sleep, or runnable
but waiting for a core). The run-queue clock is not used for "active": py-spy pausing the
target to sample it puts every thread in the run queue on each tick, which inflates it.
Sums telescope: the CPU weights of a thread add up to the CPU time its clock advanced while
py-spy watched.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import pairwise

from hotpath.collect.chrometrace import Span
from hotpath.collect.clocks import ClockRecord, ThreadClock
from hotpath.model import (
    ACTIVE,
    CPU,
    IDLE,
    MEASURE,
    PID,
    PROCESS,
    STATE,
    THREAD,
    THREAD_ID,
    WALL,
    Metadata,
    Profile,
)


@dataclass(frozen=True)
class WeighOptions:
    origin: float
    """time.monotonic() value of py-spy's timestamp 0 (its spans are relative to it)."""
    keep_idle: bool = True
    thread_labels: bool = True


def _at(clock: ThreadClock, t: float) -> float:
    """CPU seconds a thread had used at monotonic time t, linearly interpolated."""
    times = clock.times
    i = bisect_right(times, t)
    if i == 0:
        return clock.cpu[0]
    if i >= len(times):
        return clock.cpu[-1]
    t0, t1 = times[i - 1], times[i]
    f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
    return clock.cpu[i - 1] + f * (clock.cpu[i] - clock.cpu[i - 1])


def weigh_spans(
    spans: Iterable[Span], clocks: ClockRecord, options: WeighOptions, meta: Metadata
) -> Profile:
    """A profile in seconds: every span once as ``measure=cpu`` and once as ``measure=wall``."""
    span_list = list(spans)
    names: dict[tuple[int, int | None], str] = {}
    processes: dict[int, str] = {}
    for s in span_list:
        if s.thread_name:
            names[(s.pid, s.tid)] = s.thread_name
        if s.process:
            processes[s.pid] = s.process
    meta.unit = "seconds"
    profile = Profile(meta)
    label_cache: dict[tuple[int, int | None, str], int] = {}

    def labels(pid: int, tid: int | None, kind: str) -> int:
        key = (pid, tid, kind)
        lid = label_cache.get(key)
        if lid is None:
            ls: dict[str, str] = {PID: str(pid)}
            if pid in processes:
                ls[PROCESS] = processes[pid]
            if options.thread_labels and tid is not None:
                ls[THREAD_ID] = str(tid)
                ls[THREAD] = names.get((pid, tid), str(tid))
            if kind == CPU:
                ls[MEASURE] = CPU
            else:
                ls[MEASURE] = WALL
                ls[STATE] = kind
            lid = label_cache[key] = profile.intern_labels(ls)
        return lid

    origin = options.origin
    span_list = _stretch(_tile(span_list), clocks, origin)
    for s in span_list:
        wall = s.end - s.start
        if wall <= 0:
            continue
        stack = tuple(profile.intern_frame(f) for f in s.stack)
        clock = clocks.threads.get((s.pid, s.tid)) if s.tid is not None else None
        if clock is None or not clock.times:
            # A thread the clock sampler never saw (it lived less than one sweep): its CPU is
            # unknown, so none is claimed; its wall time counts as active, as py-spy would.
            cpu, busy = 0.0, wall
        else:
            cpu = max(_at(clock, origin + s.end) - _at(clock, origin + s.start), 0.0)
            busy = min(cpu, wall)
        if cpu > 0:
            profile.add(stack, cpu, labels(s.pid, s.tid, CPU))
        if busy > 0:
            profile.add(stack, busy, labels(s.pid, s.tid, ACTIVE))
        if options.keep_idle and wall - busy > 1e-9:
            profile.add(stack, wall - busy, labels(s.pid, s.tid, IDLE))
    return profile


def _stretch(spans: list[Span], clocks: ClockRecord, origin: float) -> list[Span]:
    """End each thread's last span at the thread's death.

    py-spy keeps a dead thread's last stack until it writes its output; the clocks know when
    the thread stopped, so dead threads do not count wall time. A thread's first span is not
    stretched back to its birth: the CPU before py-spy's first tick belongs to whatever the
    thread did then, not to the first stack py-spy saw (stretching moved the CPU of whole
    short requests into their response writing).
    """
    last: dict[tuple[int, int], int] = {}
    for i, s in enumerate(spans):
        if s.tid is None:
            continue
        key = (s.pid, s.tid)
        if key not in last or s.end > spans[last[key]].end:
            last[key] = i
    out = list(spans)
    for key, j in last.items():
        clock = clocks.threads.get(key)
        if clock is None or not clock.times:
            continue
        died = clock.times[-1] - origin
        if clock.times[-1] < clocks.stopped - 0.05 and died < out[j].end:
            out[j] = replace(out[j], end=max(died, out[j].start))
    return out


def _tile(spans: list[Span]) -> list[Span]:
    """Move every span edge from the tick that saw the change to the midpoint between that
    tick and the one before, so each sample stands for the time nearest to it.

    py-spy's ticks are irregular on a busy machine (it falls behind), so the midpoint is taken
    between the real tick times (every span start is a tick), not half a nominal interval.
    """
    ticks = sorted({s.start for s in spans})
    if len(ticks) < 2:
        return spans
    mid = {ticks[0]: ticks[0]}
    for a, b in pairwise(ticks):
        mid[b] = (a + b) / 2
    out = []
    for s in spans:
        start = mid.get(s.start, s.start)
        end = mid.get(s.end)
        if end is None:  # the final flush, or a key reused after the thread died
            i = bisect_right(ticks, s.end)
            end = (ticks[i - 1] + s.end) / 2 if 0 < i < len(ticks) else s.end
        out.append(replace(s, start=start, end=max(end, start)))
    return out

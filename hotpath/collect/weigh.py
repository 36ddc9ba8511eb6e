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
    interval_s: float = 0.01
    """py-spy's nominal sampling interval (1/rate): timestamps closer than a third of it
    belong to one tick (py-spy stamps each thread's trace as it handles it)."""


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

    offset = clock_offset(span_list, clocks, options.origin)
    origin = options.origin + offset
    if clocks.threads:
        meta.attrs["clock_offset_ms"] = f"{offset * 1000:+.1f}"
    clocks = replace(clocks, threads=_with_exits(span_list, clocks, origin))
    span_list = _stretch(_tile(span_list, options.interval_s / 3), clocks, origin)
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


def clock_offset(spans: list[Span], clocks: ClockRecord, origin: float) -> float:
    """Seconds to add to ``origin`` so that py-spy's sightings of each thread fall inside
    the thread's life by its clock.

    ``origin`` comes from the moment py-spy printed "Sampling process", read through a pipe
    on a busy machine: on the sample monolith it was 15-20 ms off, longer than a whole short
    request, whose CPU then landed on the next request's stacks. Each thread both saw gives
    an interval of offsets that keeps py-spy's first and last sighting within its clock's
    first and last reading (plus a sweep, as it may have exited just after one); the offset
    taken is the middle of the range that the most threads agree on, or none when that
    range holds zero.
    """
    if not clocks.threads or not spans:
        return 0.0
    sweep = _sweep_s(clocks)
    sighted: dict[tuple[int, int], tuple[float, float]] = {}
    for s in spans:
        if s.tid is not None:
            key = (s.pid, s.tid)
            f, last = sighted.get(key, (s.start, s.start))
            sighted[key] = (min(f, s.start), max(last, s.start))
    edges: list[tuple[float, int]] = []
    for key, (first, last) in sighted.items():
        clock = clocks.threads.get(key)
        if clock is None or not clock.times:
            continue
        # Only a birth or an exit while the clocks ran says anything about the offset.
        born = clock.times[0] > clocks.started + _EDGE_S
        gone = clock.times[-1] < clocks.stopped - _EDGE_S
        lo = clock.times[0] - origin - first if born else -_MAX_OFFSET_S
        hi = clock.times[-1] + sweep - origin - last if gone else _MAX_OFFSET_S
        if lo <= hi:
            edges += [(max(lo, -_MAX_OFFSET_S), 1), (min(hi, _MAX_OFFSET_S), -1)]
    best, best_lo, best_hi, count = 0, 0.0, 0.0, 0
    edges.sort(key=lambda e: (e[0], -e[1]))  # at a tie, open before closing
    for i, (x, step) in enumerate(edges):
        count += step
        if step > 0 and count > best:
            # Until the next edge: a closing one ends the range, an opening one beats it.
            best, best_lo = count, x
            best_hi = edges[i + 1][0] if i + 1 < len(edges) else x
    if not best or best_lo <= 0.0 <= best_hi:
        return 0.0  # the printed moment agrees with the clocks: keep it
    if best_lo <= -_MAX_OFFSET_S or best_hi >= _MAX_OFFSET_S:
        return best_hi if best_hi < 0 else best_lo  # one-sided evidence: the least change
    return (best_lo + best_hi) / 2


_MAX_OFFSET_S = 0.5
_EDGE_S = 0.05
"""A thread first read this soon after the clocks started was there before them (and one
last read this close to the end outlived them)."""


def _sweep_s(clocks: ClockRecord) -> float:
    """The clock sampler's sweep interval, as it really ran."""
    # Per process: several processes are read one after another within each sweep.
    gaps = sorted(b - a for p in clocks.processes.values() for a, b in pairwise(p.starts))
    return gaps[len(gaps) // 2] if gaps else 0.005


def _with_exits(
    spans: list[Span], clocks: ClockRecord, origin: float
) -> dict[tuple[int, int], ThreadClock]:
    """The thread clocks, completed with the CPU of threads after their last reading.

    A thread's ``/proc`` entry goes when it exits, so the CPU it used after the last sweep
    that read it is in no thread reading; a thread born and gone between two sweeps has none
    at all. Under thread-per-request serving that is the end of every request: on the sample
    monolith under 4 clients, 1.33 of the process's 6.55 CPU seconds. The process's CPU clock
    keeps it: per sweep interval, what the process used beyond what its live threads' clocks
    advanced is shared among the threads that exited in it (the last sweep read them, this
    one did not) and the threads py-spy saw in it that no sweep ever read. Each gets a last
    reading between its last sign of life and the sweep that missed it.
    """
    threads = dict(clocks.threads)
    seen: dict[tuple[int, int], list[float]] = {}
    for s in spans:
        if s.tid is not None:
            seen.setdefault((s.pid, s.tid), []).append(origin + s.start)
    for pid, proc in clocks.processes.items():
        starts = proc.starts
        if len(starts) < 2:
            continue
        exits: dict[int, list[tuple[int, int]]] = {}  # sweep interval -> threads gone in it
        for key, clock in clocks.threads.items():
            if key[0] == pid and clock.times:
                j = bisect_right(starts, clock.times[-1])  # the first sweep that missed it
                if 0 < j < len(starts):
                    exits.setdefault(j, []).append(key)
        for key, times in seen.items():
            if key[0] == pid and key not in clocks.threads:
                for j in {min(max(bisect_right(starts, t), 1), len(starts) - 1) for t in times}:
                    exits.setdefault(j, []).append(key)
        extra: dict[tuple[int, int], tuple[float, float, float]] = {}  # key -> birth, death, cpu
        for j, keys in exits.items():
            lost = (proc.cpu[j] - proc.cpu[j - 1]) - (proc.known[j] - proc.known[j - 1])
            if lost <= 0:
                continue
            for key in keys:
                read = clocks.threads.get(key)
                evidence = [t for t in seen.get(key, ()) if t < proc.ends[j]]
                last = max([*(read.times[-1:] if read else ()), *evidence], default=starts[j])
                death = max((last + starts[j]) / 2, last + 1e-4)
                birth, _, cpu = extra.get(key, (starts[j - 1], 0.0, 0.0))
                extra[key] = (birth, death, cpu + lost / len(keys))
        for key, (birth, death, cpu) in extra.items():
            old = clocks.threads.get(key)
            clock = ThreadClock(*key)
            if old is None:
                clock.add(birth, 0, 0)
                clock.add(death, round(cpu * 1e9), 0)
            else:
                clock.times.extend(old.times)
                clock.cpu.extend(old.cpu)
                clock.runq.extend(old.runq)
                clock.add(death, round((old.cpu[-1] + cpu) * 1e9), round(old.runq[-1] * 1e9))
            threads[key] = clock
    return threads


def _stretch(spans: list[Span], clocks: ClockRecord, origin: float) -> list[Span]:
    """Start each thread's first span at the thread's birth, end its last at its death.

    py-spy keeps a dead thread's last stack until it writes its output; the clocks know when
    the thread stopped, so dead threads do not count wall time. The CPU a thread used before
    py-spy first saw it goes to the first stack it was seen in, the nearest sample (a thread
    that was running when py-spy started keeps its first span as it is). With py-spy's
    timestamps aligned to the clocks (:func:`clock_offset`) this lowered the worst endpoint
    error on the sample monolith; before the alignment it moved whole short requests into
    the next request's response writing.
    """
    last: dict[tuple[int, int], int] = {}
    first: dict[tuple[int, int], int] = {}
    for i, s in enumerate(spans):
        if s.tid is None:
            continue
        key = (s.pid, s.tid)
        if key not in last or s.end > spans[last[key]].end:
            last[key] = i
        if key not in first or s.start < spans[first[key]].start:
            first[key] = i
    out = list(spans)
    for key, j in first.items():
        clock = clocks.threads.get(key)
        if clock is None or not clock.times:
            continue
        born = clock.times[0] - origin
        if clock.times[0] > clocks.started + _EDGE_S and born < out[j].start:
            out[j] = replace(out[j], start=born)
    for key, j in last.items():
        clock = clocks.threads.get(key)
        if clock is None or not clock.times:
            continue
        died = clock.times[-1] - origin
        if clock.times[-1] < clocks.stopped - _EDGE_S and died < out[j].end:
            out[j] = replace(out[j], end=max(died, out[j].start))
    return out


def _tile(spans: list[Span], same_tick_s: float) -> list[Span]:
    """Move every span edge from the tick that saw the change to the midpoint between that
    tick and the one before, so each sample stands for the time nearest to it.

    py-spy's ticks are irregular on a busy machine (it falls behind), so the midpoint is taken
    between the real tick times. Every span start is a tick; timestamps less than
    ``same_tick_s`` after the previous one are the same tick (threads handled one by one).
    """
    stamps = sorted({s.start for s in spans})
    if len(stamps) < 2:
        return spans
    ticks: list[float] = []
    tick_of: dict[float, int] = {}
    for t in stamps:
        if not ticks or t - ticks[-1] > same_tick_s:
            ticks.append(t)
        tick_of[t] = len(ticks) - 1
    mids = [ticks[0]] + [(a + b) / 2 for a, b in pairwise(ticks)]

    def edge(t: float) -> float:
        k = tick_of.get(t)
        if k is None:  # the final flush, or a key reused after the thread died
            i = bisect_right(ticks, t)
            return (ticks[i - 1] + t) / 2 if 0 < i < len(ticks) else t
        return mids[k]

    out = []
    for s in spans:
        start, end = edge(s.start), edge(s.end)
        out.append(replace(s, start=start, end=max(end, start)))
    return out

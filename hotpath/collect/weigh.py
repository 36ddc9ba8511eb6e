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
from collections.abc import Callable, Iterable
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

    same_tick = options.interval_s / 3
    # py-spy at real-time priority keeps to its rate (ticks 2.03-2.07 ms apart at 500 Hz on
    # an event loop at load 5); its sample count is per thread, so it cannot say otherwise.
    step = options.interval_s
    offset, births = _birth_offset(span_list, clocks, options.origin)
    first = replace(clocks, threads=_with_exits(span_list, clocks, options.origin + offset))
    # Threads born and gone pin the offset directly; the sleeps only refine it then.
    reach = _NEAR_S if births >= _BIRTHS_ENOUGH else _MAX_OFFSET_S / 2
    offset = sleep_offset(span_list, first, options.origin, offset, same_tick, reach)
    origin = options.origin + offset
    if clocks.threads:
        meta.attrs["clock_offset_ms"] = f"{offset * 1000:+.1f}"
    clocks = replace(clocks, threads=_with_exits(span_list, clocks, origin))
    tiled = _stretch(_tile(span_list, same_tick, step), clocks, origin)
    cpus = _cpu_by_transitions(span_list, tiled, clocks, origin, same_tick, step)
    for s, cpu in zip(tiled, cpus, strict=True):
        wall = s.end - s.start
        if wall <= 0 and not cpu:
            continue
        stack = tuple(profile.intern_frame(f) for f in s.stack)
        if cpu is None:
            # A thread the clock sampler never saw (it lived less than one sweep): its CPU is
            # unknown, so none is claimed; its wall time counts as active, as py-spy would.
            cpu, busy = 0.0, wall
        else:
            busy = min(cpu, max(wall, 0.0))
        if cpu > 0:
            profile.add(stack, cpu, labels(s.pid, s.tid, CPU))
        if busy > 0:
            profile.add(stack, busy, labels(s.pid, s.tid, ACTIVE))
        if options.keep_idle and wall - busy > 1e-9:
            profile.add(stack, wall - busy, labels(s.pid, s.tid, IDLE))
    return profile


def clock_offset(spans: list[Span], clocks: ClockRecord, origin: float) -> float:
    """Seconds to add to ``origin`` (see :func:`_birth_offset`)."""
    return _birth_offset(spans, clocks, origin)[0]


def _birth_offset(spans: list[Span], clocks: ClockRecord, origin: float) -> tuple[float, int]:
    """Seconds to add to ``origin`` so that py-spy's sightings of each thread fall inside
    the thread's life by its clock.

    ``origin`` comes from the moment py-spy printed "Sampling process", read through a pipe
    on a busy machine: on the sample monolith it was 15-20 ms off, longer than a whole short
    request, whose CPU then landed on the next request's stacks. Each thread both saw gives
    an interval of offsets that keeps py-spy's first and last sighting within its clock's
    first and last reading (plus a sweep, as it may have exited just after one); the offset
    taken is the middle of the range that the most threads agree on, or none when that
    range holds zero. Also returns how many threads were born or gone (the evidence).
    """
    if not clocks.threads or not spans:
        return 0.0, 0
    sweep = _sweep_s(clocks)
    sighted: dict[tuple[int, int], tuple[float, float]] = {}
    for s in spans:
        if s.tid is not None:
            key = (s.pid, s.tid)
            f, last = sighted.get(key, (s.start, s.start))
            sighted[key] = (min(f, s.start), max(last, s.start))
    edges: list[tuple[float, int]] = []
    evidence = 0
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
            evidence += born or gone
    best, best_lo, best_hi, count = 0, 0.0, 0.0, 0
    edges.sort(key=lambda e: (e[0], -e[1]))  # at a tie, open before closing
    for i, (x, step) in enumerate(edges):
        count += step
        if step > 0 and count > best:
            # Until the next edge: a closing one ends the range, an opening one beats it.
            best, best_lo = count, x
            best_hi = edges[i + 1][0] if i + 1 < len(edges) else x
    if not best or best_lo <= 0.0 <= best_hi:
        return 0.0, evidence  # the printed moment agrees with the clocks: keep it
    if best_lo <= -_MAX_OFFSET_S or best_hi >= _MAX_OFFSET_S:
        return (best_hi if best_hi < 0 else best_lo), evidence  # one-sided: least change
    return (best_lo + best_hi) / 2, evidence


_MAX_OFFSET_S = 0.5
_OFFSET_REGIONS = 3000
_NEAR_S = 0.005
_BIRTHS_ENOUGH = 20


def sleep_offset(
    spans: list[Span],
    clocks: ClockRecord,
    origin: float,
    offset: float,
    same_tick_s: float,
    reach: float = 0.25,
) -> float:
    """``offset`` refined so that threads use the least CPU where py-spy saw them sleep.

    Thread-pool threads are neither born nor gone while a server is recorded, so
    :func:`clock_offset` has nothing to go by, and the printed moment was 3-66 ms off on
    waitress, gunicorn and uvicorn under load: a third of the py-spy sightings of views fell
    outside the requests that ran them, and the requests' CPU onto the waits around them.
    Every thread that waits between requests says where the offset is: between two ticks
    that both saw it sleeping (in a stack its threads spend mostly under
    :data:`SLEEP_RATE` of a core in) its clock should not advance. The offset taken
    minimises the CPU the clocks put there, searched within ``reach`` of ``offset`` (the
    middle of the best stretch), over the sleeps that the thread's clock covers at every
    offset tried (elsewhere the clock says nothing, and a search would run there);
    ``offset`` is kept when no thread slept twice in a row or nothing does clearly better.
    """
    if not clocks.threads or not spans:
        return offset
    ticks, tick_of = _ticks(spans, same_tick_s)
    regions: list[tuple[ThreadClock, tuple[tuple[str, str], ...], float, float]] = []
    for s in spans:
        clock = clocks.threads.get((s.pid, s.tid)) if s.tid is not None else None
        k = tick_of.get(s.end)
        if clock is None or not clock.times or k is None or k == 0:
            continue
        # The first and the last tick known to have seen this stack: ticks that some span
        # shows, not the hidden ones between them (see _last_seen). A thread that changes
        # stack while the others stand still has no second known tick, so a lone event
        # loop gives no region: it never waits between requests, and a search over its
        # busy stacks (with the hidden ticks) found a 250 ms offset where there was none.
        a, b = s.start, ticks[k - 1]
        lo, hi = origin + offset - reach, origin + offset + reach
        if b <= a or a + lo < clock.times[0] or b + hi > clock.times[-1]:
            continue
        regions.append((clock, tuple((f.name, f.file) for f in s.stack), a, b))
    if not regions:
        return offset
    # A long recording has thousands of regions; an even selection of them is enough.
    regions = regions[:: max(1, len(regions) // _OFFSET_REGIONS)]

    def asleep_at(d: float, relative: bool) -> list[tuple[ThreadClock, float, float]]:
        rates: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        total_cpu = total_wall = 0.0
        for c, key, a, b in regions:
            cpu = _at(c, origin + d + b) - _at(c, origin + d + a)
            rates.setdefault(key, []).append((cpu / (b - a), b - a))
            total_cpu += cpu
            total_wall += b - a
        limit = max(SLEEP_RATE, total_cpu / total_wall) if relative else SLEEP_RATE
        sleeping = {k for k, v in rates.items() if _weighted_median(v) < limit}
        return [(c, a, b) for c, k, a, b in regions if k in sleeping]

    def cost(asleep: list[tuple[ThreadClock, float, float]], d: float) -> float:
        o = origin + d
        return sum(_at(c, o + b) - _at(c, o + a) for c, a, b in asleep)

    def best(
        asleep: list[tuple[ThreadClock, float, float]], center: float, step: float, n: int
    ) -> float:
        grid = [center + i * step for i in range(-n, n + 1)]
        costs = [cost(asleep, d) for d in grid]
        low = min(costs)
        ties = [d for d, c in zip(grid, costs, strict=True) if c <= low + 1e-6]
        return (ties[0] + ties[-1]) / 2

    def search(relative: bool) -> float:
        # Which stacks sleep is read at the offset given, which may be far off (then some
        # work looks asleep too); it is read again at the first answer, the search narrowed.
        asleep = asleep_at(offset, relative)
        if not asleep:
            return offset
        found = best(asleep, offset, 0.002, max(1, round(reach / 0.002)))
        asleep = asleep_at(found, relative) or asleep
        found = best(asleep, best(asleep, found, 0.0005, 8), 0.0001, 5)
        return found if cost(asleep, found) < cost(asleep, offset) * 0.95 else offset

    def still(d: float) -> float:
        """Seconds of the regions in which the thread's clock stood (nearly) still."""
        o = origin + d
        return sum(b - a for c, _k, a, b in regions if _at(c, o + b) - _at(c, o + a) <= 1e-4)

    # Two readings of "sleeping": under 5% of a core (right when the offset is far off but
    # the waits are long), or under the average rate (right when it is a few milliseconds
    # off and the work's CPU spills into the waits). Of their answers, the one where the
    # threads' clocks stand still the longest.
    found = max({search(False), search(True)}, key=still)
    # A pool kept busy by a steady stream of short requests never really sleeps: the CPU the
    # clocks put in its waits is the same at every offset, the searches above pick among
    # equals, and the stretches of still clocks peak again every period (21.5 ms for a
    # self-measuring 4-thread pool, tests/collect/fixtures/pool/). There the offset taken
    # was +86 ms where +4 ms was right, and the pool's work lost 70 of its 97 points; the
    # peak nearest the given offset is taken instead.
    asleep0 = asleep_at(offset, False)
    if asleep0 and _flat(offset, reach, lambda d: cost(asleep0, d)):
        found = _nearest_stillest(still, offset, reach)
    found = min(max(found, offset - reach), offset + reach)
    return found


def _flat(offset: float, reach: float, cost_at: Callable[[float], float]) -> bool:
    """Whether no offset within ``reach`` puts clearly less CPU in the sleeps (5%)."""
    n = round(reach / 0.002)
    costs = [cost_at(offset + i * 0.002) for i in range(-n, n + 1)]
    low = min(costs)
    return low > 0 and max(costs) <= low * _FLAT


_FLAT = 1.05
"""Costs within 5% of the least across the whole search: a landscape with no minimum."""


def _nearest_stillest(still: Callable[[float], float], offset: float, reach: float) -> float:
    """The offset nearest ``offset`` where the clocks stand still nearly (90%) as long as
    anywhere within ``reach``, refined to half a millisecond."""
    n = round(reach / 0.002)
    grid = [offset + i * 0.002 for i in range(-n, n + 1)]
    values = [still(d) for d in grid]
    most = max(values)
    if most <= 0:
        return offset
    near = min(
        (d for d, v in zip(grid, values, strict=True) if v >= 0.9 * most),
        key=lambda d: (abs(d - offset), d),
    )
    return max((near + i * 0.0005 for i in range(-4, 5)), key=still)


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


def _last_seen(ticks: list[float], k: int, t: float, tick_s: float | None) -> float:
    """The tick before ``ticks[k]`` (stamped ``t``): the last one that saw the old stack.

    Spans start only at ticks where some thread's stack changed, and py-spy samples every
    thread at every tick. Where one thread runs alone (an event loop) a long call spans many
    ticks that no span shows; the last of them fell one ``tick_s`` (py-spy's interval)
    before ``t``, not at the previous change, which may be 30 ms back. Taken as the previous
    change, it made the whole call a gap to split with the next stack: a 3 ms ``json.dumps``
    under load lost a quarter of its CPU to the response writing that followed it, and
    single-threaded servers' endpoints were 7-12 points off their own CPU.
    """
    if k <= 0:
        return t
    if tick_s is None or t - ticks[k - 1] <= _HIDDEN_TICK * tick_s:
        return ticks[k - 1]  # no tick can have fallen in between (py-spy's ticks jitter)
    return t - tick_s


_HIDDEN_TICK = 1.5
"""A gap between known ticks longer than this many ``tick_s`` held a tick no span shows."""


def _ticks(spans: list[Span], same_tick_s: float) -> tuple[list[float], dict[float, int]]:
    """py-spy's tick times (every span start is one; stamps closer than ``same_tick_s`` are
    one tick, as py-spy stamps threads one by one) and the tick of every stamp."""
    ticks: list[float] = []
    tick_of: dict[float, int] = {}
    for t in sorted({s.start for s in spans}):
        if not ticks or t - ticks[-1] > same_tick_s:
            ticks.append(t)
        tick_of[t] = len(ticks) - 1
    return ticks, tick_of


def _cpu_by_transitions(
    spans: list[Span],
    tiled: list[Span],
    clocks: ClockRecord,
    origin: float,
    same_tick_s: float,
    interval_s: float,
) -> list[float | None]:
    """Each span's CPU seconds: what its thread's clock advanced while py-spy saw it there,
    plus its share of the CPU used in the gaps where the thread changed stack.

    Between the last tick that saw a thread in stack A and the first that saw it in B the
    thread changed stack at an unknown moment. Splitting that gap at its midpoint (as the
    spans' wall time is split) is right for wall time but not for CPU: a thread-pool thread
    runs a request between two long stretches in ``Condition.wait``, so the midpoint hands
    the waits the start and the end of every request, and never gives anything back (a wait
    has no CPU to hand over). Instead the CPU the clock shows in the gap is split between A
    and B by the chance that the thread was in each at that moment (the change is equally
    likely anywhere in the gap) times the CPU rate of each stack, learnt from the whole
    recording: CPU of the stack's spans per second of their wall time, re-estimated a few
    times (a stack whose thread sleeps in it gets next to nothing). ``None`` for a thread no
    clock reading covers.
    """
    ticks, tick_of = _ticks(spans, same_tick_s)
    out: list[float | None] = [None] * len(spans)
    by_thread: dict[tuple[int, int], list[int]] = {}
    for i, s in enumerate(spans):
        if s.tid is not None:
            by_thread.setdefault((s.pid, s.tid), []).append(i)

    # Where other threads of the process change stack too (a thread pool), the gap to split
    # runs from the previous change any thread showed: with the ticks hidden in it (see
    # _last_seen) pool threads' pure-Python work read 1 point further under its own CPU in
    # 18 recordings of 4 thread-pool apps, and the hidden ticks are used only by a thread
    # that is its process's one busy thread (an event loop, a sync worker).
    busy: dict[int, set[int]] = {}
    for key, idx in by_thread.items():
        if len(idx) > 2:
            busy.setdefault(key[0], set()).add(key[1])

    def before(t: float, lone: bool) -> float:
        """The tick before the one that stamped ``t`` (the last one that saw the old stack)."""
        k = tick_of.get(t)
        if k is None:
            k = bisect_right(ticks, t)
        return _last_seen(ticks, k, t, interval_s if lone else None)

    # Gaps to split: (left span, right span, CPU pieces as (cpu, position 0..1 in the gap)).
    gaps: list[tuple[int, int, list[tuple[float, float]]]] = []
    keys: dict[tuple[tuple[str, str], ...], int] = {}
    key_of = [0] * len(spans)
    for i, s in enumerate(spans):
        key_of[i] = keys.setdefault(tuple((f.name, f.file) for f in s.stack), len(keys))
    for key, idx in by_thread.items():
        clock = clocks.threads.get(key)
        if clock is None or not clock.times:
            continue
        idx.sort(key=lambda i: spans[i].start)

        def cpu_at(t: float, clock: ThreadClock = clock) -> float:
            return _at(clock, origin + t)

        lone = len(busy.get(key[0], ())) == 1

        for n, i in enumerate(idx):
            raw, tile = spans[i], tiled[i]
            nxt = idx[n + 1] if n + 1 < len(idx) else None
            joined = nxt is not None and spans[nxt].start == raw.end and raw.end in tick_of
            # A thread's first span (or one after a break) owns the time from its tile's edge.
            lo = min(tile.start, raw.start) if n == 0 or out[i] is None else raw.start
            hi = before(raw.end, lone) if joined else max(tile.end, lo)
            hi = max(hi, lo)
            out[i] = max(cpu_at(hi) - cpu_at(lo), 0.0)
            if joined:
                assert nxt is not None
                a, b = hi, raw.end
                out[nxt] = 0.0
                pieces = _pieces(clock, origin, a, b, cpu_at)
                if pieces:
                    gaps.append((i, nxt, pieces))
    # The CPU rate of each stack: its CPU per second of wall, re-estimated from the split.
    n_keys = len(keys)
    wall = [0.0] * n_keys
    for i, t in enumerate(tiled):
        if out[i] is not None:
            wall[key_of[i]] += max(t.end - t.start, 0.0)
    own = [0.0] * n_keys
    for i, c in enumerate(out):
        if c is not None:
            own[key_of[i]] += c
    total_wall = sum(wall)
    total_cpu = sum(own) + sum(c for _l, _r, ps in gaps for c, _f in ps)
    prior = total_cpu / total_wall if total_wall > 0 else 1.0
    pseudo = 2 * interval_s  # a stack seen only once or twice keeps near the average rate
    rate = [1.0] * n_keys
    share: list[float] = [0.5] * len(gaps)
    for _ in range(_ROUNDS):
        cpu = list(own)
        for g, (left, right, pieces) in enumerate(gaps):
            rl, rr = rate[key_of[left]], rate[key_of[right]]
            to_left = 0.0
            for c, f in pieces:
                wl, wr = rl * (1.0 - f), rr * f
                to_left += c * (wl / (wl + wr) if wl + wr > 0 else 1.0 - f)
            total = sum(c for c, _f in pieces)
            share[g] = to_left / total if total > 0 else 0.5
            cpu[key_of[left]] += to_left
            cpu[key_of[right]] += total - to_left
        rate = [(cpu[k] + prior * pseudo) / (wall[k] + pseudo) for k in range(n_keys)]
    for g, (left, right, pieces) in enumerate(gaps):
        total = sum(c for c, _f in pieces)
        out[left] = (out[left] or 0.0) + total * share[g]
        out[right] = (out[right] or 0.0) + total * (1.0 - share[g])
    return out


_ROUNDS = 8
"""Rounds of re-estimating the stacks' CPU rates (they settle in three or four)."""

SLEEP_RATE = 0.05
"""A stack in which its threads spent most of their time using under 5% of a core sleeps
there (a wait, a select, a blocking read; also, by this measure, a stack that mostly waits
for the GIL, which is as good for lining up the clocks)."""


def _weighted_median(values: list[tuple[float, float]]) -> float:
    """The median of (value, weight) pairs."""
    values = sorted(values)
    half = sum(w for _v, w in values) / 2
    acc = 0.0
    for v, w in values:
        acc += w
        if acc >= half:
            return v
    return values[-1][0] if values else 0.0


def _pieces(
    clock: ThreadClock, origin: float, a: float, b: float, cpu_at: Callable[[float], float]
) -> list[tuple[float, float]]:
    """The CPU a thread's clock shows between py-spy times ``a`` and ``b``, cut at the clock's
    readings: (CPU seconds, the piece's middle as a fraction of the way from a to b)."""
    if b <= a:
        return []
    times = clock.times
    cuts = [a]
    j = bisect_right(times, origin + a)
    while j < len(times) and times[j] < origin + b:
        cuts.append(times[j] - origin)
        j += 1
    cuts.append(b)
    out = []
    for x, y in pairwise(cuts):
        c = cpu_at(y) - cpu_at(x)
        if c > 0:
            out.append((c, ((x + y) / 2 - a) / (b - a)))
    return out


def _tile(spans: list[Span], same_tick_s: float, tick_s: float | None = None) -> list[Span]:
    """Move every span edge from the tick that saw the change to the midpoint between that
    tick and the one before, so each sample stands for the time nearest to it.

    py-spy's ticks are irregular on a busy machine (it falls behind), so the midpoint is taken
    between the real tick times. Every span start is a tick; timestamps less than
    ``same_tick_s`` after the previous one are the same tick (threads handled one by one).
    """
    ticks, tick_of = _ticks(spans, same_tick_s)
    if len(ticks) < 2:
        return spans
    mids = [ticks[0]] + [
        (_last_seen(ticks, k, b, tick_s) + b) / 2 for k, b in enumerate(ticks) if k > 0
    ]

    def edge(t: float) -> float:
        k = tick_of.get(t)
        if k is None:  # the final flush, or a key reused after the thread died
            i = bisect_right(ticks, t)
            return (_last_seen(ticks, i, t, tick_s) + t) / 2 if 0 < i < len(ticks) else t
        return mids[k]

    out = []
    for s in spans:
        start, end = edge(s.start), edge(s.end)
        out.append(replace(s, start=start, end=max(end, start)))
    return out

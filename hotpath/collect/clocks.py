"""Per-thread CPU clocks read from ``/proc`` while py-spy samples the same threads.

``/proc/PID/task/TID/schedstat`` holds three numbers: nanoseconds the thread ran on a CPU,
nanoseconds it waited runnable in a run queue, and its time-slice count. Reading them for every
thread at a steady rate gives, per thread, cumulative curves of on-CPU and runnable time that
:mod:`hotpath.collect.weigh` interpolates at the edges of py-spy's samples.
"""

from __future__ import annotations

import os
import threading
import time
from array import array
from dataclasses import dataclass, field

_PROC = "/proc"


@dataclass
class ThreadClock:
    """Readings for one thread: monotonic seconds, CPU seconds, run-queue seconds."""

    pid: int
    tid: int
    times: array[float] = field(default_factory=lambda: array("d"))
    cpu: array[float] = field(default_factory=lambda: array("d"))
    runq: array[float] = field(default_factory=lambda: array("d"))

    def add(self, t: float, cpu_ns: int, runq_ns: int) -> None:
        self.times.append(t)
        self.cpu.append(cpu_ns / 1e9)
        self.runq.append(runq_ns / 1e9)


@dataclass
class ProcessClock:
    """Per sweep of one process: when it ran, the process's CPU clock (which keeps the CPU of
    threads that have exited) and the sum of its threads' last readings (which cannot: a
    thread's ``/proc`` entry goes when it exits). Their difference is the CPU of threads that
    ran and exited between sweeps, the last milliseconds of a thread-per-request request."""

    pid: int
    starts: array[float] = field(default_factory=lambda: array("d"))
    ends: array[float] = field(default_factory=lambda: array("d"))
    cpu: array[float] = field(default_factory=lambda: array("d"))
    known: array[float] = field(default_factory=lambda: array("d"))


@dataclass(frozen=True)
class ClockRecord:
    """Everything the sampler read: readings per (pid, tid), sweep count and span of time."""

    threads: dict[tuple[int, int], ThreadClock]
    sweeps: int
    started: float
    stopped: float
    processes: dict[int, ProcessClock] = field(default_factory=dict)


def process_cpu(pid: int) -> float | None:
    """Seconds of CPU used by every thread ``pid`` ever had (its CPU-time clock), or None."""
    try:
        # clock_getcpuclockid(pid) for CPUCLOCK_SCHED, as glibc builds it: ((~pid) << 3) | 2.
        return time.clock_gettime(((~pid) << 3) | 2)
    except (OSError, OverflowError):
        return None


def read_schedstat(pid: int, tid: int) -> tuple[int, int] | None:
    """(on-CPU ns, run-queue wait ns) of one thread, or None when it is gone."""
    try:
        with open(f"{_PROC}/{pid}/task/{tid}/schedstat", "rb") as f:
            parts = f.read().split()
        return int(parts[0]), int(parts[1])
    except (OSError, ValueError, IndexError):
        return None


def list_threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"{_PROC}/{pid}/task")]
    except (OSError, ValueError):
        return []


def parent_of(pid: int) -> int | None:
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as f:
            data = f.read()
        # The command name may hold spaces and parentheses: fields resume after the last ')'.
        return int(data[data.rindex(b")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, grandchildren ...), by scanning /proc."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir(_PROC)
    except OSError:
        return []
    for name in names:
        if name.isdigit():
            ppid = parent_of(int(name))
            if ppid is not None:
                children.setdefault(ppid, []).append(int(name))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return sorted(out)


class ClockSampler:
    """A background thread reading every target thread's CPU clock ``rate`` times a second.

    ``find_roots`` returns the process(es) to watch (called again every ``rescan_s`` seconds,
    since a command's process appears only after py-spy starts it); with ``subprocesses`` their
    descendants are watched too.
    """

    def __init__(
        self,
        find_roots: list[int] | None,
        rate: float,
        subprocesses: bool = False,
        rescan_s: float = 0.25,
    ) -> None:
        self._roots_fixed = find_roots
        self.roots: list[int] = list(find_roots or [])
        # At least 200 Hz: request threads live tens of milliseconds.
        self.interval = 1.0 / max(200.0, min(rate, 500.0))
        self.subprocesses = subprocesses
        self.rescan_s = rescan_s
        self.threads: dict[tuple[int, int], ThreadClock] = {}
        self.processes: dict[int, ProcessClock] = {}
        self.sweeps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hotpath-clocks", daemon=True)
        self._pids: list[int] = list(self.roots)
        self.started = 0.0
        self.stopped = 0.0

    def set_roots(self, roots: list[int]) -> None:
        self.roots = list(roots)

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def stop(self) -> ClockRecord:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.stopped = time.monotonic()
        return ClockRecord(self.threads, self.sweeps, self.started, self.stopped, self.processes)

    def _rescan(self) -> None:
        pids = list(self.roots)
        if self.subprocesses:
            for root in self.roots:
                pids.extend(descendants(root))
        self._pids = sorted(set(pids))

    def _run(self) -> None:
        next_scan = 0.0
        next_tick = time.monotonic()
        threads = self.threads
        seen_pids: set[int] = set()
        known: dict[int, float] = {}  # per pid: the sum of its threads' last readings
        last_sweep = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_scan:
                self._rescan()
                next_scan = now + self.rescan_s
            sweep_start = time.monotonic()
            for pid in self._pids:
                t0, p0 = time.monotonic(), process_cpu(pid)
                total = known.get(pid, 0.0)
                for tid in list_threads(pid):
                    reading = read_schedstat(pid, tid)
                    if reading is None:
                        continue
                    clock = threads.get((pid, tid))
                    if clock is None:
                        clock = threads[(pid, tid)] = ThreadClock(pid, tid)
                        if pid in seen_pids:
                            # Born since the last sweep, when it had used no CPU: without this
                            # reading the CPU before its first one would be lost.
                            clock.add(last_sweep, 0, 0)
                    before = clock.cpu[-1] if clock.cpu else 0.0
                    clock.add(time.monotonic(), reading[0], reading[1])
                    total += clock.cpu[-1] - before
                known[pid] = total
                p1 = process_cpu(pid)
                if p0 is not None and p1 is not None:
                    proc = self.processes.get(pid)
                    if proc is None:
                        proc = self.processes[pid] = ProcessClock(pid)
                    proc.starts.append(t0)
                    proc.ends.append(time.monotonic())
                    proc.cpu.append((p0 + p1) / 2)
                    proc.known.append(total)
                seen_pids.add(pid)
            last_sweep = sweep_start
            self.sweeps += 1
            next_tick += self.interval
            delay = next_tick - time.monotonic()
            if delay < -self.interval:  # fell behind (busy machine): do not try to catch up
                next_tick = time.monotonic()
                delay = 0.0
            self._stop.wait(max(delay, 0.0))

"""How well the two timelines hotpath joins keep time (docs/collect.md, "Torn stacks"; by hand).

    .venv/bin/python -m benchmarks.timing [--seconds 3]

1. **The per-thread CPU clock.** A child thread spins 20 ms and sleeps 20 ms, logging when
   each burst began and ended. Read from this process every 0.5 ms, ``schedstat`` (what
   hotpath reads) and a ``perf_event_open`` task clock (where the kernel allows it): how long
   after a burst began each first showed 0.5 ms more CPU, and how long after it ended the last
   rise showed. schedstat is brought up to date at the scheduler tick and when a thread stops.
2. **py-spy's stamps.** The pool of ``tests/collect/fixtures/pool/pool_app.py`` with N workers,
   given one 5 ms task per worker every 20 ms, logs when each task began; hotpath records it
   (its default flags) and the spans say when py-spy first showed each task. Printed: that
   delay, per N (its median includes the offset between the timelines, which hotpath
   estimates; the spread does not).
"""

from __future__ import annotations

import argparse
import bisect
import ctypes
import json
import os
import struct
import subprocess
import sys
import time

from hotpath.collect.chrometrace import Span

_BURSTS = r"""
import sys, threading, time
log = []
def work():
    for _ in range(int(float(sys.argv[1]) / 0.04)):
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.02:
            pass
        log.append((t0, time.monotonic()))
        time.sleep(0.02)
th = threading.Thread(target=work)
th.start()
print(th.native_id, flush=True)
th.join()
print(repr(log), flush=True)
"""


class _PerfAttr(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
        ("config", ctypes.c_uint64),
        ("rest", ctypes.c_uint64 * 14),
    ]


def _task_clock(tid: int) -> int | None:
    """A perf task-clock counter of thread ``tid`` (x86-64 Linux), or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        attr = _PerfAttr(1, ctypes.sizeof(_PerfAttr), 1)  # PERF_TYPE_SOFTWARE, TASK_CLOCK
        fd = int(libc.syscall(298, ctypes.byref(attr), tid, -1, -1, 0))
    except (OSError, AttributeError):
        return None
    return fd if fd >= 0 else None


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    v = sorted(values)

    def q(p: float) -> float:
        return v[int(p * (len(v) - 1))]

    return f"median {q(0.5):+.2f} ms (p5 {q(0.05):+.2f}, p95 {q(0.95):+.2f}, n {len(v)})"


def clock_lag(seconds: float) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _BURSTS, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        tid = int(child.stdout.readline())
        fd = _task_clock(tid)
        reads: dict[str, list[tuple[float, float]]] = {"schedstat": [], "perf": []}
        while child.poll() is None:
            try:
                with open(f"/proc/{child.pid}/task/{tid}/schedstat", "rb") as f:
                    reads["schedstat"].append((time.monotonic(), int(f.read().split()[0]) / 1e9))
                if fd is not None:
                    value = struct.unpack("Q", os.read(fd, 8))[0] / 1e9
                    reads["perf"].append((time.monotonic(), value))
            except (OSError, ValueError, IndexError):
                break
            time.sleep(0.0005)
        bursts = json.loads(child.stdout.readline().replace("(", "[").replace(")", "]"))
    finally:
        child.wait()
    for name, rs in reads.items():
        if not rs:
            print(f"{name}: not readable here")
            continue
        times = [t for t, _ in rs]

        def cpu_at(t: float, rs: list[tuple[float, float]] = rs) -> float:
            return rs[max(bisect.bisect_right([r[0] for r in rs], t) - 1, 0)][1]

        starts, ends = [], []
        for t0, t1 in bursts[2:-2]:
            base = cpu_at(t0 - 0.005)
            i = bisect.bisect_left(times, t0 - 0.005)
            while i < len(rs) and rs[i][1] - base < 0.0005:
                i += 1
            if i < len(rs):
                starts.append((rs[i][0] - t0) * 1000)
            top = cpu_at(t1 + 0.015)
            j = bisect.bisect_left(times, t1 - 0.005)
            while j < len(rs) and top - rs[j][1] > 0.0005:
                j += 1
            if j < len(rs):
                ends.append((rs[j][0] - t1) * 1000)
        print(f"{name}: burst start seen {_quantiles(starts)}; end {_quantiles(ends)}")


def pyspy_stamps(seconds: float, workers: int) -> None:
    from tests.collect.fixtures.pool.record import attach_pool

    # Every 20 ms one 5 ms task per worker: each leaves a Condition.wait for it.
    run = attach_pool(workers, seconds, every=0.02, per_tick=workers)
    origin = run.opts.origin
    first: dict[int | None, list[float]] = {}
    by_thread: dict[int | None, list[Span]] = {}
    for s in run.spans:
        by_thread.setdefault(s.tid, []).append(s)
    for tid, ss in by_thread.items():
        ss.sort(key=lambda s: s.start)
        first[tid] = [
            origin + s.start
            for i, s in enumerate(ss)
            if s.stack
            and s.stack[-1].name == "task"
            and (i == 0 or not ss[i - 1].stack or ss[i - 1].stack[-1].name != "task")
        ]
    seen = []
    for tid, t0, _t1, _cpu in run.log:
        st = first.get(tid, [])
        i = bisect.bisect_left(st, t0 - 0.004)
        inside = run.started + 0.05 < t0 < run.stopped - 0.05
        if inside and i < len(st) and st[i] - t0 < 0.015:
            seen.append((st[i] - t0) * 1000)
    print(f"py-spy, {workers} worker(s): a call first seen {_quantiles(seen)} after it began")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.timing")
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args(argv)
    clock_lag(args.seconds)
    for n in (1, 4):
        pyspy_stamps(args.seconds, n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

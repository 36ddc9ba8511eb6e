"""The /proc clock sampler against the target's own time.thread_time()."""

from __future__ import annotations

import subprocess
import sys

from hotpath.collect.clocks import ClockSampler, descendants, read_schedstat

BUSY = """
import sys, threading, time
def spin():
    t = time.monotonic()
    while time.monotonic() - t < 1.0:
        pass
    print(threading.get_native_id(), time.thread_time(), flush=True)
th = threading.Thread(target=spin); th.start(); th.join()
time.sleep(0.3)
"""


def test_clock_sampler_matches_thread_time_of_the_target() -> None:
    proc = subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE, text=True)
    sampler = ClockSampler([proc.pid], rate=200)
    sampler.start()
    assert proc.stdout is not None
    tid_s, cpu_s = proc.stdout.readline().split()
    proc.wait(10)
    record = sampler.stop()
    clock = record.threads[(proc.pid, int(tid_s))]
    # The thread's final reading is within one sweep of its own final clock.
    assert abs(clock.cpu[-1] - float(cpu_s)) < 0.05, (clock.cpu[-1], cpu_s)
    assert list(clock.times) == sorted(clock.times)
    assert clock.cpu[0] == 0.0  # born after the first sweep: a zero reading was added


def test_descendants_and_schedstat_of_a_child() -> None:
    code = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3)']); "
        "time.sleep(3)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        import time

        deadline = time.monotonic() + 5
        while not descendants(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        kids = descendants(proc.pid)
        assert len(kids) == 1
        assert read_schedstat(kids[0], kids[0]) is not None
    finally:
        proc.kill()
        proc.wait()
    assert read_schedstat(proc.pid, proc.pid) is None

"""Target for py-spy tests: a thread that burns CPU and a thread that sleeps.

Runs for argv[1] seconds (default 3), then prints JSON with each thread's self-measured CPU
seconds (time.thread_time) and OS thread id, so tests compare hotpath with the truth.
"""

import json
import sys
import threading
import time

DURATION = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
results: dict[str, dict[str, float]] = {}


def spin_cpu(stop: float) -> None:
    t0 = time.thread_time()
    x = 0
    while time.monotonic() < stop:
        for i in range(2000):
            x += i * i
    results["burner"] = {"cpu_s": time.thread_time() - t0, "tid": threading.get_native_id()}


def nap(stop: float) -> None:
    t0 = time.thread_time()
    while time.monotonic() < stop:
        time.sleep(0.02)
    results["sleeper"] = {"cpu_s": time.thread_time() - t0, "tid": threading.get_native_id()}


stop_at = time.monotonic() + DURATION
threads = [
    threading.Thread(target=spin_cpu, args=(stop_at,), name="burner"),
    threading.Thread(target=nap, args=(stop_at,), name="sleeper"),
]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(results), flush=True)

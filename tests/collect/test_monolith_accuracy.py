"""Endpoint CPU shares from py-spy + per-thread clocks vs the monolith's own measurement.

The sample monolith measures ``time.thread_time()`` around every request (``GET /__stats``).
We attach to it under 4 concurrent clients on this 2-core machine, recognise endpoints from the
stacks and compare each endpoint's CPU share with that truth. py-spy samples at 500 Hz without
pausing the target, which costs it no more than 100-200 Hz with pauses (benchmarks/
pyspy_overhead.py): at 200 Hz its ticks fall 7 ms apart and miss most 3.5 ms requests' views
(errors up to 7 points; docs/collect.md has both series).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hotpath.analysis.recognize import label_endpoints
from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
from hotpath.demo import truth
from hotpath.demo.load import LoadOptions, run_load
from hotpath.model import ENDPOINT, cpu_view
from tests.collect.support import require_ptrace


def _stats(port: int) -> dict[str, dict[str, float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats", timeout=10) as r:
        endpoints: dict[str, dict[str, float]] = json.loads(r.read())["endpoints"]
        return endpoints


def measure_errors(
    tmp: Path, seconds: float = 6.0, rate: int = 500, nonblocking: bool = True
) -> dict[str, float]:
    """Per endpoint: our CPU share minus the monolith's (percentage points)."""
    tmp.mkdir(parents=True, exist_ok=True)
    port_file = tmp / "port"
    server = subprocess.Popen(
        [sys.executable, "-m", "hotpath.demo.app", "--port", "0", "--port-file", str(port_file)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        port = int(port_file.read_text())
        run_load(LoadOptions(port, clients=4, requests=24, duration_s=10))  # warm up
        before = _stats(port)
        rec = PySpyRecorder(server.pid, RecordOptions(rate=rate, nonblocking=nonblocking))
        rec.start()
        run_load(LoadOptions(port, clients=4, requests=100_000, duration_s=seconds))
        rec.stop()
        profile = rec.wait().profile
        after = _stats(port)
    finally:
        server.terminate()
        server.wait(10)
    names = {e.view: e.name for e in truth.ENDPOINTS}
    true_cpu = {
        k: v["cpu_s"] - before.get(k, {}).get("cpu_s", 0.0)
        for k, v in after.items()
        if k in truth.BY_NAME
    }
    ours: dict[str, float] = dict.fromkeys(true_cpu, 0.0)
    for _frames, labels, w in cpu_view(label_endpoints(profile)).iter_samples():
        name = names.get(dict(labels).get(ENDPOINT, ""))
        if name in ours:
            ours[name] += w
    t_total, o_total = sum(true_cpu.values()), sum(ours.values())
    assert t_total > 0 and o_total > 0
    return {k: 100 * (ours[k] / o_total - true_cpu[k] / t_total) for k in true_cpu}


LIMIT = 5.0
RUNS, NEED = 2, 1
"""Measured: worst endpoint 0.7-1.1 points in 3 runs at load 3.6 (before the thread-pool
weighing: 2.5-3.4 points in 10 runs, once 5.4; docs/collect.md). A run that misses is taken
again once: the test passes on 1 of 2, so one unlucky run does not fail CI while a real
regression still does."""


def test_monolith_endpoint_cpu_shares_within_5_points(tmp_path: Path) -> None:
    require_ptrace()
    seen = []
    for i in range(RUNS):
        errors = measure_errors(tmp_path / str(i))
        print("errors (points):", {k: round(v, 1) for k, v in errors.items()})
        seen.append(errors)
        if sum(max(abs(e) for e in r.values()) <= LIMIT for r in seen) >= NEED:
            return
    raise AssertionError(f"fewer than {NEED} of {RUNS} runs within {LIMIT} points: {seen}")


if __name__ == "__main__":  # python -m tests.collect.test_monolith_accuracy [runs] [rate] [block]
    import tempfile

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    blocking = len(sys.argv) > 3 and sys.argv[3] == "block"
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as d:
            errs = measure_errors(Path(d), rate=rate, nonblocking=not blocking)
        print(" ".join(f"{k}:{v:+.1f}" for k, v in sorted(errs.items())), flush=True)
    os._exit(0)

"""Endpoint CPU shares on thread-pool servers, default ``hotpath attach`` settings.

Three real servers with a pool of 4 threads each (waitress + Flask, gunicorn gthread + Django
REST framework, uvicorn + FastAPI's sync endpoints in anyio's worker threads) serve the same
three endpoints (a pure-Python loop, a SQLite query, a big ``json.dumps``) to 4 loopback
clients on this 2-core machine; each endpoint measures its own ``time.thread_time()``
(:mod:`tests.collect.threadpool`). An endpoint's CPU share is compared two ways: of the three
endpoints' CPU, and of the whole process's CPU (CPU put on ``Condition.wait``, executor
``_worker`` or ``select`` frames shows there). The limit is 5 points on both.

Measured with these defaults (500 Hz, not pausing), 6 s each, load average 10-20 on the machine
from other work: worst 2.3-5.9 points over 10 runs (docs/collect.md). A run is taken again
once when it misses, and the test passes on 1 of 2. By hand, with every run printed::

    python -m tests.collect.test_threadpool_accuracy [RUNS] [SECONDS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hotpath.formats.files import read_profile
from hotpath.model import PID, cpu_view
from tests.collect.support import hotpath_cmd, require_ptrace
from tests.collect.threadpool.harness import (
    SERVERS,
    Measurement,
    describe,
    drive,
    endpoint_cpu,
    measure,
    serve,
)

LIMIT = 5.0
RUNS, NEED = 2, 1
SECONDS = 6.0
CI_SERVERS = ("waitress-flask", "gunicorn-drf", "uvicorn-fastapi")


def within_limit(server: str, runs: int = RUNS, need: int = NEED) -> list[Measurement]:
    """Measure until ``need`` runs are within the limit; fail after ``runs`` runs."""
    seen: list[Measurement] = []
    for _ in range(runs):
        m = measure(server, SECONDS)
        seen.append(m)
        print(server, describe(m))
        assert all(v > 0 for v in m.ours_cpu.values()), f"an endpoint not recognised: {m}"
        if sum(r.worst <= LIMIT for r in seen) >= need:
            return seen
    raise AssertionError(
        f"{server}: fewer than {need} of {runs} runs within {LIMIT} points: "
        + "; ".join(describe(r) for r in seen)
    )


@pytest.mark.parametrize("server", CI_SERVERS)
def test_thread_pool_endpoint_cpu_shares_within_5_points(server: str) -> None:
    require_ptrace()
    within_limit(server)


def test_attach_to_a_gunicorn_master_follows_its_workers(tmp_path: Path) -> None:
    """gunicorn (gthread, 2 workers) attached by its master's PID with default flags: the
    master serves no request; hotpath says in one line that it samples the workers, and the
    profile holds both workers' CPU with the endpoints recognised."""
    require_ptrace()
    out = tmp_path / "master.hotpath"
    with serve("gunicorn-drf-2") as s:
        drive(s.port, 4, 1.5, limit=40)  # both workers up and warm
        stop = threading.Event()

        def load() -> None:  # for as long as hotpath takes to start and record (bounded)
            for _ in range(90):
                if stop.is_set():
                    return
                drive(s.port, 4, 1.0)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        try:
            done = subprocess.run(
                [*hotpath_cmd(), "attach", str(s.proc.pid), "-d", "4", "-o", str(out)],
                capture_output=True,
                timeout=90,
            )
        finally:
            stop.set()
            loader.join(30)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    notes = [ln for ln in err.splitlines() if "child process" in ln]
    assert len(notes) == 1 and "--subprocesses" in notes[0], err
    profile = read_profile(out)
    by_pid: dict[str, float] = {}
    for _frames, labels, w in cpu_view(profile).iter_samples():
        pid = dict(labels).get(PID, "")
        by_pid[pid] = by_pid.get(pid, 0.0) + w
    workers = {p for p, cpu in by_pid.items() if p != str(s.proc.pid) and cpu > 0.05}
    assert len(workers) == 2, by_pid
    ours, _total = endpoint_cpu(profile)
    assert all(v > 0 for v in ours.values()), ours


if __name__ == "__main__":  # python -m tests.collect.test_threadpool_accuracy [runs] [seconds]
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else SECONDS
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    for name in SERVERS:
        for _ in range(runs):
            print(f"{name:16s}", describe(measure(name, SECONDS)), flush=True)
    os._exit(0)

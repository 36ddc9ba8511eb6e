"""Serve a thread-pool app, attach hotpath under bounded load, compare CPU shares with truth.

    python -m tests.collect.threadpool.harness SERVER [RUNS] [SECONDS] [RATE] [block|nonblock]

SERVER is one of :data:`SERVERS`. Each run prints, per endpoint, hotpath's CPU share minus the
app's own (percentage points) of the three endpoints' total and of the process's CPU.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotpath.analysis.recognize import label_endpoints
from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
from hotpath.model import ENDPOINT, Profile, cpu_view
from tests.collect.threadpool.work import ENDPOINTS

ROOT = Path(__file__).resolve().parents[3]
_PKG = "tests.collect.threadpool"


def _command(server: str, port: int) -> list[str]:
    py = sys.executable
    listen = f"127.0.0.1:{port}"
    if server == "waitress-flask":
        return [py, "-m", "waitress", "--threads=4", f"--listen={listen}", f"{_PKG}.flask_app:app"]
    if server == "waitress-drf":
        return [py, "-m", "waitress", "--threads=4", f"--listen={listen}",
                f"{_PKG}.drf_app:application"]  # fmt: skip
    if server.startswith("gunicorn-drf"):
        workers = "2" if server == "gunicorn-drf-2" else "1"
        return [py, "-m", "gunicorn", "-k", "gthread", "--threads", "4", "-w", workers,
                "-b", listen, "--log-level", "warning", f"{_PKG}.drf_app:application"]  # fmt: skip
    if server == "uvicorn-fastapi":
        return [py, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", f"{_PKG}.fastapi_app:app"]  # fmt: skip
    raise ValueError(f"unknown server {server!r}")


SERVERS = ("waitress-flask", "waitress-drf", "gunicorn-drf", "uvicorn-fastapi")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def stats(port: int) -> dict[str, Any]:
    status, body = get(port, "/__stats")
    assert status == 200, body[:200]
    out: dict[str, Any] = json.loads(body)
    return out


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    worker_pid: int
    """The process that serves requests (gunicorn's worker, not its master)."""


@contextmanager
def serve(server: str) -> Iterator[Served]:
    """Start ``server`` on 127.0.0.1; stop it (by its PID) afterwards."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        _command(server, port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"{server} exited: {err[-2000:]}")
            try:
                pid = int(stats(port)["pid"])
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield Served(proc, port, pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def drive(port: int, clients: int, seconds: float, limit: int = 100_000) -> dict[str, int]:
    """Bounded load: ``clients`` threads cycling over the endpoints until the count or time."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    counter = [0]
    done: dict[str, int] = {}

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                n = counter[0]
                if n >= limit:
                    return
                counter[0] += 1
            name = ENDPOINTS[n % len(ENDPOINTS)]
            try:
                status, _ = get(port, f"/{name}")
            except (OSError, http.client.HTTPException):
                status = 0
            with lock:
                key = name if status == 200 else f"{name} failed"
                done[key] = done.get(key, 0) + 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    return done


def endpoint_of(label: str) -> str | None:
    """Which of the three endpoints a recognised endpoint label names."""
    low = label.lower()
    hits = [e for e in ENDPOINTS if e in low]
    return hits[0] if len(hits) == 1 else None


@dataclass
class Measurement:
    of_endpoints: dict[str, float]
    """Per endpoint: hotpath's share of the three endpoints' CPU minus the app's (points)."""
    of_process: dict[str, float]
    """Per endpoint: hotpath's share of all the profile's CPU minus the app's share of the
    process's CPU (points): CPU misplaced onto idle or server frames shows here."""
    ours_cpu: dict[str, float]
    true_cpu: dict[str, float]
    profile_cpu: float
    process_cpu: float
    requests: dict[str, int]
    profile: Profile | None = field(default=None, repr=False)

    @property
    def worst(self) -> float:
        return max(abs(v) for v in [*self.of_endpoints.values(), *self.of_process.values()])


def endpoint_cpu(profile: Profile) -> tuple[dict[str, float], float]:
    ours = dict.fromkeys(ENDPOINTS, 0.0)
    total = 0.0
    for _frames, labels, w in cpu_view(label_endpoints(profile)).iter_samples():
        total += w
        name = endpoint_of(dict(labels).get(ENDPOINT, ""))
        if name is not None:
            ours[name] += w
    return ours, total


def measure(
    server: str,
    seconds: float = 6.0,
    options: RecordOptions | None = None,
    clients: int = 4,
    keep_profile: bool = False,
) -> Measurement:
    with serve(server) as s:
        drive(s.port, clients, 1.5, limit=60)  # warm up: every pool thread has served
        before = stats(s.port)
        rec = PySpyRecorder(s.worker_pid, options or RecordOptions())
        rec.start()
        time.sleep(0.3)  # py-spy attaches
        requests = drive(s.port, clients, seconds)
        after = stats(s.port)
        rec.stop()
        profile = rec.wait().profile
    true_cpu = {
        k: after["endpoints"].get(k, {}).get("cpu_s", 0.0)
        - before["endpoints"].get(k, {}).get("cpu_s", 0.0)
        for k in ENDPOINTS
    }
    process_cpu = after["process_cpu_s"] - before["process_cpu_s"]
    ours, total = endpoint_cpu(profile)
    t_sum, o_sum = sum(true_cpu.values()), sum(ours.values())
    assert t_sum > 0 and total > 0, (true_cpu, ours)
    return Measurement(
        of_endpoints={
            k: 100 * ((ours[k] / o_sum if o_sum else 0.0) - true_cpu[k] / t_sum) for k in ENDPOINTS
        },
        of_process={k: 100 * (ours[k] / total - true_cpu[k] / process_cpu) for k in ENDPOINTS},
        ours_cpu=ours,
        true_cpu=true_cpu,
        profile_cpu=total,
        process_cpu=process_cpu,
        requests=requests,
        profile=profile if keep_profile else None,
    )


def describe(m: Measurement) -> str:
    ends = " ".join(f"{k}:{v:+.1f}" for k, v in m.of_endpoints.items())
    proc = " ".join(f"{k}:{v:+.1f}" for k, v in m.of_process.items())
    return (
        f"worst {m.worst:4.1f} | of endpoints {ends} | of process {proc} | "
        f"endpoints {sum(m.ours_cpu.values()):.2f}/{sum(m.true_cpu.values()):.2f} s, "
        f"all {m.profile_cpu:.2f}/{m.process_cpu:.2f} s | {sum(m.requests.values())} requests"
    )


def main(argv: list[str]) -> None:
    server = argv[0]
    runs = int(argv[1]) if len(argv) > 1 else 3
    seconds = float(argv[2]) if len(argv) > 2 else 6.0
    options = RecordOptions()
    if len(argv) > 3:
        options = RecordOptions(rate=int(argv[3]), nonblocking=argv[4:5] == ["nonblock"])
    print(f"{server}: rate {options.rate}, nonblocking {options.nonblocking}, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    for _ in range(runs):
        print(describe(measure(server, seconds, options)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)

"""The second monolith's request plan and a bounded load driver (loopback only)."""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

MIX = {"article": 8, "settings": 8, "suggest": 6, "report": 2, "export": 8}
"""Requests of each endpoint per block of the plan."""


def plan(blocks: int, seed: int = 1) -> list[str]:
    """The same shuffled request paths for every server and round."""
    rng = random.Random(seed)
    paths = []
    for b in range(blocks):
        block = [
            f"/{name}/{b * 7 + i}" if name != "report" else "/report"
            for name, count in MIX.items()
            for i in range(count)
        ]
        rng.shuffle(block)
        paths += block
    return paths


def run_plan(port: int, paths: list[str], clients: int = 4, duration_s: float = 60.0) -> int:
    """Send ``paths`` with ``clients`` keep-alive connections; stop at the end or the deadline.
    Returns the number of 200 answers."""
    todo = iter(paths)
    lock = threading.Lock()
    deadline = time.monotonic() + duration_s
    ok = [0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.monotonic() < deadline:
                with lock:
                    path = next(todo, None)
                if path is None:
                    return
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    with lock:
                        ok[0] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok[0]


def stats(port: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/__stats")
        out: dict[str, Any] = json.loads(conn.getresponse().read())
        return out
    finally:
        conn.close()


class Server:
    """The monolith in a child process on a free loopback port (``swapped``: MONOLITH2_RUST)."""

    def __init__(self, tmp: Path, swapped: str = "") -> None:
        self.port_file = tmp / f"port-{swapped or 'original'}"
        env = {**os.environ, "MONOLITH2_RUST": swapped}
        root = Path(__file__).resolve().parents[2]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.monolith2.app", "--port-file", str(self.port_file)],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"monolith2 ({swapped or 'original'}) did not start")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

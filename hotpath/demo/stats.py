"""Self-measured truth: per-endpoint request count, thread CPU seconds and wall seconds."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

SCHEMA = "hotpath.demo.stats/1"


class Stats:
    """Thread-safe accumulator; :meth:`snapshot` is the JSON the monolith publishes."""

    def __init__(self, stub_kernel: bool = False) -> None:
        self._lock = threading.Lock()
        self._endpoints: dict[str, list[float]] = {}
        self.stub_kernel = stub_kernel
        self.started = time.time()

    def record(self, endpoint: str, cpu_s: float, wall_s: float) -> None:
        with self._lock:
            row = self._endpoints.setdefault(endpoint, [0, 0.0, 0.0])
            row[0] += 1
            row[1] += cpu_s
            row[2] += wall_s

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            rows = {k: list(v) for k, v in self._endpoints.items()}
        total_cpu = sum(r[1] for r in rows.values())
        return {
            "schema": SCHEMA,
            "pid": os.getpid(),
            "stub_kernel": self.stub_kernel,
            "started": self.started,
            "elapsed_s": time.time() - self.started,
            "requests": int(sum(r[0] for r in rows.values())),
            "cpu_s": total_cpu,
            "endpoints": {
                name: {
                    "count": int(r[0]),
                    "cpu_s": r[1],
                    "wall_s": r[2],
                    "cpu_share": r[1] / total_cpu if total_cpu else 0.0,
                    "cpu_per_request_s": r[1] / r[0] if r[0] else 0.0,
                }
                for name, r in sorted(rows.items())
            },
        }

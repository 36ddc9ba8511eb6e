"""The three endpoint bodies every corpus app serves, and their own CPU accounting.

Each body is timed with ``time.thread_time()`` around it (bodies never await, so an async
handler's body runs in one step of one thread) and added to process-wide totals, which
every app serves as JSON at ``/__stats``: the truth the CPU-share checks compare with.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

ENDPOINTS = ("loop", "sql", "json")
PATHS = {"loop": "/loop/7", "sql": "/sql", "json": "/json"}
"""What the load requests; ``/loop/{n}`` has a path parameter so that a route *template*
is what the middleware must name."""

_lock = threading.Lock()
_cpu: dict[str, float] = dict.fromkeys(ENDPOINTS, 0.0)
_count: dict[str, int] = dict.fromkeys(ENDPOINTS, 0)
_local = threading.local()


def burn_loop(n: int) -> int:
    """Pure-Python work (~3 ms)."""
    total = 0
    for i in range(30_000 + n):
        total += (i * i) % 7
    return total


def _db() -> sqlite3.Connection:
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")
        db.executemany(
            "INSERT INTO t (k, v) VALUES (?, ?)", ((i % 97, f"v{i}") for i in range(20_000))
        )
        _local.db = db
    return db


def run_query(db: sqlite3.Connection) -> int:
    """A SQLite aggregation (~3 ms, native code that releases the GIL)."""
    rows = db.execute(
        "SELECT k, COUNT(*), MAX(v) FROM t WHERE v LIKE '%7%' GROUP BY k ORDER BY k"
    ).fetchall()
    return len(rows)


_DOC = [{"id": i, "name": f"item {i}", "tags": ["a", "b", str(i)], "x": i / 3} for i in range(2000)]


def dump_json() -> int:
    """A big ``json.dumps`` (~3 ms, the C encoder)."""
    return len(json.dumps(_DOC))


def timed(endpoint: str, fn: Callable[[], T]) -> T:
    """Run an endpoint body, adding its thread CPU time to the endpoint's total."""
    t0 = time.thread_time()
    try:
        return fn()
    finally:
        dt = time.thread_time() - t0
        with _lock:
            _cpu[endpoint] += dt
            _count[endpoint] += 1


def loop_body(n: int) -> dict[str, Any]:
    return {"loop": timed("loop", lambda: burn_loop(n))}


def sql_body() -> dict[str, Any]:
    db = _db()  # built once per thread, outside the timed body
    return {"rows": timed("sql", lambda: run_query(db))}


def json_body() -> dict[str, Any]:
    return {"bytes": timed("json", dump_json)}


def stats() -> dict[str, Any]:
    with _lock:
        return {
            "pid": os.getpid(),
            "cpu_s": dict(_cpu),
            "count": dict(_count),
        }


def stats_json() -> str:
    return json.dumps(stats())


def warm() -> None:
    """Build the per-thread database of the calling thread (done again in each thread)."""
    _db()


def middleware_dir() -> str | None:
    """Where the hotpath middleware writes, when the test asked for it."""
    return os.environ.get("HOTPATH_CORPUS_OUT") or None


MW_OPTIONS: dict[str, Any] = {"sample_fraction": 0.05, "flush_interval_s": 3600.0}
"""Only the exit path writes the file: the tests check that it runs on each server."""

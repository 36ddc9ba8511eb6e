"""The three endpoints' work and the per-endpoint CPU truth every app publishes.

``loop`` is pure-Python CPU, ``sqlite`` an aggregate query computed in SQLite's C code (the
GIL released), ``json`` a big ``json.dumps`` (C, GIL held). Each request measures its own
thread CPU time with ``time.thread_time()``; ``GET /__stats`` returns the totals per endpoint
and the process's CPU time, so a test can compare a profile's endpoint shares with them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ENDPOINTS = ("loop", "sqlite", "json")
LOOP_N = 70_000
ROWS = 10_000
DOC = {
    "items": [
        {"id": i, "name": f"item-{i}", "tags": ["a", "b", "c"], "price": i * 0.5, "ok": i % 2 == 0}
        for i in range(2_500)
    ]
}

_local = threading.local()
_lock = threading.Lock()
_totals: dict[str, list[float]] = {}
_requests: list[tuple[int, str, float, float, float]] = []
"""With HOTPATH_TEST_REQUEST_LOG set: (native thread id, endpoint, monotonic start and end,
thread CPU seconds) per request, for diagnosing where a profile put each request's CPU."""
_LOG = bool(os.environ.get("HOTPATH_TEST_REQUEST_LOG"))


@contextmanager
def measured(endpoint: str) -> Iterator[None]:
    """Add the thread CPU time of the block to ``endpoint``'s total."""
    w0, t0 = time.monotonic(), time.thread_time()
    try:
        yield
    finally:
        cpu = time.thread_time() - t0
        with _lock:
            row = _totals.setdefault(endpoint, [0, 0.0])
            row[0] += 1
            row[1] += cpu
            if _LOG and len(_requests) < 200_000:
                _requests.append((threading.get_native_id(), endpoint, w0, time.monotonic(), cpu))


def stats() -> dict[str, Any]:
    with _lock:
        rows = {k: {"count": int(v[0]), "cpu_s": v[1]} for k, v in _totals.items()}
    out: dict[str, Any] = {
        "pid": os.getpid(),
        "process_cpu_s": time.process_time(),
        "endpoints": rows,
    }
    if _LOG:
        out["requests"] = list(_requests)
    return out


def loop_work() -> int:
    """Pure-Python CPU: a few milliseconds of arithmetic and string building."""
    acc = 0
    for i in range(LOOP_N):
        acc = (acc * 31 + i) % 1_000_003
        if i % 7 == 0:
            acc ^= len(str(acc))
    return acc


def connection() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER, v REAL, s TEXT)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            ((i, i % 37, (i * 7919) % 1000 / 7, f"s{i % 101}") for i in range(ROWS)),
        )
        conn.commit()
        _local.conn = conn
    return conn


def sqlite_work() -> list[Any]:
    """SQLite-bound: an aggregate over every row, computed in C without the GIL."""
    query = "SELECT g, COUNT(*), SUM(v), AVG(v), COUNT(DISTINCT s) FROM t GROUP BY g ORDER BY 3"
    return connection().execute(query).fetchall()


def json_work() -> int:
    """Native with the GIL: serialise a big document."""
    return len(json.dumps(DOC))


WORK = {"loop": loop_work, "sqlite": sqlite_work, "json": json_work}


def run(endpoint: str) -> dict[str, Any]:
    """Do one request's work for ``endpoint``, measured; a small JSON-able result."""
    if endpoint == "sqlite":
        connection()  # a new thread builds its database first, outside the measurement
    with measured(endpoint):
        out = WORK[endpoint]()
    return {"endpoint": endpoint, "n": out if isinstance(out, int) else len(out)}

"""The monolith's data: a SQLite database built once at start-up, and in-memory corpora.

Everything is generated from a fixed seed so every run (and every recording) does the same
work. Each thread opens its own SQLite connection to one temporary file, as a threaded server
with a connection per worker would.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

SEED = 20260101
CUSTOMERS = 2_000
ORDERS = 30_000
REGIONS = ("north", "south", "east", "west", "central", "islands")
PRODUCTS = tuple(f"product-{i:03d}" for i in range(200))
STATUSES = ("new", "paid", "shipped", "returned")
_SYLLABLES = ("ka", "lo", "mi", "ru", "te", "sa", "no", "vi", "pe", "zu", "qua", "ren")


def _word(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(low, high)))


@dataclass(frozen=True)
class Corpus:
    """Read-only data the views use (never mutated after start-up, so threads can share it)."""

    names: tuple[str, ...]
    queries: tuple[str, ...]
    raw_tags: tuple[str, ...]
    document: dict[str, Any]


def build_corpus() -> Corpus:
    rng = random.Random(SEED)
    names = tuple(_word(rng, 3, 5) for _ in range(4_000))
    queries = tuple(_word(rng, 3, 5) for _ in range(64))
    raw_tags = tuple(
        rng.choice(("  ", "", " ", "#"))
        + rng.choice((str.upper, str.lower, str.title))(_word(rng, 1, 3) + " " + _word(rng, 1, 2))
        + rng.choice(("", " ", "  ", "!", "."))
        for _ in range(20_000)
    )
    document = {
        "items": [
            {
                "id": i,
                "name": names[i % len(names)],
                "tags": [raw_tags[(i * 7 + k) % len(raw_tags)] for k in range(3)],
                "price": round(rng.uniform(1, 500), 2),
                "stock": rng.randint(0, 1000),
                "active": rng.random() < 0.8,
            }
            for i in range(500)
        ]
    }
    return Corpus(names, queries, raw_tags, document)


class Database:
    """A SQLite file in a private temporary directory; one connection per thread."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="hotpath-demo-")
        self.path = os.path.join(self._dir, "shop.sqlite3")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        self._populate()

    def _populate(self) -> None:
        rng = random.Random(SEED + 1)
        conn = sqlite3.connect(self.path)
        with conn:
            conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, region TEXT)")
            conn.execute(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, product TEXT,"
                " quantity INTEGER, price REAL, status TEXT, created INTEGER)"
            )
            conn.executemany(
                "INSERT INTO customers VALUES (?, ?, ?)",
                ((i, _word(rng, 2, 4), rng.choice(REGIONS)) for i in range(CUSTOMERS)),
            )
            conn.executemany(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        i,
                        rng.randrange(CUSTOMERS),
                        rng.choice(PRODUCTS),
                        rng.randint(1, 9),
                        round(rng.uniform(1, 500), 2),
                        rng.choice(STATUSES),
                        rng.randrange(1_000_000),
                    )
                    for i in range(ORDERS)
                ),
            )
            conn.execute("CREATE INDEX orders_created ON orders (created)")
        conn.close()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so close() can run from the shutting-down thread.
            conn = sqlite3.connect(self.path, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        shutil.rmtree(self._dir, ignore_errors=True)

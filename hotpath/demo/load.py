"""A bounded load driver for the sample monolith (loopback only).

Stops by itself after ``--requests`` requests in total or ``--duration`` seconds, whichever
comes first, and reports the requests done per endpoint::

    python -m hotpath.demo.load --port P --clients 4 --requests 400 --duration 5 --mix default
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotpath.demo import truth
from hotpath.errors import UsageError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class LoadOptions:
    port: int
    host: str = "127.0.0.1"
    clients: int = 4
    requests: int = 400
    """Total requests over all clients (the run stops at this count)."""
    duration_s: float = 10.0
    """Hard time limit for the run."""
    mix: str = "default"
    timeout_s: float = 10.0


@dataclass
class LoadResult:
    done: dict[str, int] = field(default_factory=dict)
    """Path -> requests answered with 2xx."""
    errors: dict[str, int] = field(default_factory=dict)
    """Path -> requests that failed (status >= 300 or a connection error)."""
    elapsed_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.done.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.total,
            "elapsed_s": round(self.elapsed_s, 3),
            "done": dict(sorted(self.done.items())),
            "errors": dict(sorted(self.errors.items())),
        }


class _Budget:
    """Hands out request numbers until the count or the deadline is reached."""

    def __init__(self, limit: int, deadline: float) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._limit = limit
        self.deadline = deadline

    def take(self) -> int | None:
        if time.monotonic() >= self.deadline:
            return None
        with self._lock:
            if self._next >= self._limit:
                return None
            self._next += 1
            return self._next - 1


def run_load(opts: LoadOptions) -> LoadResult:
    """Drive the load and return what was done; UsageError for a non-loopback host."""
    if opts.host not in LOOPBACK:
        raise UsageError(f"the demo load driver only targets loopback, not {opts.host!r}")
    if opts.mix not in truth.MIXES:
        raise UsageError(f"unknown mix {opts.mix!r}; known: {', '.join(sorted(truth.MIXES))}")
    paths = truth.schedule(opts.mix)
    start = time.monotonic()
    budget = _Budget(opts.requests, start + opts.duration_s)
    result = LoadResult()
    lock = threading.Lock()

    def client() -> None:
        while (n := budget.take()) is not None:
            path = paths[n % len(paths)]
            ok = _one_request(opts, f"{path}?i={n}", budget.deadline)
            with lock:
                target = result.done if ok else result.errors
                target[path] = target.get(path, 0) + 1

    threads = [
        threading.Thread(target=client, name=f"load-{i}", daemon=True) for i in range(opts.clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        # A request in flight at the deadline may take up to its timeout to give up.
        t.join(max(0.0, budget.deadline - time.monotonic()) + opts.timeout_s)
    result.elapsed_s = time.monotonic() - start
    return result


def _one_request(opts: LoadOptions, target: str, deadline: float) -> bool:
    timeout = max(0.1, min(opts.timeout_s, deadline - time.monotonic() + 1.0))
    conn = http.client.HTTPConnection(opts.host, opts.port, timeout=timeout)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        response.read()
        return 200 <= response.status < 300
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m hotpath.demo.load", description=__doc__.split("\n")[0]
    )
    p.add_argument("--host", default="127.0.0.1", choices=LOOPBACK)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--requests", type=int, default=400, help="total requests (stop at this count)")
    p.add_argument("--duration", type=float, default=10.0, help="stop after this many seconds")
    p.add_argument("--mix", default="default", choices=sorted(truth.MIXES))
    a = p.parse_args(argv)
    if a.clients < 1 or a.requests < 0 or a.duration <= 0:
        p.error("--clients must be >= 1, --requests >= 0, --duration > 0")
    result = run_load(LoadOptions(a.port, a.host, a.clients, a.requests, a.duration, a.mix))
    print(json.dumps(result.as_dict()))
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())

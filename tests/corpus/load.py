"""Bounded client load: a few client threads cycling through the three endpoints."""

from __future__ import annotations

import http.client
import threading
import time

from tests.corpus.work import ENDPOINTS, PATHS


def drive(port: int, clients: int, seconds: float, max_requests: int = 100_000) -> dict[str, int]:
    """Requests from ``clients`` threads for ``seconds`` (or ``max_requests`` in all);
    returns the 200 responses per endpoint. Each client keeps one connection alive."""
    stop = time.monotonic() + seconds
    ok = dict.fromkeys(ENDPOINTS, 0)
    lock = threading.Lock()
    issued = [0]

    def client(k: int) -> None:
        conn: http.client.HTTPConnection | None = None
        i = k
        while time.monotonic() < stop:
            with lock:
                if issued[0] >= max_requests:
                    return
                issued[0] += 1
            ep = ENDPOINTS[i % len(ENDPOINTS)]
            i += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", PATHS[ep])
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    with lock:
                        ok[ep] += 1
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok

"""Small real apps for the middleware tests: a plain WSGI router and a Starlette app.

Each counts the requests it served per route and measures the CPU its handlers burn, so
the tests compare what the middleware recorded with what the app itself saw.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs


def burn(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


class WSGIRouter:
    """``/orders/<id>`` (CPU), ``/wait`` (sleeps), ``/slow?ms=N`` (sleeps N ms), ``/echo``
    (reads the body); else 404."""

    def __init__(self) -> None:
        self.served: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path.startswith("/orders/"):
            route = "GET /orders/<id>"
            body = f"order {path[8:]} {burn(3000)} {sorted(query)}".encode()
            status = "200 OK"
        elif path == "/wait":
            route = "GET /wait"
            time.sleep(0.002)
            body = b"waited"
            status = "200 OK"
        elif path == "/slow":
            route = "GET /slow"
            time.sleep(int(query.get("ms", ["100"])[0]) / 1000)
            body = b"slept"
            status = "200 OK"
        elif path == "/echo":
            route = "POST /echo"
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = b"got %d bytes" % len(environ["wsgi.input"].read(size))
            status = "200 OK"
        else:
            route = "GET <unmatched>"
            body = b"not found"
            status = "404 Not Found"
        if route != "GET <unmatched>":
            environ["hotpath.endpoint"] = route  # the router's declared route
        with self._lock:
            self.served[route] += 1
        start_response(status, [("Content-Type", "text/plain"), ("X-Route", "r")])
        return [body]


def make_starlette_app() -> Any:
    """Async endpoints that await and burn CPU; ``cpu`` holds their self-measured CPU."""
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    served: Counter[str] = Counter()
    cpu: Counter[str] = Counter()

    async def item(request: Any) -> Any:
        await asyncio.sleep(0.001)
        t0 = time.thread_time()
        value = burn(4000)
        cpu["GET /items/{item_id}"] += time.thread_time() - t0
        await asyncio.sleep(0)
        served["GET /items/{item_id}"] += 1
        return PlainTextResponse(f"item {request.path_params['item_id']} {value}")

    async def wait(request: Any) -> Any:
        await asyncio.sleep(0.005)
        served["GET /wait"] += 1
        return PlainTextResponse("waited")

    app = Starlette(routes=[Route("/items/{item_id}", item), Route("/wait", wait)])
    app.state.served = served
    app.state.cpu = cpu
    return app

"""Endpoint names (``METHOD /route``, user callables that fail or omit the method) and ASGI
CPU time in tasks the app creates, over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from hotpath.formats import read_profiles
from hotpath.middleware import ASGIMiddleware, WSGIMiddleware
from tests.collect.sample_apps import WSGIRouter, burn
from tests.collect.webapps import asyncio_requests, concurrent_requests, serve_asgi, serve_wsgi


def _requests(directory: Path) -> dict[str, Any]:
    return dict(read_profiles([directory]).requests)


def test_failing_endpoint_callable_keeps_the_method_and_route(tmp_path: Path) -> None:
    """A user ``endpoint=`` that raises falls back to the router's route, never ``OTHER``."""
    calls = [0]

    def endpoint(environ: dict[str, Any]) -> str:
        calls[0] += 1
        raise RuntimeError("bug in the user's endpoint function")

    app = WSGIMiddleware(WSGIRouter(), output_dir=str(tmp_path), endpoint=endpoint)
    with serve_wsgi(app) as port:
        got = concurrent_requests(port, ["/orders/1", "/orders/2", "/wait"], threads=3)
    assert all(b" 200 " in r for r in got)
    app.recorder.flush()
    counts = {ep: r.count for ep, r in _requests(tmp_path).items()}
    assert counts == {"GET /orders/<id>": 2, "GET /wait": 1}
    assert calls[0] == 3


def test_endpoint_callable_without_method_gets_one(tmp_path: Path) -> None:
    def endpoint(environ: dict[str, Any]) -> str | None:
        return "orders/{id}" if environ["PATH_INFO"].startswith("/orders") else None

    app = WSGIMiddleware(WSGIRouter(), output_dir=str(tmp_path), endpoint=endpoint)
    with serve_wsgi(app) as port:
        concurrent_requests(port, ["/orders/1", "/wait"], threads=2)
    app.recorder.flush()
    assert {ep: r.count for ep, r in _requests(tmp_path).items()} == {
        "GET /orders/{id}": 1,
        "GET /wait": 1,
    }


def test_asgi_cpu_of_a_handler_run_in_another_task(tmp_path: Path) -> None:
    """Frameworks such as Quart run the handler in a task of its own while the ASGI call
    waits: the request's CPU time is that task's, not the 0.05 ms of the waiting call."""
    own: list[float] = []

    async def handler() -> int:
        t0 = time.thread_time()
        n = burn(40_000)
        own.append(time.thread_time() - t0)
        return n

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        task = asyncio.get_running_loop().create_task(handler())
        body = str(await task).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    def endpoint(scope: dict[str, Any]) -> str:
        return "/burn"

    wrapped = ASGIMiddleware(app, output_dir=str(tmp_path), endpoint=endpoint)
    with serve_asgi(wrapped) as port:
        got = asyncio_requests(port, ["/burn"] * 12, concurrency=4)
    assert all(r.startswith(b"HTTP/1.1 200") for r in got)
    wrapped.recorder.flush()
    stats = _requests(tmp_path)["GET /burn"]
    assert stats.count == 12
    # The middleware's clock runs around each task step, the handler's inside it.
    assert sum(own) <= stats.cpu_s <= sum(own) * 1.5 + 0.01, (stats.cpu_s, sum(own))

"""The middleware's opt-in capture under concurrent load: Flask on waitress, 127.0.0.1.

Every response must be what the app gives without hotpath (nothing lost, nothing changed),
and the capture must count every call and every request. Bounded: 400 requests from 8
client threads, each with a timeout.
"""

from __future__ import annotations

import glob
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotpath.prove.files import read_captures
from tests.prove import textlib

REQUESTS = 400
CLIENTS = 8
WORDS = ["kitten", "sitting", "saturday", "sunday", "rosettacode", "raisethysword"]


def _make_app() -> Any:
    from flask import Flask, jsonify, request

    app = Flask("capture_served")

    @app.get("/d/<int:i>")
    def d(i: int) -> Any:
        a = WORDS[i % len(WORDS)]
        others = WORDS[: 1 + i % 3]
        return jsonify(
            {"a": a, "d": [textlib.distance(a, b + request.args.get("s", "")) for b in others]}
        )

    return app


def _expected(i: int) -> dict[str, Any]:
    a = WORDS[i % len(WORDS)]
    return {"a": a, "d": [textlib.distance(a, b) for b in WORDS[: 1 + i % 3]]}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Any]]:
    import waitress

    from hotpath.integrations.flask import init_app

    app = _make_app()
    mw = init_app(
        app,
        output_dir=str(tmp_path),
        sample_fraction=0.1,
        capture="tests.prove.textlib:distance",
        install_signal_handler=False,
    )
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=6)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        yield server.effective_port, mw
    finally:
        server.close()
        t.join(10)
        mw.recorder.capture.uninstall()


def test_capture_served_concurrently_loses_nothing(served: tuple[int, Any], tmp_path: Path) -> None:
    import http.client

    port, mw = served
    bodies: dict[int, Any] = {}
    errors: list[str] = []

    def client(k: int) -> None:
        for i in range(k, REQUESTS, CLIENTS):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", f"/d/{i}")
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    errors.append(f"{i}: {resp.status}")
                bodies[i] = json.loads(body)
            except OSError as exc:
                errors.append(f"{i}: {exc}")
            finally:
                conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    cap = mw.recorder.capture
    cap.uninstall()  # the expected answers below are computed without the wrapper
    assert {i: bodies[i] for i in range(REQUESTS)} == {i: _expected(i) for i in range(REQUESTS)}
    assert mw.recorder.flush()
    files = glob.glob(str(tmp_path / "hotpath-capture-*.json"))
    assert len(files) == 1
    c = read_captures(files)
    calls = sum(1 + i % 3 for i in range(REQUESTS))
    assert c.calls == calls and c.requests == REQUESTS
    assert c.calls_per_request == pytest.approx(calls / REQUESTS)
    assert 0 < len(c.records) <= 1000
    for r in c.records:
        assert r.exact and r.result == textlib.distance(*r.args)


def test_capture_served_asgi_on_uvicorn(tmp_path: Path) -> None:
    # FastAPI on uvicorn, 200 requests 50 in flight: every answer right, every call counted.
    from fastapi import FastAPI

    from hotpath.middleware import ASGIMiddleware
    from tests.collect.webapps import asyncio_requests, serve_asgi_thread

    api = FastAPI()

    @api.get("/d/{i}")
    async def d(i: int) -> dict[str, int]:
        return {"d": textlib.distance(WORDS[i % len(WORDS)], "sunday")}

    api.add_middleware(
        ASGIMiddleware,
        output_dir=str(tmp_path),
        sample_fraction=0.0,
        capture="tests.prove.textlib:distance",
        install_signal_handler=False,
    )
    stores: list[Any] = []
    with serve_asgi_thread(api) as served:
        bodies = asyncio_requests(served.port, [f"/d/{i}" for i in range(200)], 50)
        from hotpath.collect.request_store import _STORES

        stores = [s for s in _STORES if s.capture is not None and str(tmp_path) in s.path]
    assert len(stores) == 1
    cap = stores[0].capture
    cap.uninstall()
    for i, body in enumerate(bodies):
        want = json.dumps({"d": textlib.distance(WORDS[i % len(WORDS)], "sunday")})
        assert body.startswith(b"HTTP/1.1 200") and body.endswith(want.replace(" ", "").encode())
    assert stores[0].flush()
    c = read_captures(glob.glob(str(tmp_path / "hotpath-capture-*.json")))
    assert c.calls == 200 and c.requests == 200 and 0 < len(c.records) <= 200
    for r in c.records:  # (the 5% overhead bound keeps few of these 40 us calls)
        assert r.result == textlib.distance(*r.args)

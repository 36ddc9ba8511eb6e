"""FastAPI: ``app.add_middleware(ASGIMiddleware, ...)`` labels ``GET /items/{item_id}``."""

from __future__ import annotations

from pathlib import Path

from hotpath.formats import read_profiles
from hotpath.middleware import ASGIMiddleware
from tests.collect.sample_apps import burn
from tests.collect.webapps import asyncio_requests, serve_asgi


def test_fastapi_add_middleware_labels_route_template(tmp_path: Path) -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, object]:
        return {"item_id": item_id, "q": q, "n": burn(20000)}

    @app.post("/items/{item_id}")
    def write_item(item_id: int) -> dict[str, object]:
        return {"written": item_id}

    app.add_middleware(ASGIMiddleware, output_dir=str(tmp_path), sample_fraction=1.0)
    paths = [f"/items/{4000 + i}?q=zz91" for i in range(40)] + ["/nowhere-zz91"]
    with serve_asgi(app) as port:
        got = asyncio_requests(port, paths, concurrency=20)
    assert all(r.startswith(b"HTTP/1.1 200") for r in got[:40])
    assert got[40].startswith(b"HTTP/1.1 404")
    stack = app.middleware_stack
    while stack is not None and not isinstance(stack, ASGIMiddleware):
        stack = getattr(stack, "app", None)
    assert isinstance(stack, ASGIMiddleware)
    stack.recorder.flush()
    profile = read_profiles([tmp_path])
    assert {ep: r.count for ep, r in profile.requests.items()} == {
        "GET /items/{item_id}": 40,
        "GET <unmatched>": 1,
    }
    assert profile.requests["GET <unmatched>"].status == {"4xx": 1}
    assert not any("4000" in v or "zz91" in v for v in profile.label_values("endpoint"))
    # The view is nested in this test: named by its qualified name, `...<locals>.read_item`.
    assert "read_item" in {f.name.rsplit(".", 1)[-1] for f in profile.frames}

"""FastAPI with sync endpoints (run in anyio's thread pool), served by uvicorn."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tests.corpus import work

app = FastAPI()


@app.get("/loop/{n}")
def loop_view(n: int) -> dict[str, Any]:
    return work.loop_body(n)


@app.get("/sql")
def sql_view() -> dict[str, Any]:
    return work.sql_body()


@app.get("/json")
def json_view() -> dict[str, Any]:
    return work.json_body()


@app.get("/__stats")
def stats_view() -> dict[str, Any]:
    return work.stats()


if work.middleware_dir():
    from hotpath.middleware import ASGIMiddleware

    app.add_middleware(ASGIMiddleware, output_dir=work.middleware_dir(), **work.MW_OPTIONS)

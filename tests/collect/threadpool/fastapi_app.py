"""FastAPI app with sync endpoints (run in anyio's worker threads):
``uvicorn tests.collect.threadpool.fastapi_app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tests.collect.threadpool import work

app = FastAPI()


@app.get("/loop")
def loop_view() -> dict[str, Any]:
    return work.run("loop")


@app.get("/sqlite")
def sqlite_view() -> dict[str, Any]:
    return work.run("sqlite")


@app.get("/json")
def json_view() -> dict[str, Any]:
    return work.run("json")


@app.get("/__stats")
def stats_view() -> dict[str, Any]:
    return work.stats()

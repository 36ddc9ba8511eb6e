"""Litestar with async handlers, served by uvicorn."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get

from tests.corpus import work


@get("/loop/{n:int}")
async def loop_view(n: int) -> dict[str, Any]:
    return work.loop_body(n)


@get("/sql")
async def sql_view() -> dict[str, Any]:
    return work.sql_body()


@get("/json")
async def json_view() -> dict[str, Any]:
    return work.json_body()


@get("/__stats")
async def stats_view() -> dict[str, Any]:
    return work.stats()


middleware: list[Any] = []
if work.middleware_dir():
    from litestar.middleware import DefineMiddleware

    from hotpath.middleware import ASGIMiddleware

    middleware.append(
        DefineMiddleware(ASGIMiddleware, output_dir=work.middleware_dir(), **work.MW_OPTIONS)
    )

app = Litestar([loop_view, sql_view, json_view, stats_view], middleware=middleware)

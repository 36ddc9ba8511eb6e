"""Quart, served by hypercorn."""

from __future__ import annotations

from typing import Any

from quart import Quart

from tests.corpus import work

app = Quart(__name__)


@app.route("/loop/<int:n>")
async def loop_view(n: int) -> dict[str, Any]:
    return work.loop_body(n)


@app.route("/sql")
async def sql_view() -> dict[str, Any]:
    return work.sql_body()


@app.route("/json")
async def json_view() -> dict[str, Any]:
    return work.json_body()


@app.route("/__stats")
async def stats_view() -> dict[str, Any]:
    return work.stats()


if work.middleware_dir():
    from hotpath.integrations.quart import init_app

    init_app(app, output_dir=work.middleware_dir(), **work.MW_OPTIONS)

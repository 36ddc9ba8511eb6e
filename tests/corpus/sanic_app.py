"""Sanic on its own server (``sanic tests.corpus.sanic_app:app``)."""

from __future__ import annotations

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from tests.corpus import work

app = Sanic("corpus")


@app.get("/loop/<n:int>")
async def loop_view(request: Request, n: int) -> HTTPResponse:
    return json(work.loop_body(n))


@app.get("/sql")
async def sql_view(request: Request) -> HTTPResponse:
    return json(work.sql_body())


@app.get("/json")
async def json_view(request: Request) -> HTTPResponse:
    return json(work.json_body())


@app.get("/__stats")
async def stats_view(request: Request) -> HTTPResponse:
    return json(work.stats())


if work.middleware_dir():
    from hotpath.integrations.sanic import init_app

    init_app(app, output_dir=work.middleware_dir(), **work.MW_OPTIONS)

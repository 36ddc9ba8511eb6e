"""aiohttp, served by ``web.run_app`` (``python -m tests.corpus.aiohttp_app PORT``)."""

from __future__ import annotations

import sys

from aiohttp import web

from tests.corpus import work


async def loop_view(request: web.Request) -> web.Response:
    return web.json_response(work.loop_body(int(request.match_info["n"])))


async def sql_view(request: web.Request) -> web.Response:
    return web.json_response(work.sql_body())


async def json_view(request: web.Request) -> web.Response:
    return web.json_response(work.json_body())


async def stats_view(request: web.Request) -> web.Response:
    return web.json_response(work.stats())


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/loop/{n}", loop_view)
    app.router.add_get("/sql", sql_view)
    app.router.add_get("/json", json_view)
    app.router.add_get("/__stats", stats_view)
    if work.middleware_dir():
        from hotpath.integrations.aiohttp import init_app

        init_app(app, output_dir=work.middleware_dir(), **work.MW_OPTIONS)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)

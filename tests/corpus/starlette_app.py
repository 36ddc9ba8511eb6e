"""Starlette with async endpoints, served by uvicorn."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.corpus import work


async def loop_view(request: Request) -> JSONResponse:
    return JSONResponse(work.loop_body(int(request.path_params["n"])))


async def sql_view(request: Request) -> JSONResponse:
    return JSONResponse(work.sql_body())


async def json_view(request: Request) -> JSONResponse:
    return JSONResponse(work.json_body())


async def stats_view(request: Request) -> JSONResponse:
    return JSONResponse(work.stats())


middleware = []
if work.middleware_dir():
    from hotpath.middleware import ASGIMiddleware

    middleware.append(
        Middleware(ASGIMiddleware, output_dir=work.middleware_dir(), **work.MW_OPTIONS)
    )

app = Starlette(
    routes=[
        Route("/loop/{n:int}", loop_view),
        Route("/sql", sql_view),
        Route("/json", json_view),
        Route("/__stats", stats_view),
    ],
    middleware=middleware,
)

"""Pyramid, served by waitress (``waitress-serve tests.corpus.pyramid_app:app``)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from tests.corpus import work


def loop_view(request: Request) -> dict[str, Any]:
    return work.loop_body(int(request.matchdict["n"]))


def sql_view(request: Request) -> dict[str, Any]:
    return work.sql_body()


def json_view(request: Request) -> dict[str, Any]:
    return work.json_body()


def stats_view(request: Request) -> dict[str, Any]:
    return work.stats()


with Configurator() as config:
    if work.middleware_dir():
        config.include("hotpath.integrations.pyramid")
    for name, pattern, view in (
        ("loop", "/loop/{n}", loop_view),
        ("sql", "/sql", sql_view),
        ("json", "/json", json_view),
        ("stats", "/__stats", stats_view),
    ):
        config.add_route(name, pattern)
        config.add_view(view, route_name=name, renderer="json")
    root = config.make_wsgi_app()

app: Any = root
if work.middleware_dir():
    from hotpath.middleware import WSGIMiddleware

    app = WSGIMiddleware(root, output_dir=work.middleware_dir(), **work.MW_OPTIONS)

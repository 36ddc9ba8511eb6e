"""Bottle, served by waitress (``waitress-serve tests.corpus.bottle_app:app``)."""

from __future__ import annotations

from typing import Any

import bottle

from tests.corpus import work

root = bottle.Bottle()


@root.get("/loop/<n:int>")
def loop_view(n: int) -> dict[str, Any]:
    return work.loop_body(n)


@root.get("/sql")
def sql_view() -> dict[str, Any]:
    return work.sql_body()


@root.get("/json")
def json_view() -> dict[str, Any]:
    return work.json_body()


@root.get("/__stats")
def stats_view() -> dict[str, Any]:
    return work.stats()


app: Any = root
if work.middleware_dir():
    from hotpath.middleware import WSGIMiddleware

    app = WSGIMiddleware(root, output_dir=work.middleware_dir(), **work.MW_OPTIONS)

"""Flask, served by waitress (``waitress-serve tests.corpus.flask_app:app``)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.corpus import work

app = Flask(__name__)


@app.route("/loop/<int:n>")
def loop_view(n: int) -> dict[str, Any]:
    return work.loop_body(n)


@app.route("/sql")
def sql_view() -> dict[str, Any]:
    return work.sql_body()


@app.route("/json")
def json_view() -> dict[str, Any]:
    return work.json_body()


@app.route("/__stats")
def stats_view() -> dict[str, Any]:
    return work.stats()


if work.middleware_dir():
    from hotpath.integrations.flask import init_app

    init_app(app, output_dir=work.middleware_dir(), **work.MW_OPTIONS)

"""Flask app for waitress: ``waitress-serve --threads=4 tests.collect.threadpool.flask_app:app``."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.collect.threadpool import work

app = Flask(__name__)


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

"""The second monolith: Flask on waitress (4 threads), measuring its own thread CPU per endpoint.

Endpoints and where their time goes:

- ``GET /article/<n>``: Markdown to HTML with Python-Markdown (pure Python);
- ``GET /settings/<n>``: a YAML settings file parsed with PyYAML's pure-Python ``SafeLoader``;
- ``GET /suggest/<n>``: closest product names by edit distance with pylev (pure Python);
- ``GET /report``: a GROUP BY over 20,000 rows in SQLite (the time is in SQLite's C code);
- ``GET /export/<n>``: ``json.dumps`` and ``zlib.compress`` of 1,000 records (C code);
- ``GET /__stats``: process CPU and per-endpoint thread CPU (``time.thread_time``) so far.

``MONOLITH2_RUST`` (comma-separated: ``markdown``, ``yaml``, ``distance``) swaps a library for
its Rust-backed drop-in: pyromark, yaml-rs, jellyfish. Run it with
``python -m tests.monolith2.app --port 0 --port-file FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response

from tests.monolith2 import data

SWAPPED = frozenset(s for s in os.environ.get("MONOLITH2_RUST", "").split(",") if s)

if "markdown" in SWAPPED:
    import pyromark

    markdown_to_html: Callable[[str], str] = pyromark.html
else:
    import markdown

    _converters = threading.local()

    def markdown_to_html(text: str) -> str:
        # One Markdown instance per thread, reset between documents, as Python-Markdown's
        # docs advise for many documents: markdown.markdown() builds an instance per call
        # whose reference cycles (361 objects per call here) the cyclic GC then collects in
        # whichever thread allocates next, a cost no sampled stack shows where it belongs.
        md: markdown.Markdown | None = getattr(_converters, "md", None)
        if md is None:
            md = _converters.md = markdown.Markdown()
        html = md.reset().convert(text)
        return html

if "yaml" in SWAPPED:
    import yaml_rs

    def parse_yaml(text: str) -> Any:
        return yaml_rs.loads(text)

else:
    import yaml

    def parse_yaml(text: str) -> Any:
        return yaml.load(text, Loader=yaml.SafeLoader)  # the pure-Python loader


if "distance" in SWAPPED:
    import jellyfish

    edit_distance: Callable[[str, str], int] = jellyfish.levenshtein_distance
else:
    import pylev

    edit_distance = pylev.levenshtein

ARTICLES = [data.article(i) for i in range(20)]
SETTINGS = [data.settings(i) for i in range(20)]
NAMES = data.names()
QUERIES = data.queries()
PAYLOADS = [data.export_payload(i) for i in range(4)]

app = Flask(__name__)
_db_path = os.path.join(tempfile.mkdtemp(prefix="monolith2-"), "sales.db")
_local = threading.local()


def _setup_db() -> None:
    conn = sqlite3.connect(_db_path)
    conn.execute("CREATE TABLE sales (id INT, region TEXT, product TEXT, price REAL, qty INT)")
    conn.executemany("INSERT INTO sales VALUES (?, ?, ?, ?, ?)", data.sales_rows())
    conn.commit()
    conn.close()


def _conn() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(_db_path)
    return conn


def render_article(text: str) -> str:
    """The article page: the document's HTML in the site's frame."""
    body = markdown_to_html(text)
    return f"<article>{body}</article>"


def load_settings(text: str) -> dict[str, Any]:
    """Parsed settings with the enabled backends picked out."""
    doc = parse_yaml(text)
    doc["enabled"] = sorted(k for k, v in doc["backends"].items() if v["enabled"])
    return dict(doc)


def closest_names(query: str, names: list[str], top: int = 5) -> list[tuple[int, str]]:
    scored = [(edit_distance(query, name), name) for name in names]
    scored.sort()
    return scored[:top]


def sales_by_region() -> list[tuple[Any, ...]]:
    return (
        _conn()
        .execute(
            "SELECT region, product, COUNT(*), SUM(price * qty), AVG(price) FROM sales "
            "WHERE qty > 0 GROUP BY region, product ORDER BY 4 DESC"
        )
        .fetchall()
    )


def pack_export(records: list[dict[str, object]]) -> bytes:
    return zlib.compress(json.dumps(records).encode(), 6)


@app.get("/article/<int:n>")
def article_view(n: int) -> str:
    return render_article(ARTICLES[n % len(ARTICLES)])


@app.get("/settings/<int:n>")
def settings_view(n: int) -> Response:
    doc = load_settings(SETTINGS[n % len(SETTINGS)])
    return Response(json.dumps({"enabled": doc["enabled"]}), mimetype="application/json")


@app.get("/suggest/<int:n>")
def suggest_view(n: int) -> Response:
    best = closest_names(QUERIES[n % len(QUERIES)], NAMES)
    return Response(json.dumps(best), mimetype="application/json")


@app.get("/report")
def report_view() -> Response:
    rows = sales_by_region()
    return Response(json.dumps(rows[:20]), mimetype="application/json")


@app.get("/export/<int:n>")
def export_view(n: int) -> Response:
    return Response(pack_export(PAYLOADS[n % len(PAYLOADS)]), mimetype="application/zlib")


# -- its own accounting: thread CPU per endpoint, around the whole WSGI call ---------------
_stats_lock = threading.Lock()
_stats: dict[str, list[float]] = {}


def _endpoint_name(path: str) -> str:
    parts = path.strip("/").split("/")
    return "GET /" + parts[0] if parts and parts[0] else "GET /"


class Accounting:
    """WSGI wrapper: thread CPU of each request (response body included) by endpoint."""

    def __init__(self, wsgi: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi = wsgi

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/__stats":
            return self._stats(start_response)
        t0 = time.thread_time()
        body = b"".join(self.wsgi(environ, start_response))
        cpu = time.thread_time() - t0
        name = _endpoint_name(path)
        with _stats_lock:
            row = _stats.setdefault(name, [0, 0.0])
            row[0] += 1
            row[1] += cpu
        return [body]

    def _stats(self, start_response: Callable[..., Any]) -> list[bytes]:
        with _stats_lock:
            eps = {k: {"count": int(c), "cpu_s": s} for k, (c, s) in _stats.items()}
        body = json.dumps(
            {"process_cpu_s": time.process_time(), "swapped": sorted(SWAPPED), "endpoints": eps}
        ).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


def main() -> None:
    import waitress

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", default=None)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    _setup_db()
    server = waitress.create_server(
        Accounting(app.wsgi_app), host="127.0.0.1", port=args.port, threads=args.threads
    )
    port = server.effective_port  # type: ignore[union-attr]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    server.run()


if __name__ == "__main__":
    main()

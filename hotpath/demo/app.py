"""The sample monolith: a plain WSGI app with a tiny router and self-measured costs.

Request path: :meth:`Router.__call__` -> :meth:`Router.dispatch` -> one module-level view per
endpoint. Around every request the router measures thread CPU time (``time.thread_time``)
and wall time per endpoint; ``GET /__stats`` returns them as JSON (and is not counted).

Run it::

    python -m hotpath.demo.app --port 0 --port-file PORT [--stats-out stats.json]
    python -m hotpath.demo.app --batch 300 [--stats-out stats.json]   # in-process, no sockets
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socketserver
import sys
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from hotpath.demo import truth
from hotpath.demo.data import Corpus, Database, build_corpus
from hotpath.demo.kernel import kernel_stubbed, rank_candidates
from hotpath.demo.orm import Manager, Order
from hotpath.demo.stats import Stats

StartResponse = Callable[..., Any]
STATS_PATH = "/__stats"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]

    def int_arg(self, name: str, default: int) -> int:
        try:
            return int(self.query.get(name, [str(default)])[0])
        except ValueError:
            return default


@dataclass(frozen=True)
class Response:
    body: bytes
    status: str = "200 OK"
    content_type: str = "application/json"


@dataclass
class Context:
    """What the views share: read-only corpus and the per-thread database."""

    corpus: Corpus
    db: Database


def _json(value: Any) -> Response:
    return Response(json.dumps(value).encode())


# -- views: one per endpoint ---------------------------------------------------------------
def kernel_view(ctx: Context, request: Request) -> Response:
    """Pure-Python CPU: fuzzy-rank a slice of names against a query."""
    queries = ctx.corpus.queries
    query = queries[request.int_arg("i", 0) % len(queries)]
    best = rank_candidates(query, list(ctx.corpus.names[:KERNEL_CANDIDATES]))
    return _json({"query": query, "best": best})


def report_view(ctx: Context, request: Request) -> Response:
    """SQLite-bound: a join with aggregates, computed in SQLite's C code."""
    conn = ctx.db.connection()
    rows = conn.execute(
        "SELECT c.region, o.status, COUNT(*), SUM(o.quantity * o.price), AVG(o.price),"
        " COUNT(DISTINCT o.customer_id)"
        " FROM orders o JOIN customers c ON c.id = o.customer_id"
        " WHERE o.created >= ? GROUP BY c.region, o.status ORDER BY 4 DESC",
        (REPORT_CREATED_FROM,),
    ).fetchall()
    return _json([list(r) for r in rows])


def export_view(ctx: Context, request: Request) -> Response:
    """Native-heavy: serialise, compress and re-parse a large document (json/zlib in C)."""
    payload = json.dumps(ctx.corpus.document).encode()
    packed = zlib.compress(payload, 6)
    restored = json.loads(zlib.decompress(packed))
    return _json({"bytes": len(payload), "packed": len(packed), "items": len(restored["items"])})


def normalize_tag(tag: str) -> str:
    """The tiny hot helper: canonical form of a user-typed tag (microseconds per call)."""
    tag = tag.strip().lower().lstrip("#").rstrip("!.")
    return "-".join(tag.split())


def tags_view(ctx: Context, request: Request) -> Response:
    """Calls :func:`normalize_tag` thousands of times per request."""
    counts: dict[str, int] = {}
    for raw in ctx.corpus.raw_tags[:TAGS_PER_REQUEST]:
        tag = normalize_tag(raw)
        counts[tag] = counts.get(tag, 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
    return _json({"distinct": len(counts), "top": top})


def orders_view(ctx: Context, request: Request) -> Response:
    """Thin view over the mini ORM: query building and row mapping dominate."""
    orders = Manager(Order, ctx.db.connection()).all()
    recent = orders.filter(created__gte=ORDERS_CREATED_FROM, quantity__gt=0).order_by("-created")
    return _json([o.to_dict() for o in recent.limit(ORDERS_LIMIT)])


def health_view(ctx: Context, request: Request) -> Response:
    """Trivial."""
    return Response(b'{"ok": true}')


# Per-request work sizes, tuned so that under the default mix the kernel takes ~40% of the
# CPU and every other endpoint but health at least 5% (see tests/demo/test_app.py).
KERNEL_CANDIDATES = 1_100
REPORT_CREATED_FROM = 880_000
TAGS_PER_REQUEST = 5_000
ORDERS_CREATED_FROM = 900_000
ORDERS_LIMIT = 250

VIEWS: dict[str, Callable[[Context, Request], Response]] = {
    "/kernel": kernel_view,
    "/report": report_view,
    "/export": export_view,
    "/tags": tags_view,
    "/orders": orders_view,
    "/health": health_view,
}


class Router:
    """The WSGI application: routes ``GET <path>`` to a view and measures every request."""

    def __init__(self, ctx: Context, stats: Stats) -> None:
        self.ctx = ctx
        self.stats = stats

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        request = Request(method, path, parse_qs(environ.get("QUERY_STRING", "")))
        if path == STATS_PATH:
            response = _json(self.stats.snapshot())
        else:
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            response = self.dispatch(request)
            self.stats.record(
                f"{method} {path}" if path in VIEWS else "unmatched",
                time.thread_time() - cpu0,
                time.perf_counter() - wall0,
            )
        start_response(
            response.status,
            [("Content-Type", response.content_type), ("Content-Length", str(len(response.body)))],
        )
        return [response.body]

    def dispatch(self, request: Request) -> Response:
        view = VIEWS.get(request.path)
        if view is None:
            return Response(b'{"error": "not found"}', "404 Not Found")
        if request.method != "GET":
            return Response(b'{"error": "method not allowed"}', "405 Method Not Allowed")
        return view(self.ctx, request)


def create_app(stats: Stats | None = None) -> Router:
    """A ready router with its data built (a fresh temporary database)."""
    stats = stats if stats is not None else Stats(stub_kernel=kernel_stubbed())
    return Router(Context(build_corpus(), Database()), stats)


# -- serving --------------------------------------------------------------------------------
class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # an access line per request would dominate the profiles


class DemoServer:
    """The monolith served on 127.0.0.1 from a background thread (for tests and tools)."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        app: Router | None = None,
        served: Any = None,
    ):
        self.app = app if app is not None else create_app()
        self.httpd = make_server(
            host,
            port,
            served if served is not None else self.app,  # the app, or a middleware around it
            server_class=ThreadingWSGIServer,
            handler_class=QuietHandler,
        )
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-server"
        )

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()
        self.app.ctx.db.close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_batch(app: Router, n: int, mix: str = "default") -> None:
    """Run ``n`` requests of ``mix`` in this thread through the WSGI app, no sockets."""
    paths = truth.schedule(mix)
    for i in range(n):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": paths[i % len(paths)],
            "QUERY_STRING": f"i={i}",
            "wsgi.input": io.BytesIO(),
        }
        app(environ, _discard_start_response)


def _discard_start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> None:
    pass


def write_atomic(path: str, text: str) -> None:
    """Write a whole file or nothing (readers polling for it never see half of it)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m hotpath.demo.app", description=__doc__.split("\n")[0]
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--stats-out", help="write per-endpoint CPU/wall/count JSON here at exit")
    p.add_argument("--batch", type=int, metavar="N", help="run N requests in-process and exit")
    p.add_argument("--mix", default="default", choices=sorted(truth.MIXES))
    p.add_argument(
        "--capture",
        metavar="MODULE:QUALNAME",
        help="serve through hotpath's WSGI middleware capturing this function's calls",
    )
    p.add_argument(
        "--capture-dir", default="hotpath-profiles", help="where the middleware writes them"
    )
    p.add_argument("--capture-calls", type=int, default=1000)
    p.add_argument(
        "--middleware", action="store_true", help="serve through the middleware (counting only)"
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    app = create_app()
    try:
        if args.batch is not None:
            run_batch(app, args.batch, args.mix)
        else:
            _serve(app, args)
    finally:
        if args.stats_out:
            write_atomic(args.stats_out, json.dumps(app.stats.snapshot(), indent=1))
        app.ctx.db.close()
    return 0


def _wait_for_stop_signal() -> Callable[[], object]:
    """Prepare (before any thread starts) and return a call that blocks until SIGTERM/SIGINT."""
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    if hasattr(signal, "sigwait"):
        # Block the stop signals before any thread starts (threads inherit the mask), then
        # wait in sigwait: the main thread sleeps in the kernel instead of polling, so it
        # stays out of py-spy's active samples.
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        return lambda: signal.sigwait(stop_signals)
    # Windows: no sigwait; a handler sets an event, polled so that the handler gets to run.
    stop = threading.Event()
    for sig in stop_signals:
        signal.signal(sig, lambda _signum, _frame: stop.set())

    def poll() -> None:
        while not stop.wait(0.2):
            pass

    return poll


def _serve(app: Router, args: argparse.Namespace) -> None:
    wait = _wait_for_stop_signal()
    served: Any = app
    if args.capture or args.middleware:
        from hotpath.middleware import WSGIMiddleware
        from hotpath.prove.capture import CaptureOptions

        # Counted and captured, not profiled: the capture is the point here.
        served = WSGIMiddleware(
            app,
            output_dir=args.capture_dir,
            sample_fraction=0.0,
            capture=args.capture,
            capture_options=CaptureOptions(max_calls=args.capture_calls),
        )
    server = DemoServer(args.port, args.host, app, served).start()
    print(server.port, flush=True)
    if args.port_file:
        write_atomic(args.port_file, f"{server.port}\n")
    wait()
    server.stop()


if __name__ == "__main__":
    sys.exit(main())

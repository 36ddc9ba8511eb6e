"""Endpoints from stacks: real Flask, Django and FastAPI apps on 127.0.0.1 sampled by py-spy,
plus hand-written stacks for what the real runs cannot show (DRF, uWSGI-style roots)."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hotpath.analysis.recognize import endpoint_of, label_endpoints, package_of
from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
from hotpath.model import ENDPOINT, Frame, Profile, wall_view
from tests.collect.support import require_ptrace

APPS = Path(__file__).parent / "apps"
SITE = "/venv/lib/python3.11/site-packages"


def _drive(port: int, paths: list[str], seconds: float) -> int:
    """Two client threads requesting ``paths`` in turn for ``seconds``; returns 2xx count."""
    stop = time.monotonic() + seconds
    ok = [0]
    lock = threading.Lock()

    def client() -> None:
        i = 0
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", paths[i % len(paths)])
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    with lock:
                        ok[0] += 1
            except OSError:
                time.sleep(0.05)  # not listening yet: try again
            finally:
                conn.close()
            i += 1

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok[0]


def _endpoint_seconds(app: str, paths: list[str]) -> dict[str, float]:
    """Wall seconds per recognised endpoint while two clients hit ``paths``."""
    proc = subprocess.Popen(
        [sys.executable, str(APPS / app)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        assert _drive(port, paths, 0.3) > 0  # warm up (imports, first-request setup)
        rec = PySpyRecorder(proc.pid, RecordOptions(rate=200))
        rec.start()
        served = _drive(port, paths, 3.0)
        rec.stop()
        profile = rec.wait().profile
    finally:
        proc.terminate()
        proc.wait(10)
    assert served > 4
    shares: dict[str, float] = {}
    for _frames, labels, w in wall_view(label_endpoints(profile)).iter_samples():
        ep = dict(labels).get(ENDPOINT)
        if ep is not None:
            shares[ep] = shares.get(ep, 0.0) + w
    return shares


def test_recognize_flask_views_live() -> None:
    require_ptrace()
    seen = _endpoint_seconds("flask_app.py", ["/items/3", "/report"])
    assert set(seen) >= {"get_item", "report"}, seen


def test_recognize_django_function_and_class_views_live() -> None:
    require_ptrace()
    seen = _endpoint_seconds("django_app.py", ["/orders/7", "/report"])
    assert set(seen) >= {"order_detail", "ReportView.get"}, seen


def test_recognize_fastapi_async_and_sync_endpoints_live() -> None:
    require_ptrace()
    seen = _endpoint_seconds("fastapi_app.py", ["/items/3", "/report"])
    assert set(seen) >= {"read_item", "sync_report"}, seen


def test_recognize_drf_handler_method() -> None:
    frames = [
        Frame("BaseHandler._get_response", f"{SITE}/django/core/handlers/base.py", 197),
        Frame("View.as_view.<locals>.view", f"{SITE}/django/views/generic/base.py", 104),
        Frame("APIView.dispatch", f"{SITE}/rest_framework/views.py", 509),
        Frame("OrderViewSet.list", "/srv/shop/orders/views.py", 40),
        Frame("serialize", "/srv/shop/orders/serializers.py", 12),
    ]
    assert endpoint_of(frames) == "OrderViewSet.list"


def test_recognize_plain_wsgi_router_without_server_frame() -> None:
    frames = [
        Frame("run_batch", "/srv/app.py", 10),
        Frame("Router.__call__", "/srv/app.py", 20),
        Frame("Router.dispatch", "/srv/app.py", 30),
        Frame("kernel_view", "/srv/app.py", 40),
    ]
    assert endpoint_of(frames) == "kernel_view"
    assert endpoint_of(frames[:2]) is None


def test_label_endpoints_routed_app_callable_is_no_endpoint_of_its_own() -> None:
    """Under a server, stacks that stop in the app callable (routing, writing the response)
    would name the callable itself; once the same callable is seen above a router, they get
    no endpoint instead of a fake "Router.__call__" endpoint."""
    server = [
        Frame("BaseHandler.run", "/usr/lib/python3.11/wsgiref/handlers.py", 137),
        Frame("Router.__call__", "/srv/app.py", 20),
    ]
    routed = [
        *server,
        Frame("Router.dispatch", "/srv/app.py", 30),
        Frame("view", "/srv/app.py", 40),
    ]
    assert endpoint_of(server) == "Router.__call__"  # alone, the app callable is the endpoint
    p = Profile()
    p.add_frames(routed, 5)
    p.add_frames([*server, Frame("json_response", "/srv/app.py", 50)], 2)
    got = {
        tuple(f.name for f in frames)[-1]: dict(labels).get(ENDPOINT)
        for frames, labels, _w in label_endpoints(p).iter_samples()
    }
    assert got == {"view": "view", "json_response": None}


def test_label_endpoints_keeps_existing_labels() -> None:
    p = Profile()
    frames = [
        Frame("Flask.dispatch_request", f"{SITE}/flask/app.py", 1),
        Frame("view", "/srv/app.py", 2),
    ]
    p.add_frames(frames, 1.0, {ENDPOINT: "GET /x"})
    p.add_frames(frames, 2.0)
    labelled = label_endpoints(p)
    got = sorted((dict(ls)[ENDPOINT], w) for _f, ls, w in labelled.iter_samples())
    assert got == [("GET /x", 1.0), ("view", 2.0)]


@pytest.mark.parametrize(
    ("file", "pkg"),
    [
        (f"{SITE}/django/core/handlers/base.py", "django"),
        ("/usr/lib/python3.11/wsgiref/handlers.py", "wsgiref"),
        ("flask/app.py", "flask"),
        ("/srv/app.py", ""),
    ],
)
def test_package_of_paths(file: str, pkg: str) -> None:
    assert package_of(file) == pkg


def test_request_handler_method_after_the_response_is_no_endpoint() -> None:
    """wsgiref logs each request after the response, from BaseHandler.run through
    finish_response/close; an app that overrides log_message must not turn it into an
    endpoint (the live demo showed a 0.1% 'QuietHandler.log_message' endpoint)."""
    wsgiref = "/usr/lib/python3.11/wsgiref"
    run = Frame("BaseHandler.run", f"{wsgiref}/handlers.py", 137)
    logged = [
        run,
        Frame("BaseHandler.finish_response", f"{wsgiref}/handlers.py", 184),
        Frame("SimpleHandler.close", f"{wsgiref}/simple_server.py", 35),
        Frame("BaseHTTPRequestHandler.log_request", "/usr/lib/python3.11/http/server.py", 550),
        Frame("QuietHandler.log_message", "/srv/app.py", 198),
    ]
    assert endpoint_of(logged) is None
    # WSGI middleware objects between the server and the app are still crossed.
    wrapped = [
        run,
        Frame("ProxyFix.__call__", f"{SITE}/werkzeug/middleware/proxy_fix.py", 180),
        Frame("application", "/srv/app.py", 10),
    ]
    assert endpoint_of(wrapped) == "application"

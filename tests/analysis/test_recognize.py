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


def _f(name: str, where: str, line: int = 1) -> Frame:
    """A frame of an installed package (``pkg/module.py``) or of the app (``/srv/...``)."""
    return Frame(name, where if where.startswith("/") else f"{SITE}/{where}", line)


WAITRESS = [
    _f("ThreadedTaskDispatcher.handler_thread", "waitress/task.py"),
    _f("WSGITask.execute", "waitress/task.py"),
    _f("proxy_headers_middleware.<locals>.translate_proxy_headers", "waitress/proxy_headers.py"),
]
UVICORN = [
    _f("RequestResponseCycle.run_asgi", "uvicorn/protocols/http/h11_impl.py"),
    _f("Starlette.__call__", "starlette/applications.py"),
    _f("request_response.<locals>.app", "starlette/routing.py"),
    _f("request_response.<locals>.app.<locals>.app", "starlette/routing.py"),
]


@pytest.mark.parametrize(
    ("stack", "want"),
    [
        # Flask: the view under dispatch_request; an after_request hook runs from
        # full_dispatch_request's finalize_request and is nobody's endpoint.
        (
            [*WAITRESS, _f("Flask.wsgi_app", "flask/app.py"),
             _f("Flask.full_dispatch_request", "flask/app.py"),
             _f("Flask.dispatch_request", "flask/app.py"), _f("loop_view", "/srv/app.py")],
            "loop_view",
        ),
        (
            [*WAITRESS, _f("Flask.wsgi_app", "flask/app.py"),
             _f("Flask.full_dispatch_request", "flask/app.py"),
             _f("Flask.finalize_request", "flask/app.py"),
             _f("Flask.process_response", "flask/app.py"), _f("add_headers", "/srv/app.py")],
            None,
        ),
        # A library frame (h11's Connection.send, under the response's send) is no view.
        (
            [*UVICORN, _f("Response.__call__", "starlette/responses.py"),
             _f("RequestResponseCycle.send", "uvicorn/protocols/http/h11_impl.py"),
             _f("Connection.send", "h11/_connection.py")],
            None,
        ),
        ([*UVICORN, _f("json_view", "/srv/app.py")], "json_view"),
        # A torn stack: an app helper without the framework's frames above it.
        ([_f("burn_loop", "/srv/work.py"), _f("helper", "/srv/work.py")], None),
        # DRF: permission classes run from APIView.initial, not as the endpoint.
        (
            [_f("BaseHandler._get_response", "django/core/handlers/base.py"),
             _f("View.as_view.<locals>.view", "django/views/generic/base.py"),
             _f("APIView.dispatch", "rest_framework/views.py"),
             _f("APIView.initial", "rest_framework/views.py"),
             _f("APIView.check_permissions", "rest_framework/views.py"),
             _f("IsOwner.has_permission", "/srv/perms.py")],
            None,
        ),
        # Django: a middleware's process_view hook is called from _get_response too.
        (
            [_f("BaseHandler._get_response", "django/core/handlers/base.py"),
             _f("AuditMiddleware.process_view", "/srv/middleware.py")],
            None,
        ),
        # Falcon: responders are on_<method>; a middleware component is not.
        (
            [_f("App.__call__", "falcon/app.py"), _f("Items.on_get", "/srv/app.py")],
            "Items.on_get",
        ),
        (
            [_f("App.__call__", "falcon/app.py"), _f("Auth.process_request", "/srv/app.py")],
            None,
        ),
        # Tornado: the verb method, not prepare().
        (
            [_f("RequestHandler._execute", "tornado/web.py"), _f("Items.get", "/srv/app.py")],
            "Items.get",
        ),
        (
            [_f("RequestHandler._execute", "tornado/web.py"), _f("Items.prepare", "/srv/a.py")],
            None,
        ),
        # Bottle on gunicorn: Bottle.__call__ is the framework, not an endpoint.
        (
            [_f("SyncWorker.handle_request", "gunicorn/workers/sync.py"),
             _f("Bottle.__call__", "bottle.py"), _f("Bottle.wsgi", "bottle.py")],
            None,
        ),
        (
            [_f("SyncWorker.handle_request", "gunicorn/workers/sync.py"),
             _f("Bottle.__call__", "bottle.py"), _f("Bottle._handle", "bottle.py"),
             _f("Bottle.trigger_hook", "bottle.py"), _f("open_db", "/srv/app.py")],
            None,
        ),
        # Sanic recompiles handle_request with its name as the file name.
        (
            [_f("Http.http1", "sanic/http/http1.py"), Frame("handle_request", "handle_request", 1),
             _f("loop_view", "/srv/app.py")],
            "loop_view",
        ),
        # Celery: the task function under the tracer; a task_prerun receiver is not a task.
        (
            [_f("fast_trace_task", "celery/app/trace.py"),
             _f("build_tracer.<locals>.trace_task", "celery/app/trace.py"),
             _f("_install_stack_protection.<locals>.__protected_call__", "celery/app/task.py"),
             _f("crunch", "/srv/tasks.py")],
            "crunch",
        ),
        (
            [_f("build_tracer.<locals>.trace_task", "celery/app/trace.py"),
             _f("Signal.send", "celery/utils/dispatch/signal.py"), _f("on_prerun", "/srv/t.py")],
            None,
        ),
        # RQ: the job function under Job._execute.
        (
            [_f("BaseWorker.perform_job", "rq/worker/base.py"), _f("Job.perform", "rq/job.py"),
             _f("Job._execute", "rq/job.py"), _f("send_mail", "/srv/jobs.py")],
            "send_mail",
        ),
        # FastAPI sync endpoints run in anyio's worker threads.
        (
            [_f("WorkerThread.run", "anyio/_backends/_asyncio.py"),
             _f("_run_sync_endpoint", "fastapi/routing.py"), _f("read_item", "/srv/app.py")],
            "read_item",
        ),
        # Any installed package the framework calls is library code, listed or not, also
        # with a shortened path.
        (
            [_f("Http.http1", "sanic/http/http1.py"), Frame("handle_request", "handle_request", 1),
             _f("_collect_parameters", "typing_extensions.py")],
            None,
        ),
        # A shortened path of nothing installed here may be the app's own (py-spy shortens
        # paths on sys.path): its frame is the endpoint.
        (
            [_f("Http.http1", "sanic/http/http1.py"), Frame("handle_request", "handle_request", 1),
             Frame("orders_view", "shop/views.py", 3), _f("serialize", "/srv/app.py")],
            "orders_view",
        ),
        # The middleware's own frames after the handler are hotpath's, not the app's.
        (
            [_f("Application._handle", "aiohttp/web_app.py"),
             _f("init_app.<locals>.hotpath_middleware", "hotpath/integrations/aiohttp.py"),
             _f("Profile.intern_labels", "hotpath/model.py")],
            None,
        ),
    ],
)  # fmt: skip
def test_recognize_framework_stacks(stack: list[Frame], want: str | None) -> None:
    assert endpoint_of(stack) == want


def test_report_says_in_one_line_when_no_endpoint_is_recognised() -> None:
    import io

    from hotpath.analysis.endpoints import NO_ENDPOINTS
    from hotpath.analysis.pipeline import analyze
    from hotpath.report.text import render

    p = Profile()
    p.add_frames([_f("main", "/srv/batch.py"), _f("burn_loop", "/srv/work.py")], 3.0)
    analysis = analyze(p)
    assert analysis.endpoints is None and analysis.endpoint_note == NO_ENDPOINTS
    out = io.StringIO()
    render(analysis, out, width=400, color=False)
    assert [line for line in out.getvalue().splitlines() if "No endpoint" in line] == [NO_ENDPOINTS]
    served = Profile()
    served.add_frames(
        [_f("RequestHandler._execute", "tornado/web.py"), _f("Items.get", "/srv/app.py")], 1.0
    )
    assert analyze(served).endpoint_note is None


def test_label_endpoints_torn_stack_helper_is_its_views() -> None:
    """py-spy without pausing can lose the view's frame: the helper then sits right below
    the dispatch frame. Other stacks show it below the view, so it is the view's."""
    dispatch = [
        _f("WorkerThread.run", "anyio/_backends/_asyncio.py"),
        _f("_run_sync_endpoint", "fastapi/routing.py"),
    ]
    p = Profile()
    p.add_frames([*dispatch, _f("json_view", "/srv/app.py"), _f("json_body", "/srv/w.py")], 3.0)
    p.add_frames([*dispatch, _f("json_body", "/srv/w.py")], 1.0)
    got = sorted(
        (frames[-1].name, dict(labels).get(ENDPOINT))
        for frames, labels, _w in label_endpoints(p).iter_samples()
    )
    assert got == [("json_body", "json_view"), ("json_body", "json_view")]


def test_label_endpoints_a_torn_read_below_the_routed_app_keeps_the_views_requests() -> None:
    """A torn read can lose the router's frame too: the view then sits right below the app
    callable, which the plain-WSGI rule names when there is no router. The app above a router
    is no endpoint, and a view's few torn reads below something else do not make all its
    requests that thing's helper (the sample monolith's ``GET /report`` lost its 21% so)."""
    server = Frame("BaseHandler.run", "/usr/lib/python3.11/wsgiref/handlers.py", 137)
    app, dispatch = _f("Router.__call__", "/srv/app.py"), _f("Router.dispatch", "/srv/app.py")
    p = Profile()
    p.add_frames([server, app, dispatch, _f("report_view", "/srv/app.py")], 20.0)
    p.add_frames([server, app, _f("report_view", "/srv/app.py")], 1.0)  # torn
    p.add_frames([server, app, dispatch, _f("kernel_view", "/srv/app.py")], 30.0)
    # A view that another calls now and then is still its own endpoint.
    p.add_frames(
        [server, app, dispatch, _f("kernel_view", "/srv/app.py"), _f("tags_view", "/srv/app.py")],
        2.0,
    )
    p.add_frames([server, app, dispatch, _f("tags_view", "/srv/app.py")], 10.0)
    got: dict[str | None, float] = {}
    for _frames, labels, w in label_endpoints(p).iter_samples():
        key = dict(labels).get(ENDPOINT)
        got[key] = got.get(key, 0.0) + w
    # The torn read itself names no endpoint: the app callable above a router serves none.
    assert got == {"report_view": 20.0, None: 1.0, "kernel_view": 32.0, "tags_view": 10.0}


def test_label_endpoints_the_apps_own_wsgi_wrapper_around_a_framework_is_no_endpoint() -> None:
    """An app's WSGI wrapper around Flask (timing, accounting) runs code of its own before
    and after each request, with no Flask frame below it; the plain-WSGI rule names the app
    callable there. Above Flask's dispatch it serves every endpoint and none (the second
    monolith's ``Accounting.__call__`` was listed at 1.6-2.4% of the CPU)."""
    wrapper = _f("Accounting.__call__", "/srv/app.py")
    flask = [
        _f("Flask.wsgi_app", "flask/app.py"),
        _f("Flask.full_dispatch_request", "flask/app.py"),
        _f("Flask.dispatch_request", "flask/app.py"),
    ]
    p = Profile()
    p.add_frames([*WAITRESS, wrapper, *flask, _f("article_view", "/srv/app.py")], 10.0)
    p.add_frames([*WAITRESS, wrapper], 1.0)
    got: dict[str | None, float] = {}
    for _frames, labels, w in label_endpoints(p).iter_samples():
        key = dict(labels).get(ENDPOINT)
        got[key] = got.get(key, 0.0) + w
    assert got == {"article_view": 10.0, None: 1.0}

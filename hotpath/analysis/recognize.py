"""Endpoints from stacks alone: one small recogniser per framework.

With py-spy there is no middleware to say which request a sample served, but the stack does:
a framework calls the view through a dispatch frame of its own (Flask's
``Flask.dispatch_request``, Falcon's ``App.__call__``, Tornado's ``RequestHandler._execute``,
Celery's task tracer ...). Each :class:`Recognizer` names that frame and the first frame of the
app's own code below it is the endpoint: the view, the handler method of a class-based view,
the task function. Labels are the qualified names the profile records (``loop_view``,
``OrderViewSet.list``, ``LoopResource.on_get``), since a route template is not on the stack.

Never an endpoint: library frames (frameworks, servers and their helpers such as h11), an
app frame under a framework frame that runs hooks rather than the view (Flask's
``full_dispatch_request`` runs ``after_request``; DRF's ``APIView.initial`` runs permission
classes), a hook method (``prepare``, ``process_view``, ``__init__``), and an app helper whose
stack was torn (no dispatch frame above it). Samples that already carry an ``endpoint`` label
(from the middleware) keep it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, count, islice

import numpy as np

from hotpath.analysis.stacktable import (
    CodeSums,
    StackTable,
    distinct_rows,
    entries,
    first_of_each,
    last_slot,
)
from hotpath.model import ENDPOINT, Frame, Labels, Profile

_SITE = re.compile(r"[\\/](?:site|dist)-packages[\\/]")
_STDLIB = re.compile(r"[\\/]lib[\\/]python\d+(?:\.\d+)?t?[\\/]")


@lru_cache(maxsize=65536)
def package_of(file: str) -> str:
    """Top-level package of a frame's file (``django``, ``flask``, ``wsgiref``), or ''."""
    m = _SITE.search(file) or _STDLIB.search(file)
    rest = file[m.end() :] if m else file
    if m is None and (file.startswith("/") or file.startswith("<")):
        return ""
    top = re.split(r"[\\/]", rest, maxsplit=1)[0]
    return top[:-3] if top.endswith(".py") else top


_LIBRARY_PKGS = frozenset(
    {
        # web frameworks and their routing/request layers
        "django", "rest_framework", "flask", "werkzeug", "starlette", "fastapi", "litestar",
        "falcon", "pyramid", "webob", "zope", "venusian", "bottle", "aiohttp", "tornado",
        "quart", "sanic", "sanic_routing", "sanic_ext", "asgiref", "anyio", "sniffio",
        "pydantic", "pydantic_core", "msgspec", "multidict", "yarl", "blinker", "click",
        # servers and protocol libraries
        "gunicorn", "waitress", "uvicorn", "hypercorn", "h11", "h2", "hpack", "wsproto",
        "httptools", "uvloop", "websockets", "daphne", "twisted", "gevent", "eventlet",
        # background workers
        "celery", "kombu", "billiard", "vine", "rq", "redis", "dramatiq", "huey",
        # profilers and APM agents that wrap views
        "pyinstrument", "sentry_sdk", "newrelic", "ddtrace", "opentelemetry", "elasticapm",
        "scout_apm", "wrapt",
        # helpers frameworks call around the view
        "typing_extensions", "attr", "attrs", "cattrs", "annotated_types", "jinja2",
        "markupsafe", "itsdangerous", "orjson", "ujson", "simplejson", "six",
    }
)  # fmt: skip
"""Packages whose frames are never an endpoint of their own, also where a profile shortened
their paths (py-spy's raw format writes ``flask/app.py``)."""

_STDLIB_NAMES = frozenset(sys.stdlib_module_names)
_HOTPATH = re.compile(r"(?:^|[\\/])hotpath[\\/](?!demo[\\/])")
"""hotpath's own code (the middleware and what it calls), except its sample monolith."""
_DEMO = re.compile(r"(?:^|[\\/])hotpath[\\/]demo[\\/]")


@lru_cache(maxsize=65536)
def is_library(file: str) -> bool:
    """Whether a frame of this file is installed-package, stdlib or generated code.

    A view is the app's own code; frameworks, servers, the agents that wrap views (Sentry,
    New Relic, OpenTelemetry) and whatever they call are installed packages, so every
    site-packages frame is library code (an app deployed into site-packages as a package
    gets no endpoints from its stacks: the report then says to use the middleware). Paths
    that a profile shortened (py-spy's raw format writes ``flask/app.py``) are library code
    when their package is one named above or is installed in site-packages here."""
    if _DEMO.search(file):
        return False
    if file.startswith("<") or _HOTPATH.search(file) or _SITE.search(file):
        return True
    pkg = package_of(file)
    if pkg in _LIBRARY_PKGS or pkg in _STDLIB_NAMES:
        return True
    if pkg and not file.startswith(("/", "\\")) and _installed_package(pkg):
        return True
    # Code compiled at run time under a bare name (Sanic recompiles its request handler
    # with the method's name as file name): not the app's source.
    return "/" not in file and "\\" not in file and not file.endswith(".py")


@lru_cache(maxsize=4096)
def _installed_package(name: str) -> bool:
    """Whether ``name`` is a top-level module installed in this interpreter's site-packages
    (found without importing it)."""
    if not name.isidentifier():
        return False
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None) or ""
    locations = list(getattr(spec, "submodule_search_locations", None) or [])
    return any(_SITE.search(p) for p in [origin, *locations] if isinstance(p, str))


_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
# A module body below a dispatch frame is an import on first use (RQ imports a job's module
# inside Job.perform), never the endpoint.
_ALWAYS_HOOKS = frozenset({"__init__", "__del__", "__repr__", "__str__", "<module>"})


@dataclass(frozen=True)
class Recognizer:
    """How one framework calls the app's endpoint, as seen on a stack (root first)."""

    name: str
    dispatch: frozenset[str]
    """Qualified names of the framework's frames that call the endpoint; the last one on a
    stack counts (Django's ``View.dispatch`` below ``BaseHandler._get_response``)."""
    packages: frozenset[str]
    """Where dispatch frames live (a frame with the right name elsewhere is the app's own)."""
    hook_runners: frozenset[str] = frozenset()
    """Framework frames below a dispatch frame that run hooks, not the endpoint."""
    hooks: frozenset[str] = frozenset()
    """Method names of app code that are hooks (never an endpoint) under this framework."""
    view_prefix: tuple[str, ...] | None = None
    """When set, an endpoint's last name component starts with one of these."""
    view_names: frozenset[str] | None = None
    """When set, an endpoint's last name component is one of these."""

    def accepts(self, name: str) -> bool:
        last = name.rsplit(".", 1)[-1]
        if last in self.hooks or last in _ALWAYS_HOOKS:
            return False
        if self.view_names is not None and last not in self.view_names:
            return False
        return self.view_prefix is None or last.startswith(self.view_prefix)


def _r(
    name: str,
    packages: str,
    dispatch: str,
    hook_runners: str = "",
    hooks: str = "",
    view_prefix: tuple[str, ...] | None = None,
    view_names: frozenset[str] | None = None,
) -> Recognizer:
    """A recogniser from space-separated name lists."""
    return Recognizer(
        name,
        frozenset(dispatch.split()),
        frozenset(packages.split()),
        frozenset(hook_runners.split()),
        frozenset(hooks.split()),
        view_prefix,
        view_names,
    )


_METHOD_VIEW = "MethodView.dispatch_request"

RECOGNIZERS: tuple[Recognizer, ...] = (
    # Most specific first: DRF runs inside Django, FastAPI inside Starlette, both through anyio.
    _r(
        "drf", "rest_framework", "APIView.dispatch",
        hook_runners="APIView.initial APIView.initialize_request APIView.finalize_response "
        "APIView.handle_exception APIView.perform_authentication APIView.check_permissions "
        "APIView.check_throttles",
    ),
    _r(
        "django", "django",
        "BaseHandler._get_response BaseHandler._get_response_async View.dispatch",
        hook_runners="BaseHandler.resolve_request View.setup",
        hooks="process_view process_template_response process_exception setup",
    ),
    _r("flask", "flask", "Flask.dispatch_request View.dispatch_request " + _METHOD_VIEW),
    _r("quart", "quart", "Quart.dispatch_request View.dispatch_request " + _METHOD_VIEW),
    _r("fastapi", "fastapi", "run_endpoint_function _run_sync_endpoint"),
    _r("litestar", "litestar", "HTTPRoute._call_handler_function"),
    _r(
        "starlette", "starlette",
        "request_response.<locals>.app.<locals>.app HTTPEndpoint.dispatch",
    ),
    _r("falcon", "falcon", "App.__call__ App.process_request", view_prefix=("on_",)),
    _r("pyramid", "pyramid", "_call_view"),
    _r("bottle", "bottle", "Bottle._handle", hook_runners="Bottle.trigger_hook"),
    _r("aiohttp", "aiohttp", "Application._handle"),
    _r("tornado", "tornado", "RequestHandler._execute", view_names=_HTTP_VERBS),
    _r(
        # Sanic recompiles its request handler under the bare file name "handle_request".
        "sanic", "sanic handle_request", "Sanic.handle_request handle_request",
        hook_runners="Sanic._run_request_middleware Sanic._run_response_middleware "
        "Sanic.dispatch SignalRouter.dispatch Request.respond Sanic.handle_exception",
    ),
    _r(
        "celery", "celery", "build_tracer.<locals>.trace_task Task.__call__ trace_task",
        hook_runners="Signal.send",
        hooks="on_success on_failure on_retry after_return before_start",
    ),
    _r("rq", "rq", "Job._execute Job.perform"),
)  # fmt: skip
"""Tried in this order, then plain WSGI; the first whose dispatch frame is on the stack decides
(and may decide that the stack serves no endpoint)."""


# Where WSGI servers call the application: (package, qualified name).
_WSGI_SERVERS = frozenset(
    {
        ("wsgiref", "BaseHandler.run"),
        ("gunicorn", "SyncWorker.handle_request"),
        ("gunicorn", "ThreadWorker.handle_request"),
        ("gunicorn", "handle_request"),
        ("waitress", "WSGITask.execute"),
        ("werkzeug", "WSGIRequestHandler.run_wsgi.<locals>.execute"),
        ("werkzeug", "run_wsgi.<locals>.execute"),
    }
)
# WSGI wrappers a server puts between itself and the app.
_SERVER_WRAPPERS = frozenset({"proxy_headers_middleware.<locals>.translate_proxy_headers"})


@dataclass(frozen=True)
class _Frame:
    """What the recognisers need of one distinct frame, computed once."""

    name: str
    library: bool
    dispatch: int
    """Index into RECOGNIZERS + 1 of the recogniser this is a dispatch frame of, else 0."""
    server: bool
    router: bool


_DISPATCH_NAMES: dict[str, list[int]] = {}
"""Dispatch frame name -> the recognisers (indexes, in order) that have one so named."""
for _index, _rec in enumerate(RECOGNIZERS):
    for _name in _rec.dispatch:
        _DISPATCH_NAMES.setdefault(_name, []).append(_index)


def _describe(frame: Frame, files: dict[str, tuple[str | None, bool]] | None = None) -> _Frame:
    """``files`` caches (package, is library) per file: a file has many frames."""
    got = files.get(frame.file) if files is not None else None
    if got is None:
        got = (package_of(frame.file), is_library(frame.file))
        if files is not None:
            files[frame.file] = got
    pkg, library = got
    name = frame.name
    dispatch = 0
    for i in _DISPATCH_NAMES.get(name, ()):  # the recognisers with a dispatch frame so named
        r = RECOGNIZERS[i]
        if pkg in r.packages or frame.file in r.packages:
            dispatch = i + 1
            break
    server = (pkg, name) in _WSGI_SERVERS
    router = name.rsplit(".", 1)[-1] in ("dispatch", "dispatch_request")
    return _Frame(name, library, dispatch, server, router)


def endpoint_of(frames: Sequence[Frame]) -> str | None:
    """The endpoint a stack (root→leaf) was serving, or None when no recogniser knows."""
    finder = _StackEndpoints([_describe(f) for f in frames])
    return finder.endpoint(tuple(range(len(frames))))[0]


class _StackEndpoints:
    """The recognisers on stacks of frame ids (the one implementation; :func:`endpoint_of`
    uses it too), with C loops (set intersections, ``index``, ``compress``) finding the few
    frames that matter instead of Python visiting every frame: on a py-spy file of 50,000
    distinct stacks 40 frames deep that was most of the analysis."""

    def __init__(self, described: list[_Frame]) -> None:
        self.described = described
        self.dispatch = {i for i, f in enumerate(described) if f.dispatch}
        self.server = {i for i, f in enumerate(described) if f.server}
        self.router = {i for i, f in enumerate(described) if f.router and not f.library}
        self.is_app = [not f.library for f in described]

    def _first_app(self, stack: tuple[int, ...], start: int) -> int:
        """Index of the first non-library frame at or after ``start``, or -1."""
        marks = map(self.is_app.__getitem__, islice(stack, start, None))
        return next(compress(count(start), marks), -1)

    def endpoint(self, stack: tuple[int, ...]) -> tuple[str | None, str | None]:
        """(endpoint, routed app) of one stack.

        ``routed app`` is the WSGI app callable above a router or a framework's dispatch frame
        that named the endpoint (the app's own WSGI wrapper around Flask, say): the same
        callable seen without them below it (its own code before and after the request) is no
        endpoint of its own (see :func:`label_endpoints`)."""
        # A framework's dispatch frame (the outermost recogniser wins): the first app frame
        # below it, unless a hook runner comes first. Else plain WSGI: the callee of the
        # app's router (a frame named ``dispatch``) below the server's call into the app,
        # else the app callable itself. Without a known server frame (uWSGI calls the app
        # from C; batch drivers call it directly) only a router counts.
        d = self.described
        hits = self.dispatch.intersection(stack)
        if hits:
            best = min(d[f].dispatch for f in hits)
            last = len(stack) - 1
            i = max(last - stack[::-1].index(f) for f in hits if d[f].dispatch == best)
            rec = RECOGNIZERS[best - 1]
            j = self._first_app(stack, i + 1)
            if j < 0 or any(d[f].name in rec.hook_runners for f in stack[i + 1 : j]):
                return None, None
            name = d[stack[j]].name
            if not rec.accepts(name):
                return None, None
            # The app's own callable between the server and the dispatch frame is routed.
            head = stack[:i]
            servers = self.server.intersection(head)
            if not servers:
                return name, None
            start = max(i - 1 - head[::-1].index(f) for f in servers)
            above = self._first_app(stack, start + 1)
            return name, (d[stack[above]].name if 0 <= above < i else None)
        servers = self.server.intersection(stack)
        last = len(stack) - 1
        start = max((last - stack[::-1].index(f) for f in servers), default=-1)
        first = self._first_app(stack, start + 1)
        if first < 0:
            return None, None
        routers = self.router.intersection(islice(stack, start + 1, None))
        if routers:
            at = min(stack.index(f, start + 1) for f in routers)
            after = self._first_app(stack, at + 1)
            if after >= 0:
                return d[stack[after]].name, d[stack[first]].name
        if start < 0:
            return None, None
        # The app callable is what the server calls, through WSGI middleware objects at most:
        # a method of the request handler (wsgiref calls ``log_message`` after the response,
        # and apps override it) serves no endpoint.
        for k in range(start + 1, first):
            name = d[stack[k]].name
            if not name.endswith("__call__") and name not in _SERVER_WRAPPERS:
                return None, None
        name = d[stack[first]].name
        return (None if name.rsplit(".", 1)[-1] in _ALWAYS_HOOKS else name), None

    def endpoints(self, table: StackTable) -> tuple[list[str | None], list[str | None]]:
        """:meth:`endpoint` of every stack of ``table`` (the same rules, by numpy over all
        stacks at once: one Python step per stack of 40 frames was most of this pass)."""
        names: list[str | None] = []
        routed: list[str | None] = []
        arrays = self._arrays()
        for part in table.chunks():
            got_names, got_routed = self._endpoints_of(part, arrays)
            names += got_names
            routed += got_routed
        return names, routed

    def _arrays(self) -> dict[str, np.ndarray]:
        d = self.described
        return {
            "dispatch": np.asarray([f.dispatch for f in d], dtype=np.int64),
            "server": np.asarray([f.server for f in d], dtype=bool),
            "router": np.asarray([f.router and not f.library for f in d], dtype=bool),
            "app": np.asarray(self.is_app, dtype=bool),
            "wrapper": np.asarray(
                [f.name.endswith("__call__") or f.name in _SERVER_WRAPPERS for f in d],
                dtype=bool,
            ),
            "hook": np.asarray([f.name.rsplit(".", 1)[-1] in _ALWAYS_HOOKS for f in d], dtype=bool),
            "runs_hooks": np.asarray(  # per recogniser, its hook runners' frames
                [[f.name in r.hook_runners for f in d] for r in RECOGNIZERS], dtype=bool
            ).reshape(len(RECOGNIZERS), len(d)),
        }

    def _endpoints_of(
        self, table: StackTable, a: dict[str, np.ndarray]
    ) -> tuple[list[str | None], list[str | None]]:
        d = self.described
        n = table.n
        if not table.slots:
            return [None] * n, [None] * n
        frames = table.flat.astype(np.int64)
        sid = table.sid()
        starts, ends = table.starts, table.ends
        app_slots = np.flatnonzero(a["app"][frames])

        def first_app_after(after: np.ndarray) -> np.ndarray:
            """Per stack, the first app slot after slot ``after`` (in its stack), else -1."""
            k = np.searchsorted(app_slots, after, side="right")
            got = app_slots[np.minimum(k, max(len(app_slots) - 1, 0))] if len(app_slots) else k
            return np.where((k < len(app_slots)) & (got < ends), got, -1)

        name_at = np.full(n, -1, dtype=np.int64)  # frame id of the endpoint, -1: none
        routed_at = np.full(n, -1, dtype=np.int64)
        # A framework's dispatch frame: the outermost recogniser, its deepest frame.
        disp = a["dispatch"][frames]
        best = np.full(n, 1 << 30, dtype=np.int64)
        np.minimum.at(best, sid, np.where(disp > 0, disp, 1 << 30))
        by_dispatch = best < (1 << 30)
        at = last_slot(np.flatnonzero((disp > 0) & (disp == best[sid])), starts, ends)
        j = first_app_after(at)
        rec = np.where(by_dispatch, best - 1, 0)
        hooks = np.cumsum(a["runs_hooks"][rec[sid], frames])
        ran_hook = (j >= 0) & (hooks[np.maximum(j - 1, 0)] - hooks[np.maximum(at, 0)] > 0)
        ok = by_dispatch & (j >= 0) & ~ran_hook
        accepted: dict[tuple[int, int], bool] = {}
        for s in np.flatnonzero(ok).tolist():
            key = (int(rec[s]), int(frames[j[s]]))
            if key not in accepted:
                accepted[key] = RECOGNIZERS[key[0]].accepts(d[key[1]].name)
            ok[s] = accepted[key]
        name_at[ok] = frames[j[ok]]
        # The app's own callable between the server and the dispatch frame is routed.
        server_slots = np.flatnonzero(a["server"][frames])
        k = np.searchsorted(server_slots, at, side="left") - 1
        head = server_slots[np.maximum(k, 0)] if len(server_slots) else k
        has_server = (k >= 0) & (head >= starts) if len(server_slots) else k > n
        above = first_app_after(np.where(has_server, head, starts - 1))
        wrapped = ok & has_server & (above >= 0) & (above < at)
        routed_at[wrapped] = frames[above[wrapped]]
        # Else plain WSGI: below the deepest server frame, a router's callee, else the app
        # callable (through WSGI middleware objects at most); without a server, a router.
        plain = ~by_dispatch
        start = last_slot(server_slots, starts, ends)
        served = start >= 0
        first = first_app_after(np.where(served, start, starts - 1))
        router_slots = np.flatnonzero(a["router"][frames])
        k = np.searchsorted(router_slots, np.where(served, start, starts - 1), side="right")
        router = (
            router_slots[np.minimum(k, max(len(router_slots) - 1, 0))] if len(router_slots) else k
        )
        routed_plain = (k < len(router_slots)) & (router < ends) if len(router_slots) else k < 0
        after = first_app_after(np.where(routed_plain, router, ends))
        by_router = plain & (first >= 0) & routed_plain & (after >= 0)
        name_at[by_router] = frames[after[by_router]]
        routed_at[by_router] = frames[first[by_router]]
        rest = plain & (first >= 0) & ~by_router & served
        others = np.cumsum(~a["wrapper"][frames])
        between = others[np.maximum(first - 1, 0)] - others[np.maximum(start, 0)]
        rest &= (first - 1 <= start) | (between == 0)
        rest &= ~a["hook"][frames[np.maximum(first, 0)]]
        name_at[rest] = frames[first[rest]]
        return (
            [None if f < 0 else d[f].name for f in name_at.tolist()],
            [None if f < 0 else d[f].name for f in routed_at.tolist()],
        )

    def names_below_table(
        self,
        table: StackTable,
        found: list[str | None],
        weights: list[float],
        routed_apps: set[str],
    ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """The helper rule over ``table``'s stacks (``found``: each one's endpoint), by
        numpy: the same sums, each added in stack order."""
        d = self.described
        ids: dict[str, int] = {}
        frame_name = np.asarray([ids.setdefault(f.name, len(ids)) for f in d], dtype=np.int64)
        names = list(ids)
        counted = [n is not None and n not in routed_apps for n in found]
        stack_name = np.asarray(
            [ids[n] if c and n is not None else -1 for n, c in zip(found, counted, strict=True)],
            dtype=np.int64,
        )
        is_endpoint = np.zeros(len(names) + 1, dtype=bool)
        is_endpoint[stack_name[stack_name >= 0]] = True
        own, under = CodeSums(), CodeSums()
        w_all = np.asarray(weights, dtype=np.float64)
        k = np.int64(len(names))
        for part in table.chunks():
            lo = part.first
            hi = lo + part.n
            named, w = stack_name[lo:hi], w_all[lo:hi]
            own.add(named[named >= 0], w[named >= 0])
            sid = part.sid()
            fname = frame_name[part.flat.astype(np.int64)]
            mine = named[sid]
            # The endpoint frame of each stack: the first frame of its endpoint's name.
            match = np.flatnonzero((mine >= 0) & (fname == mine))
            first = np.full(part.n, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(first, sid[match], match)
            below = np.flatnonzero(is_endpoint[fname] & (np.arange(len(fname)) > first[sid]))
            below = below[fname[below] != mine[below]]
            below = below[first_of_each(sid[below] * k + fname[below])]  # once per stack
            under.add(fname[below] * k + mine[below], w[sid[below]])
        own_w = {names[i]: x for i, x in own.items()}
        under_w: dict[str, dict[str, float]] = {}
        for code, x in under.items():
            b, n = divmod(code, int(k))
            under_w.setdefault(names[b], {})[names[n]] = x
        return own_w, under_w


def label_endpoints(profile: Profile) -> Profile:
    """A profile whose samples without an ``endpoint`` label get one from their stack.

    Returns ``profile`` itself when nothing was recognised (or everything was labelled).
    """
    routed_apps: set[str] = set()
    files: dict[str, tuple[str | None, bool]] = {}
    described = [_describe(f, files) for f in profile.frames]  # once per distinct frame
    label_sets = profile.label_sets
    unlabelled = np.asarray(
        [not any(k == ENDPOINT for k, _ in labels) for labels in label_sets], dtype=bool
    )
    samples = profile.samples
    rows, lids, weights = entries(samples)
    finder = _StackEndpoints(described)
    # Each distinct stack is looked at once (a stack comes once per label set it has), read
    # from the profile's stack array: no stack is made a tuple.
    todo = unlabelled[lids]
    distinct, inverse = distinct_rows(rows[todo])
    by_stack = np.zeros(len(distinct), dtype=np.float64)
    np.add.at(by_stack, inverse, weights[todo])  # in sample order, as a loop adds them
    table = StackTable.of_rows(samples.store, distinct, by_stack)
    found, routed = finder.endpoints(table)
    routed_apps.update(r for r in routed if r is not None)
    at = np.full(len(rows), -1, dtype=np.int64)  # per entry, its stack's index in ``found``
    at[todo] = inverse
    names: list[str | None] = [None if i < 0 else found[i] for i in at.tolist()]
    # A torn stack (py-spy reading a running thread without pausing it) can lose the view's
    # frame and put a helper right below the dispatch frame: a name that other stacks show
    # below an endpoint's frame, with more weight than it has as an endpoint of its own, is
    # that endpoint's helper. A routed app is no such endpoint (a torn read that loses the
    # router frame shows the view below the app callable), and weights keep a view's own
    # requests from following the few torn reads that put it below something else.
    own, under = finder.names_below_table(table, found, by_stack.tolist(), routed_apps)
    swap = {
        name: max(sorted(per), key=per.__getitem__)
        for name, per in under.items()
        if sum(per.values()) > own.get(name, 0.0)
    }
    new_labels: dict[tuple[int, str], Labels] = {}
    relabel: list[Labels | None] = []
    lid_list = lids.tolist()
    for lid, name in zip(lid_list, names, strict=True):
        if name is not None:
            name = swap.get(name, name)
        # A routed app's own frames (routing, writing the response) serve no one endpoint.
        if name is None or name in routed_apps:
            relabel.append(None)
            continue
        labels = new_labels.get((lid, name))
        if labels is None:
            labels = tuple(sorted((*label_sets[lid], (ENDPOINT, name))))
            new_labels[(lid, name)] = labels
        relabel.append(labels)
    if not new_labels:
        return profile
    out = profile.filter(lambda _labels: False)  # frames and metadata; no samples
    for lid in dict.fromkeys(lid_list):
        out.intern_labels(label_sets[lid])  # the old label sets keep their order
    intern = out.intern_labels
    new_lids = [
        intern(new if new is not None else label_sets[lid])
        for lid, new in zip(lid_list, relabel, strict=True)
    ]
    # The same stacks (the profile's store), relabelled; entries that meet add up in order.
    out.samples = samples.with_entries(samples.rows, new_lids, samples.weights)
    return out

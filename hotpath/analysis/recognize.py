"""Endpoints from stacks alone: one small recogniser per framework.

With py-spy there is no middleware to say which request a sample served, but the stack does:
a framework calls the view through a dispatch frame of its own. Each recogniser looks for its
framework's dispatch frame and names the first frame of the app's code below it (the view, or
the handler method of a class-based view). Labels are the view's qualified name as the
profile records it (e.g. ``kernel_view``, ``OrderViewSet.list``), since a route template is
not on the stack. Samples that already carry an ``endpoint`` label (from the middleware) keep it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from functools import lru_cache

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


_FRAMEWORK_PKGS = frozenset(
    {
        "django", "rest_framework", "flask", "werkzeug", "starlette", "fastapi", "anyio",
        "asgiref", "uvicorn", "gunicorn", "waitress",
    }
)  # fmt: skip


_STDLIB_NAMES = frozenset(sys.stdlib_module_names)


# Where WSGI servers call the application: (package, function name suffix).
_WSGI_SERVERS = (
    ("wsgiref", "BaseHandler.run"),
    ("gunicorn", "handle_request"),
    ("waitress", "WSGITask.execute"),
    ("werkzeug", "run_wsgi.<locals>.execute"),
)

# What a frame can be to a recogniser (bits, computed once per distinct frame).
_DRF, _DJANGO, _FLASK, _STARLETTE, _ANYIO, _SERVER, _ROUTER, _FRAMEWORK = (1 << n for n in range(8))

RECOGNIZERS: dict[str, int] = {
    "drf": _DRF,  # Django REST framework: APIView.dispatch calls the handler method
    "django": _DJANGO,  # BaseHandler._get_response(_async) calls the view
    "flask": _FLASK,  # Flask.dispatch_request calls the view function
    "starlette": _STARLETTE,  # FastAPI run_endpoint_function / Starlette request_response
    "anyio": _ANYIO,  # sync FastAPI endpoints run in anyio's WorkerThread.run
}
"""Tried in this order (most specific first), then plain WSGI; the first name found wins.
Each names the first frame of non-framework code below the framework's last dispatch frame."""


def frame_bits(frame: Frame) -> int:
    """Which recognisers' dispatch frame this is, and whether it is framework code."""
    pkg = package_of(frame.file)
    name = frame.name
    bits = 0
    if pkg in _FRAMEWORK_PKGS or pkg in _STDLIB_NAMES or frame.file.startswith("<"):
        bits |= _FRAMEWORK  # framework, server or stdlib code: never the view itself
    if pkg == "rest_framework" and name.endswith("APIView.dispatch"):
        bits |= _DRF
    if pkg == "django" and name.endswith(("_get_response", "_get_response_async")):
        bits |= _DJANGO
    if pkg == "flask" and name.endswith("dispatch_request"):
        bits |= _FLASK
    if pkg in ("fastapi", "starlette") and (
        "run_endpoint_function" in name or "request_response" in name
    ):
        bits |= _STARLETTE
    if pkg == "anyio" and name.endswith("WorkerThread.run"):
        bits |= _ANYIO
    if any(pkg == p and name.endswith(n) for p, n in _WSGI_SERVERS):
        bits |= _SERVER
    if name.rsplit(".", 1)[-1] in ("dispatch", "dispatch_request"):
        bits |= _ROUTER
    return bits


def _endpoint(bits: Sequence[int], names: Sequence[str]) -> tuple[str | None, str | None]:
    """(endpoint, routed app) of one stack, given each frame's :func:`frame_bits` and name.

    ``routed app`` is the WSGI app callable above a router that named the endpoint: the same
    callable seen without a router below it (its own routing and response code) is no
    endpoint of its own (see :func:`label_endpoints`)."""
    present = 0
    for b in bits:
        present |= b
    for flag in RECOGNIZERS.values():
        if not present & flag:
            continue
        i = max(j for j, b in enumerate(bits) if b & flag)  # the framework's last dispatch
        for j in range(i + 1, len(bits)):
            if not bits[j] & _FRAMEWORK:
                return names[j], None
        return None, None
    # Plain WSGI: the callee of the app's router (a frame named ``dispatch``) below the
    # server's call into the app, else the app callable itself. Without a known server frame
    # (uWSGI calls the app from C; batch drivers call it directly) only a router counts.
    start = max((j for j, b in enumerate(bits) if b & _SERVER), default=-1)
    app = [j for j in range(start + 1, len(bits)) if not bits[j] & _FRAMEWORK]
    if not app:
        return None, None
    for a, j in enumerate(app[:-1]):
        if bits[j] & _ROUTER:
            return names[app[a + 1]], names[app[0]]
    if start < 0:
        return None, None
    # The app callable is what the server calls, through WSGI middleware objects at most: a
    # method of the request handler (wsgiref calls ``log_message`` after the response, and
    # apps override it) serves no endpoint.
    if any(not names[k].endswith("__call__") for k in range(start + 1, app[0])):
        return None, None
    return names[app[0]], None


def endpoint_of(frames: Sequence[Frame]) -> str | None:
    """The endpoint a stack (root→leaf) was serving, or None when no recogniser knows."""
    return _endpoint([frame_bits(f) for f in frames], [f.name for f in frames])[0]


def label_endpoints(profile: Profile) -> Profile:
    """A profile whose samples without an ``endpoint`` label get one from their stack.

    Returns ``profile`` itself when nothing was recognised (or everything was labelled).
    """
    found: dict[tuple[int, ...], str | None] = {}
    routed_apps: set[str] = set()
    frames = profile.frames
    bits = [frame_bits(f) for f in frames]  # once per distinct frame, not per stack
    names = [f.name for f in frames]
    unlabelled = [
        (stack, lid)
        for (stack, lid) in profile.samples
        if not any(k == ENDPOINT for k, _ in profile.label_sets[lid])
    ]
    for stack, _lid in unlabelled:
        if stack not in found:
            found[stack], routed = _endpoint([bits[i] for i in stack], [names[i] for i in stack])
            if routed is not None:
                routed_apps.add(routed)
    relabel: dict[tuple[tuple[int, ...], int], Labels] = {}
    for stack, lid in unlabelled:
        name = found[stack]
        # A routed app's own frames (routing, writing the response) serve no one endpoint.
        if name is not None and name not in routed_apps:
            labels = profile.label_sets[lid]
            relabel[(stack, lid)] = tuple(sorted((*labels, (ENDPOINT, name))))
    if not relabel:
        return profile
    out = profile.filter(lambda _labels: True)
    out.samples = {}
    for (stack, lid), w in profile.samples.items():
        new = relabel.get((stack, lid))
        nlid = (
            out.intern_labels(new)
            if new is not None
            else out.intern_labels(profile.label_sets[lid])
        )
        out.add(stack, w, nlid)
    return out

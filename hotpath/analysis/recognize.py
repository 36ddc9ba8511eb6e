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
from collections.abc import Callable, Sequence

from hotpath.model import ENDPOINT, Frame, Labels, Profile

Recognizer = Callable[[Sequence[Frame]], "str | None"]

_SITE = re.compile(r"[\\/](?:site|dist)-packages[\\/]")
_STDLIB = re.compile(r"[\\/]lib[\\/]python\d+(?:\.\d+)?t?[\\/]")


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


def _is_framework(frame: Frame) -> bool:
    """Framework, server or stdlib code: never the view itself."""
    pkg = package_of(frame.file)
    return pkg in _FRAMEWORK_PKGS or pkg in _STDLIB_NAMES or frame.file.startswith("<")


def _view_below(frames: Sequence[Frame], i: int) -> str | None:
    """The first frame below index ``i`` that is not framework code."""
    for f in frames[i + 1 :]:
        if not _is_framework(f):
            return f.name
    return None


def _below_last(frames: Sequence[Frame], match: Callable[[Frame], bool]) -> str | None:
    for i in range(len(frames) - 1, -1, -1):
        if match(frames[i]):
            return _view_below(frames, i)
    return None


def recognize_drf(frames: Sequence[Frame]) -> str | None:
    """Django REST framework: ``APIView.dispatch`` calls the handler method."""
    return _below_last(
        frames,
        lambda f: f.name.endswith("APIView.dispatch") and package_of(f.file) == "rest_framework",
    )


def recognize_django(frames: Sequence[Frame]) -> str | None:
    """Django: ``BaseHandler._get_response`` (sync) or ``_get_response_async`` calls the view."""
    return _below_last(
        frames,
        lambda f: (
            f.name.endswith(("_get_response", "_get_response_async"))
            and package_of(f.file) == "django"
        ),
    )


def recognize_flask(frames: Sequence[Frame]) -> str | None:
    """Flask: ``Flask.dispatch_request`` calls the view function."""
    return _below_last(
        frames,
        lambda f: f.name.endswith("dispatch_request") and package_of(f.file) == "flask",
    )


def recognize_starlette(frames: Sequence[Frame]) -> str | None:
    """FastAPI ``run_endpoint_function`` / Starlette ``request_response`` call the endpoint.

    Sync endpoints run in anyio's worker threads, whose stacks hold no framework frame but
    the worker's: there the first app frame below ``WorkerThread.run`` is the endpoint.
    """
    found = _below_last(
        frames,
        lambda f: (
            package_of(f.file) in ("fastapi", "starlette")
            and ("run_endpoint_function" in f.name or "request_response" in f.name)
        ),
    )
    if found is not None:
        return found
    return _below_last(
        frames, lambda f: f.name.endswith("WorkerThread.run") and package_of(f.file) == "anyio"
    )


# Where WSGI servers call the application: (package, function name suffix).
_WSGI_SERVERS = (
    ("wsgiref", "BaseHandler.run"),
    ("gunicorn", "handle_request"),
    ("waitress", "WSGITask.execute"),
    ("werkzeug", "run_wsgi.<locals>.execute"),
)


def recognize_wsgi(frames: Sequence[Frame]) -> str | None:
    """A plain WSGI app: the callee of the app's router (a frame named ``dispatch``) below the
    server's call into the app, else the app callable itself. Without a known server frame
    (uWSGI calls the app from C; batch drivers call it directly) only a router counts."""
    start = None
    for i, f in enumerate(frames):
        pkg = package_of(f.file)
        if any(pkg == p and f.name.endswith(n) for p, n in _WSGI_SERVERS):
            start = i
    app = [f for f in frames[(start if start is not None else -1) + 1 :] if not _is_framework(f)]
    if not app:
        return None
    for j, f in enumerate(app[:-1]):
        if f.name.rsplit(".", 1)[-1] in ("dispatch", "dispatch_request"):
            return app[j + 1].name
    return app[0].name if start is not None else None


RECOGNIZERS: dict[str, Recognizer] = {
    "drf": recognize_drf,
    "django": recognize_django,
    "flask": recognize_flask,
    "starlette": recognize_starlette,
    "wsgi": recognize_wsgi,
}
"""Tried in this order (most specific first); the first name found wins."""


def endpoint_of(frames: Sequence[Frame]) -> str | None:
    """The endpoint a stack (root→leaf) was serving, or None when no recogniser knows."""
    for rec in RECOGNIZERS.values():
        name = rec(frames)
        if name is not None:
            return name
    return None


def label_endpoints(profile: Profile) -> Profile:
    """A profile whose samples without an ``endpoint`` label get one from their stack.

    Returns ``profile`` itself when nothing was recognised (or everything was labelled).
    """
    found: dict[tuple[int, ...], str | None] = {}
    relabel: dict[tuple[tuple[int, ...], int], Labels] = {}
    for (stack, lid), _w in profile.samples.items():
        labels = profile.label_sets[lid]
        if any(k == ENDPOINT for k, _ in labels):
            continue
        if stack not in found:
            found[stack] = endpoint_of(profile.stack_frames(stack))
        name = found[stack]
        if name is not None:
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

"""Flask: ``init_app(app, output_dir=...)`` wraps ``app.wsgi_app`` with the middleware.

The endpoint is ``METHOD rule`` from ``request.url_rule.rule`` (e.g. ``GET
/orders/<int:id>``), put into the WSGI environ when Flask's request starts, i.e. after URL
matching, so the middleware reads it once the app returns.
"""

from __future__ import annotations

from typing import Any

from hotpath.collect.middleware import ENVIRON_KEY, WSGIMiddleware, method_of
from hotpath.collect.request_store import MiddlewareOptions


def _label_request(sender: Any, **_extra: Any) -> None:
    try:
        from flask import request

        rule = request.url_rule
        if rule is not None:
            request.environ[ENVIRON_KEY] = f"{method_of(request.method)} {rule.rule}"
    except Exception:  # never break the request; the middleware falls back to <unmatched>
        pass


def init_app(
    app: Any, options: MiddlewareOptions | None = None, **overrides: Any
) -> WSGIMiddleware:
    """Install the middleware on a Flask app; returns it (for ``.recorder`` / flushing)."""
    from flask import request_started

    request_started.connect(_label_request, app, weak=False)
    middleware = WSGIMiddleware(app.wsgi_app, options, **overrides)
    app.wsgi_app = middleware
    return middleware

"""Quart: ``hotpath.integrations.quart.init_app(app, output_dir=...)``.

Wraps ``app.asgi_app`` with the ASGI middleware. The endpoint is ``METHOD rule`` from
``request.url_rule.rule`` (e.g. ``GET /orders/<int:id>``), copied into the scope when Quart
has handled the request. Quart runs each handler in a task of its own; the middleware
counts the CPU time of the tasks a request creates.
"""

from __future__ import annotations

from typing import Any

from hotpath.collect import middleware as _mw
from hotpath.collect.request_store import MiddlewareOptions


def init_app(
    app: Any, options: MiddlewareOptions | None = None, **overrides: Any
) -> _mw.ASGIMiddleware:
    """Install the middleware on a Quart app; returns it (for ``.recorder`` / flushing)."""
    handle = app.handle_request

    async def handle_request(request: Any) -> Any:
        try:
            return await handle(request)
        finally:
            rule = getattr(getattr(request, "url_rule", None), "rule", None)
            scope = getattr(request, "scope", None)
            if isinstance(rule, str) and isinstance(scope, dict):
                scope[_mw.ENVIRON_KEY] = rule

    app.handle_request = handle_request
    middleware = _mw.ASGIMiddleware(app.asgi_app, options, **overrides)
    app.asgi_app = middleware
    return middleware

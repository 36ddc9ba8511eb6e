"""Falcon: ``app = hotpath.integrations.falcon.instrument(app, output_dir=...)``; serve the
returned app.

The endpoint is ``METHOD uri_template`` (e.g. ``GET /orders/{id:int}``): a middleware
component copies ``req.uri_template`` into the environ (WSGI) or scope (ASGI) once Falcon
has routed the request. Works for ``falcon.App`` and ``falcon.asgi.App``.
"""

from __future__ import annotations

from typing import Any

from hotpath.collect import middleware as _mw
from hotpath.collect.request_store import MiddlewareOptions


def _label(req: Any) -> None:
    template = getattr(req, "uri_template", None)
    if not isinstance(template, str) or not template:
        return
    where = getattr(req, "scope", None)
    if not isinstance(where, dict):
        where = getattr(req, "env", None)
    if isinstance(where, dict):
        where[_mw.ENVIRON_KEY] = template


class RouteComponent:
    """Falcon middleware component: records the matched URI template for hotpath."""

    def process_resource(self, req: Any, resp: Any, resource: Any, params: Any) -> None:
        _label(req)

    async def process_resource_async(self, req: Any, resp: Any, resource: Any, params: Any) -> None:
        _label(req)


def instrument(app: Any, options: MiddlewareOptions | None = None, **overrides: Any) -> Any:
    """Add the route component to a Falcon app; returns the app wrapped in the middleware."""
    app.add_middleware(RouteComponent())
    if type(app).__module__.startswith("falcon.asgi"):
        return _mw.ASGIMiddleware(app, options, **overrides)
    return _mw.WSGIMiddleware(app, options, **overrides)

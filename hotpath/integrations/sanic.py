"""Sanic: ``hotpath.integrations.sanic.init_app(app, output_dir=...)``.

Records every request from Sanic's request middleware to its response middleware; the
CPU time is that of the route handler's own steps (and the tasks it creates). The endpoint
is ``METHOD uri_template`` (e.g. ``GET /orders/<id:int>``). Sanic's workers end without
running atexit, so each worker flushes its file when its server stops.
"""

from __future__ import annotations

import functools
from typing import Any

from hotpath.collect import middleware as _mw
from hotpath.collect.request_store import MiddlewareOptions, RequestStore

_mw._OWN_FILES.add(__file__)
_KEY = "_hotpath_timer"


def route_of(request: Any) -> str | None:
    template = getattr(request, "uri_template", None)
    if isinstance(template, str) and template:
        return template
    path = getattr(getattr(request, "route", None), "path", None)
    return path if isinstance(path, str) else None


def init_app(app: Any, options: MiddlewareOptions | None = None, **overrides: Any) -> RequestStore:
    """Install the middleware on a Sanic app; returns its recorder (one per worker)."""
    opts = _mw.make_options(options, overrides)
    recorder = RequestStore(opts, "sanic")

    def wrap(handler: Any) -> Any:
        @functools.wraps(handler)
        async def timed_handler(request: Any, *args: Any, **kwargs: Any) -> Any:
            timer = getattr(request.ctx, _KEY, None)
            result = handler(request, *args, **kwargs)
            if timer is None:
                return await result if hasattr(result, "__await__") else result
            return await timer.run(result)

        return timed_handler

    async def wrap_handlers(_app: Any, *_: Any) -> None:
        for route in app.router.routes:
            if not getattr(route.handler, "_hotpath", False):
                route.handler = wrap(route.handler)
                route.handler._hotpath = True

    async def on_request(request: Any) -> None:
        if opts.enabled:
            setattr(request.ctx, _KEY, _mw.TimedRequest(recorder))

    async def on_response(request: Any, response: Any) -> None:
        timer = getattr(request.ctx, _KEY, None)
        if timer is None:
            return
        timer.finish(
            lambda: _mw.resolve_endpoint(
                recorder,
                opts.endpoint,
                request,
                _mw.method_of(request.method),
                lambda: route_of(request),
            ),
            getattr(response, "status", None),
        )

    async def flush(_app: Any, *_: Any) -> None:
        recorder.flush()

    app.register_listener(wrap_handlers, "before_server_start")
    app.register_listener(flush, "after_server_stop")
    app.register_middleware(on_request, "request")
    app.register_middleware(on_response, "response")
    return recorder

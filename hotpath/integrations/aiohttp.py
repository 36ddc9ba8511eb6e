"""aiohttp: ``hotpath.integrations.aiohttp.init_app(app, output_dir=...)``.

Adds an aiohttp middleware (outermost) that records every request and profiles a sampled
fraction. The endpoint is ``METHOD resource`` from the matched resource's canonical path
(e.g. ``GET /orders/{id}``). CPU time is that of the handler's own steps and of the tasks it
creates. The file is flushed at the app's cleanup (``web.run_app`` ends with it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hotpath.collect import middleware as _mw
from hotpath.collect.request_store import MiddlewareOptions, RequestStore

_mw._OWN_FILES.add(__file__)


def route_of(request: Any) -> str | None:
    resource = getattr(getattr(request.match_info, "route", None), "resource", None)
    canonical = getattr(resource, "canonical", None)
    return canonical if isinstance(canonical, str) and canonical else None


def init_app(app: Any, options: MiddlewareOptions | None = None, **overrides: Any) -> RequestStore:
    """Install the middleware on an aiohttp ``web.Application``; returns its recorder."""
    from aiohttp import web

    opts = _mw.make_options(options, overrides)
    recorder = RequestStore(opts, "aiohttp")

    @web.middleware
    async def hotpath_middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not opts.enabled:
            return await handler(request)
        timer = _mw.TimedRequest(recorder)
        status: int | None = 500
        try:
            response: web.StreamResponse = await timer.run(handler(request))
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            timer.finish(
                lambda: _mw.resolve_endpoint(
                    recorder,
                    opts.endpoint,
                    request,
                    _mw.method_of(request.method),
                    lambda: route_of(request),
                ),
                status,
            )

    async def flush(_app: Any) -> None:
        recorder.flush()

    app.middlewares.insert(0, hotpath_middleware)
    app.on_cleanup.append(flush)
    return recorder

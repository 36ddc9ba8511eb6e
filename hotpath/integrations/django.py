"""Django: put ``"hotpath.integrations.django.HotpathMiddleware"`` first in ``MIDDLEWARE``.

Options come from ``settings.HOTPATH`` (a dict of :class:`MiddlewareOptions` fields, e.g.
``{"output_dir": "/var/tmp/hotpath", "sample_fraction": 0.01}``). The endpoint is
``METHOD /route`` from ``request.resolver_match.route`` (e.g. ``GET /orders/<int:id>/``),
the URL pattern that matched, never the requested path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotpath.collect import middleware as _mw
from hotpath.collect.request_store import RequestStore

_mw._OWN_FILES.add(__file__)


def endpoint_of(request: Any) -> str:
    method = _mw.method_of(getattr(request, "method", None))
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    if isinstance(route, str) and route:
        return f"{method} {route if route.startswith('/') else '/' + route}"
    view_name = getattr(match, "view_name", None)
    if isinstance(view_name, str) and view_name:
        return f"{method} {view_name}"
    return f"{method} {_mw.UNMATCHED}"


class HotpathMiddleware:
    """Django middleware recording every request and profiling a sampled fraction."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.conf import settings

        self.get_response = get_response
        overrides = dict(getattr(settings, "HOTPATH", None) or {})
        self.options = _mw.make_options(None, overrides)
        self.recorder = RequestStore(self.options, "django")

    def __call__(self, request: Any) -> Any:
        if not self.options.enabled:
            return self.get_response(request)
        probe = _mw._start(self.recorder, "disabled")
        if probe is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except BaseException:
            probe.finish(self.recorder, lambda: self._endpoint(request), 500)
            raise
        status = getattr(response, "status_code", None)
        probe.finish(
            self.recorder,
            lambda: self._endpoint(request),
            status if isinstance(status, int) else None,
        )
        return response

    def _endpoint(self, request: Any) -> str:
        fn = self.options.endpoint
        if fn is not None:
            name = fn(request)
            if isinstance(name, str) and name:
                return name
        return endpoint_of(request)

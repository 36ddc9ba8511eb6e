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


def route_of(request: Any) -> str | None:
    """The URL pattern that matched (``orders/<int:id>/``), else the view's name."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    if isinstance(route, str) and route:
        return route
    view_name = getattr(match, "view_name", None)
    return view_name if isinstance(view_name, str) and view_name else None


def endpoint_of(request: Any) -> str:
    return _mw.with_method(
        _mw.method_of(getattr(request, "method", None)), route_of(request) or _mw.UNMATCHED
    )


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
        return _mw.resolve_endpoint(
            self.recorder,
            self.options.endpoint,
            request,
            _mw.method_of(getattr(request, "method", None)),
            lambda: route_of(request),
        )

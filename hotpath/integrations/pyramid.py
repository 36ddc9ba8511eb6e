"""Pyramid: ``config.include("hotpath.integrations.pyramid")``, then serve
``hotpath.middleware.WSGIMiddleware(config.make_wsgi_app(), output_dir=...)``.

A tween copies the matched route's pattern (``request.matched_route.pattern``, e.g.
``/orders/{id}``) into the environ, where the middleware reads it once the app returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotpath.collect.middleware import ENVIRON_KEY


def tween_factory(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    def hotpath_tween(request: Any) -> Any:
        try:
            return handler(request)
        finally:
            pattern = getattr(getattr(request, "matched_route", None), "pattern", None)
            if isinstance(pattern, str) and pattern:
                request.environ[ENVIRON_KEY] = pattern

    return hotpath_tween


def includeme(config: Any) -> None:
    """Pyramid's include hook: registers the tween."""
    config.add_tween("hotpath.integrations.pyramid.tween_factory")

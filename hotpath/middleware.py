"""Public import path of the in-process collector: ``from hotpath.middleware import ...``.

``WSGIMiddleware(app, ...)`` and ``ASGIMiddleware(app, ...)`` accept a
:class:`MiddlewareOptions` and/or its fields as keywords (``output_dir=``,
``sample_fraction=``, ``flush_interval_s=``, ``interval_s=``, ``endpoint=``).
"""

from __future__ import annotations

from hotpath.collect.middleware import ASGIMiddleware, WSGIMiddleware
from hotpath.collect.request_store import MiddlewareOptions, flush_all

__all__ = ["ASGIMiddleware", "MiddlewareOptions", "WSGIMiddleware", "flush_all"]

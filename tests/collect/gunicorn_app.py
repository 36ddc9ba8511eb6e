"""The test router wrapped in the middleware, for gunicorn (``--preload``: built in the master).

The output directory comes from ``HOTPATH_TEST_OUT``.
"""

from __future__ import annotations

import os

from hotpath.middleware import WSGIMiddleware
from tests.collect.sample_apps import WSGIRouter

app = WSGIMiddleware(
    WSGIRouter(),
    output_dir=os.environ["HOTPATH_TEST_OUT"],
    sample_fraction=0.5,
    flush_interval_s=3600,  # only the exit flush writes: it must run in every worker
)

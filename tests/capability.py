"""One rule for missing capabilities (ptrace, Chromium, Graphviz, Node.js, gprof2dot):
in CI (env CI set) the test fails, naming what is missing; elsewhere it skips with that reason.
"""

from __future__ import annotations

import os

import pytest


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"missing capability in CI: {reason}")
    pytest.skip(reason)

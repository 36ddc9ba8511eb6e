"""Shared pytest options: ``--update-goldens`` (or HOTPATH_UPDATE_GOLDENS=1) rewrites golden
files; without it a missing or different golden fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite golden files from the current output instead of comparing.",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compare text with a committed golden file under the test's ``golden/`` directory."""
    update = bool(request.config.getoption("--update-goldens")) or (
        os.environ.get("HOTPATH_UPDATE_GOLDENS") == "1"
    )
    base = Path(request.path).parent / "golden"

    def check(name: str, text: str) -> None:
        path = base / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"golden {path} is missing; run pytest --update-goldens to create it")
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path} (pytest --update-goldens)"

    return check

"""Real headless Chromium for HTML report tests (selenium + the system chromedriver)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.capability import require

CHROMIUM = os.environ.get("HOTPATH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOTPATH_CHROMEDRIVER", "/usr/bin/chromedriver")


def require_chromium() -> None:
    """Fail in CI, skip with a reason elsewhere, when Chromium or selenium is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    require(not missing, "HTML report tests need " + ", ".join(missing))


HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium keeps trying hosts this closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
"""Flags for every headless Chromium here: tests, benchmarks/html_open.py and
docs/make_screenshot.py (plus a fresh ``--user-data-dir`` each time)."""


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A selenium driver for tests: a missing Chromium fails in CI (see require_chromium)."""
    require_chromium()
    with open_browser(width, height) as driver:
        yield driver


@contextmanager
def open_browser(width: int, height: int, extra: tuple[str, ...] = ()) -> Iterator[Any]:
    """Headless Chromium driven by selenium, its profile directory removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile_dir = tempfile.mkdtemp(prefix="hotpath-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (*HEADLESS, *extra, f"--window-size={width},{height}"):
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={profile_dir}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)

"""Size and open time of the HTML report for a large input (run by hand, never in tests).

    .venv/bin/python benchmarks/html_open.py PROFILE [PROFILE ...]

For each profile: analyse, write the HTML report, then open it in headless Chromium and
report the page size, the time to analyse+render, and the time from navigation start until
the report's script has drawn everything (``window.__hotpathReadyMs``), best of 3 loads.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from hotpath.analysis.pipeline import analyze
from hotpath.formats import read_profiles
from hotpath.report.html import render_html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: tests.report
from tests.report.report_browser import open_browser


def open_ms(html: Path, runs: int = 3) -> float:
    with open_browser(1400, 1000) as driver:
        best = float("inf")
        for _ in range(runs):
            driver.get("about:blank")
            driver.get(html.as_uri())
            best = min(best, float(driver.execute_script("return window.__hotpathReadyMs")))
        return best


def main(paths: list[str]) -> None:
    for p in paths:
        size_in = Path(p).stat().st_size
        t0 = time.perf_counter()
        analysis = analyze(read_profiles([p]))
        page = render_html(analysis)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            html = Path(tmp) / "report.html"
            html.write_text(page, encoding="utf-8")
            ms = open_ms(html)
        nodes = analysis.flame.count() if analysis.flame else 0
        print(
            f"{Path(p).name}: input {size_in / 1024**2:.0f} MiB -> page "
            f"{len(page.encode()) / 1024:.0f} KiB ({nodes} flame nodes); "
            f"read+analyse+render {t1 - t0:.1f} s; open in Chromium {ms:.0f} ms"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

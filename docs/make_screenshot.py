"""Make docs/report.png: record docs/screenshot_workload.py with py-spy, write the HTML
report, and photograph it in headless Chromium.

    .venv/bin/python docs/make_screenshot.py            # writes docs/report.png
    .venv/bin/python docs/make_screenshot.py --keep DIR # also keeps the profile and HTML

Needs py-spy (a hotpath dependency), /usr/bin/chromium, /usr/bin/chromedriver, selenium.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hotpath.analysis.options import AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.formats import read_profile
from hotpath.report.html import render_html

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repo: tests.report
from tests.report.report_browser import open_browser  # noqa: E402


def record(out: Path) -> None:
    """Attach py-spy to the running workload, after its imports, for a tidy picture."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    work = subprocess.Popen([sys.executable, str(HERE / "screenshot_workload.py"), "6"])
    try:
        time.sleep(1.0)
        subprocess.run(
            [py_spy, "record", "-r", "250", "-d", "3", "-f", "raw", "-o", str(out),
             "--pid", str(work.pid)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    finally:
        work.kill()
        work.wait()


def photograph(html: Path, png: Path) -> None:
    with open_browser(1400, 1000, ("--hide-scrollbars",)) as driver:
        driver.get(html.as_uri())
        # Show the search at work: highlight the pricing code and its share.
        driver.find_element("id", "flame-search").send_keys("discount")
        driver.save_screenshot(str(png))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "report.png")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hotpath-docs-"))
    try:
        folded = work / "shop.folded"
        record(folded)
        analysis = analyze(read_profile(folded), AnalyzeOptions(source_root=str(HERE)))
        html = work / "report.html"
        html.write_text(render_html(analysis), encoding="utf-8")
        photograph(html, args.out)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(folded, args.keep)
            shutil.copy(html, args.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

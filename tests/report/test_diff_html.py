"""The differential flame graph, loaded in real headless Chromium (``--dump-dom``)."""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import tempfile
from pathlib import Path

from hotpath.analysis.diff import diff_profiles
from hotpath.model import Frame, Profile
from hotpath.report.diff_html import colour, render_diff_html
from tests.capability import require
from tests.report.report_browser import CHROMIUM, HEADLESS

HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"


def _require_chromium() -> None:
    require(os.path.exists(CHROMIUM), f"the HTML test needs Chromium at {CHROMIUM}")


def _dump_dom(page: Path) -> str:
    _require_chromium()
    with tempfile.TemporaryDirectory(prefix="hotpath-chromium-") as profile_dir:
        proc = subprocess.run(
            [
                CHROMIUM,
                *HEADLESS,
                f"--user-data-dir={profile_dir}",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_diff_html_renders_red_and_blue_boxes_and_escapes_names(tmp_path: Path) -> None:
    base, cur = Profile(), Profile()
    for p, grow, shrink in ((base, 1000, 5000), (cur, 4000, 2000)):
        p.add_frames([Frame("main", "app.py", 1), Frame("grows", "app.py", 5)], grow)
        p.add_frames([Frame("main", "app.py", 1), Frame("shrinks", "app.py", 9)], shrink)
        p.add_frames([Frame("main", "app.py", 1), Frame(HOSTILE, "x.py", 2)], 4000)
    result = diff_profiles(base, cur, tree=True)
    buf = io.StringIO()
    render_diff_html(result, buf)
    page = tmp_path / "diff.html"
    page.write_text(buf.getvalue(), encoding="utf-8")
    dom = _dump_dom(page)
    assert "<title>hotpath diff</title>" in dom  # the onerror handler never ran
    assert "<img" not in dom and html.escape(HOSTILE, quote=False) in dom
    boxes = re.findall(r'<div class="b" style="([^"]*)"[^>]*>([^<]*)</div>', dom)
    by_name = {html.unescape(name): style for style, name in boxes}
    assert {"all", "main", "grows", "shrinks"} <= set(by_name)
    assert colour(0.1, 0.4) in by_name["grows"] and colour(0.5, 0.2) in by_name["shrinks"]
    assert "width: 40" in by_name["grows"] or "width:40" in by_name["grows"]
    assert "grows" in dom and "regressed" in dom


def test_colour_direction() -> None:
    red, blue, grey = colour(0.1, 0.2), colour(0.2, 0.1), colour(0.1, 0.1)
    assert red.startswith("rgb(235,") and blue.endswith(",235)") and grey == "rgb(210,210,210)"

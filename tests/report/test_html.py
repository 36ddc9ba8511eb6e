"""The HTML report in a real headless Chromium: loads offline, draws, zooms, searches, sorts,
and shows hostile names as text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hotpath.analysis.calltree import build_calltree
from hotpath.analysis.pipeline import analyze
from hotpath.analysis.results import Analysis
from hotpath.model import Frame, Profile
from hotpath.report.html import json_for_script, render_html, report_data
from tests.report.report_browser import chromium
from tests.report.report_samples import XSS_IMG, XSS_SCRIPT, base_analysis, full_analysis


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One Chromium for the module: starting it costs seconds, pages are independent."""
    with chromium() as d:
        yield d


def _write(tmp_path: Path, analysis: Analysis, name: str = "report.html") -> Path:
    path = tmp_path / name
    path.write_text(render_html(analysis), encoding="utf-8")
    return path


def _load(driver: Any, path: Path) -> None:
    driver.get_log("browser")  # drop messages left by an earlier page
    driver.get(path.as_uri())
    ready = driver.execute_script("return document.documentElement.getAttribute('data-ready')")
    assert ready == "1", "the report script did not finish"


def _errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def test_json_for_script_cannot_close_the_element() -> None:
    text = json_for_script({"n": "</script><!-- & \u2028\u2029"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"n": "</script><!-- & \u2028\u2029"}


def test_html_page_has_strict_csp_and_one_script(tmp_path: Path) -> None:
    page = render_html(full_analysis(tmp_path))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1)
    assert "unsafe-inline" not in csp.group(1)
    # The only tags are the template's: hostile names never appear as markup.
    assert XSS_SCRIPT not in page and XSS_IMG not in page
    assert len(re.findall(r"<script\b", page)) == 2  # data block + the report script
    # No URL outside the data (names may contain URLs; they are data, never fetched).
    code = re.sub(r'id="hotpath-data">.*?</script>', "", page, flags=re.S)
    assert "http://" not in code.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in code


def test_html_loads_offline_without_errors_and_draws_everything(
    tmp_path: Path, driver: Any
) -> None:
    path = _write(tmp_path, full_analysis(tmp_path))
    d = driver
    _load(d, path)
    assert _errors(d) == []
    assert d.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert d.execute_script("return window.__xss === undefined")
    frames = d.find_elements("css selector", "#flame g.frame")
    names = {f.get_attribute("textContent") for f in frames}
    assert len(frames) >= 8 and "main" in names
    assert (
        "2 functions (20% of the app's functions)" in d.find_element("id", "pareto-sentence").text
    )
    assert len(d.find_elements("css selector", "#endpoint-table tbody tr")) == 3
    assert len(d.find_elements("css selector", "article.candidate")) == 2
    plan = d.find_elements("css selector", "#plan-table tbody tr")
    assert [r.find_element("css selector", "td").text for r in plan] == ["1", "2"]
    assert "45.0% to 60.0%" in plan[1].text and XSS_SCRIPT in plan[1].text
    assert (
        "Not a step: render (function): after step 2" in d.find_element("id", "plan-section").text
    )
    assert d.find_elements("css selector", "#pareto polyline.pareto-functions")
    # Hostile names are shown as text, in the function table and in the cards.
    body = d.find_element("tag name", "body").text
    assert XSS_SCRIPT in body and XSS_IMG in body
    assert d.execute_script("return document.querySelectorAll('img').length") == 0
    assert d.execute_script("return window.__xss === undefined")


def test_html_click_zooms_into_a_frame(tmp_path: Path, driver: Any) -> None:
    path = _write(tmp_path, base_analysis(tmp_path))
    d = driver
    _load(d, path)

    def width_of(name: str) -> float:
        return float(
            d.execute_script(
                "for (const g of document.querySelectorAll('#flame g.frame:not(.ancestor)'))"
                " if (g.textContent === arguments[0])"
                "   return g.querySelector('rect').getBoundingClientRect().width;"
                " return -1;",
                name,
            )
        )

    full = float(d.execute_script("return document.getElementById('flame').clientWidth"))
    before = width_of("compute")
    assert 0 < before < full * 0.7
    target = next(
        g for g in d.find_elements("css selector", "#flame g.frame") if g.text == "compute"
    )
    target.click()
    after = width_of("compute")
    assert after > full * 0.95, (before, after, full)
    assert "compute" in d.find_element("id", "flame-crumbs").text
    # Its caller is still drawn above it, as a dimmed ancestor.
    assert d.find_elements("css selector", "#flame g.ancestor")
    d.find_element("id", "flame-reset").click()
    assert width_of("compute") == pytest.approx(before, rel=0.01)
    assert _errors(d) == []


def test_html_search_highlights_and_reports_share(tmp_path: Path, driver: Any) -> None:
    analysis = base_analysis(tmp_path)
    path = _write(tmp_path, analysis)
    d = driver
    _load(d, path)
    d.find_element("id", "flame-search").send_keys("compute")
    matched = d.find_elements("css selector", "#flame g.match")
    # compute is reached through two lines of handle: one node in the merged tree.
    assert [m.text for m in matched] == ["compute"]
    share = float(d.find_element("id", "search-result").get_attribute("data-share"))
    truth = next(r.inclusive_share for r in analysis.functions if r.name == "compute")
    assert share == pytest.approx(truth)
    assert "65.0% of total" in d.find_element("id", "search-result").text
    # A name matching nested frames counts each sample once.
    d.find_element("id", "flame-search").clear()
    d.find_element("id", "flame-search").send_keys("app/")
    share = float(d.find_element("id", "search-result").get_attribute("data-share"))
    assert share == pytest.approx(1.0)


def _column(d: Any, table: str, col: int) -> list[str]:
    cells = d.find_elements("css selector", f"#{table} tbody tr td:nth-child({col})")
    return [c.text for c in cells]


def test_html_tables_sort_by_clicked_column(tmp_path: Path, driver: Any) -> None:
    path = _write(tmp_path, full_analysis(tmp_path))
    d = driver
    _load(d, path)
    d.execute_script("document.getElementById('function-table').scrollIntoView()")
    header = d.find_element("css selector", "#function-table th[data-key='self']")
    header.click()  # numbers sort descending first
    selfs = [float(x.replace(",", "")) for x in _column(d, "function-table", 7)]
    assert selfs == sorted(selfs, reverse=True) and selfs[0] == 500
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    selfs = [float(x.replace(",", "")) for x in _column(d, "function-table", 7)]
    assert selfs == sorted(selfs)
    name_header = d.find_element("css selector", "#function-table th[data-key='name']")
    name_header.click()
    names = _column(d, "function-table", 2)
    assert names == sorted(names)
    ep = d.find_element("css selector", "#endpoint-table th[data-key='requests']")
    ep.click()
    assert _column(d, "endpoint-table", 5)[:2] == ["1,200", "40"]
    assert _errors(d) == []


def test_html_pruned_page_stays_small_for_many_stacks(tmp_path: Path, driver: Any) -> None:
    # 4,000 distinct stacks over 200 functions: pruning keeps the page far smaller.
    p = Profile()
    for i in range(4_000):
        frames = [Frame("main", "app.py"), Frame(f"f{i % 200}", "m.py"), Frame(f"g{i}", "n.py")]
        p.add_frames(frames, 1)
    analysis = analyze(p)
    assert analysis.flame is not None
    page = render_html(analysis)
    full = replace(analysis, flame=build_calltree(p, min_share=0.0))
    unpruned = render_html(full)
    data = report_data(analysis)
    # The flame graph's data shrinks to a fraction; the page (whose function table is capped
    # at MAX_FUNCTIONS rows either way) shrinks by at least that much.
    pruned_flame = len(json.dumps(data["flame"]))
    full_flame = len(json.dumps(report_data(full, min_share=0.0)["flame"]))
    assert pruned_flame < 0.2 * full_flame
    assert len(unpruned) - len(page) > 0.7 * (full_flame - pruned_flame)
    assert data["flame"]["hidden_frames"] == 4_000  # every leaf is below 0.05%
    tree = build_calltree(p, min_share=0.0)
    assert tree.count() == 1 + 1 + 200 + 4_000
    path = _write(tmp_path, analysis)
    d = driver
    _load(d, path)
    assert "smaller frames hidden" in d.find_element("id", "flame-note").text
    assert _errors(d) == []


def test_html_renders_without_stacks_or_sections(tmp_path: Path, driver: Any) -> None:
    empty = analyze(Profile())
    path = _write(tmp_path, empty)
    d = driver
    _load(d, path)
    assert "No stacks" in d.find_element("id", "flame-section").text
    assert _errors(d) == []


def test_html_hover_shows_details_and_print_hides_controls(tmp_path: Path, driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    analysis = base_analysis(tmp_path)
    path = _write(tmp_path, analysis)
    d = driver
    _load(d, path)
    target = next(
        g for g in d.find_elements("css selector", "#flame g.frame") if g.text == "compute"
    )
    ActionChains(d).move_to_element(target).perform()
    tip = d.find_element("id", "tooltip")
    assert tip.is_displayed()
    assert "compute" in tip.text and "app/calc.py" in tip.text
    assert "inclusive 650 (65.0%)" in tip.text and "self 500 (50.0%)" in tip.text
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = d.execute_script(
            "return getComputedStyle(document.querySelector('.controls')).display"
        )
        assert shown == "none"
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_html_draws_a_50000_frame_stack_capped_at_max_depth(tmp_path: Path, driver: Any) -> None:
    from hotpath.report.html import MAX_FLAME_DEPTH

    p = Profile()
    p.add_frames([Frame(f"f{i % 500}", "m.py", i) for i in range(50_000)], 7)
    analysis = analyze(p)
    data = report_data(analysis)
    node, depth = data["flame"]["root"], 0
    while node[6]:
        node, depth = node[6][0], depth + 1
    assert depth == MAX_FLAME_DEPTH + 1
    assert data["flame"]["strings"][node[0]].endswith("deeper frames hidden")
    path = _write(tmp_path, analysis)
    _load(driver, path)
    assert _errors(driver) == []


def test_html_endpoint_table_drops_request_columns_nobody_has(tmp_path: Path, driver: Any) -> None:
    """A py-spy profile has endpoints from stacks but no request counts or latencies: the
    table shows no empty requests/CPU-per-request/p50/p99 columns."""
    from hotpath.formats import read_profile

    root = Path(__file__).resolve().parents[2]
    analysis = analyze(read_profile(str(root / "fixtures" / "sample" / "pyspy.raw.txt")))
    assert analysis.endpoints and all(e.requests is None for e in analysis.endpoints)
    d = driver
    _load(d, _write(tmp_path, analysis))
    keys = [
        th.get_attribute("data-key") for th in d.find_elements("css selector", "#endpoint-table th")
    ]
    assert keys[:2] == ["name", "share"] and "top" in keys
    for gone in ("requests", "cpu_per_request_s", "p50_ms", "p99_ms"):
        assert gone not in keys, keys
    assert _errors(d) == []

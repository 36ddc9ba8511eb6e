"""Markdown summary: golden files, and escaping that keeps tables intact on the forges."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hotpath import escape
from hotpath.analysis.pipeline import analyze
from hotpath.model import Profile
from hotpath.report.markdown import escape_cell, render
from tests.report.report_samples import EVIL_MD, XSS_IMG, full_analysis

Golden = Callable[[str, str], None]


def _md(analysis: object) -> str:
    out = io.StringIO()
    render(analysis, out)  # type: ignore[arg-type]
    return out.getvalue()


def test_markdown_full_report_matches_golden(tmp_path: Path, golden: Golden) -> None:
    golden("full.md", _md(full_analysis(tmp_path)))


def test_markdown_empty_profile_matches_golden(golden: Golden) -> None:
    golden("empty.md", _md(analyze(Profile())))


@pytest.mark.parametrize("name", [EVIL_MD, XSS_IMG, "a|b", "x\\|y", "`code`", "[a](b)"])
def test_escape_cell_keeps_one_cell_and_no_markup(name: str) -> None:
    cell = escape_cell(name)
    assert "\n" not in cell
    # Every | left in the cell is escaped, so the cell cannot split.
    assert not re.search(r"(?<!\\)\|", cell)
    assert "<" not in cell and ">" not in cell
    assert not re.search(r"(?<!\\)[`*_\[\]]", cell)


def test_markdown_tables_have_consistent_columns(tmp_path: Path) -> None:
    text = _md(full_analysis(tmp_path))
    for block in re.findall(r"(?:^\|.*\|$\n?)+", text, re.M):
        rows = block.strip().splitlines()
        widths = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
        assert len(widths) == 1, rows


def test_markdown_parses_as_tables_with_hostile_names_inert(tmp_path: Path) -> None:
    """An independent Markdown parser (markdown-it, CommonMark + GFM tables) sees every
    table intact and no HTML, link or emphasis coming from names."""
    from markdown_it import MarkdownIt

    analysis = full_analysis(tmp_path)
    html = MarkdownIt("commonmark").enable("table").render(_md(analysis))
    assert html.count("<table>") == 5  # endpoints, functions twice, candidates, the plan
    widths = {"endpoint": 5, "#": 7, "candidate": 5, "step": 7}
    for table in re.findall(r"<table>(.*?)</table>", html, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        first = re.search(r"<th[^>]*>(.*?)</th>", rows[0]).group(1)  # type: ignore[union-attr]
        assert all(len(re.findall(r"<t[dh]", r)) == widths[first] for r in rows), first
    assert "<script" not in html and "<img" not in html
    assert "<a " not in html and "<em>" not in html and "<code>" not in html
    # Names come back as the same text once HTML entities are decoded.
    import html as html_mod

    assert XSS_IMG in html_mod.unescape(html)
    # ...with the line break shown as \x0a and a word joiner keeping the URL from linking.
    assert escape.text(EVIL_MD).replace("//", "/\u2060/") in html_mod.unescape(html)

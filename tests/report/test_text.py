"""Terminal report: golden files, colour rules (TTY, NO_COLOR), widths, progress bar."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from hotpath.analysis.pipeline import analyze
from hotpath.formats import read_profiles
from hotpath.model import Profile
from hotpath.report.progress import read_progress
from hotpath.report.text import render, shorten_path, use_color
from tests.report.report_samples import XSS_SCRIPT, full_analysis, sample_profile_path

Golden = Callable[[str, str], None]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _text(analysis: object, width: int = 100, color: bool | None = False) -> str:
    out = io.StringIO()
    render(analysis, out, width=width, color=color)  # type: ignore[arg-type]
    return out.getvalue()


def test_text_full_report_matches_golden(tmp_path: Path, golden: Golden) -> None:
    golden("full.txt", _text(full_analysis(tmp_path)))


def test_text_narrow_terminal_matches_golden(tmp_path: Path, golden: Golden) -> None:
    text = _text(full_analysis(tmp_path), width=60)
    assert max(len(line) for line in text.splitlines()) <= 60
    golden("narrow.txt", text)


def test_text_empty_profile_matches_golden(golden: Golden) -> None:
    golden("empty.txt", _text(analyze(Profile())))


def test_text_names_are_not_markup(tmp_path: Path) -> None:
    assert XSS_SCRIPT in _text(full_analysis(tmp_path), width=200)
    assert "[bold]x" in _text_of_name("[bold]x")


def _text_of_name(name: str) -> str:
    from hotpath.model import Frame

    p = Profile()
    p.add_frames([Frame(name, "a.py", 1)], 1)
    return _text(analyze(p))


def test_use_color_needs_tty_and_no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(_Tty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(_Tty()) is False


def test_text_colour_follows_tty_and_no_color(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = _Tty()
    render(full_analysis(tmp_path), tty, width=100)
    assert "\x1b[" in tty.getvalue()
    plain = io.StringIO()
    render(full_analysis(tmp_path), plain, width=100)
    assert "\x1b[" not in plain.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = _Tty()
    render(full_analysis(tmp_path), tty, width=100)
    assert "\x1b[" not in tty.getvalue()


def test_shorten_path_keeps_the_tail() -> None:
    long = "/home/user/projects/shop/src/shop/orders/services/pricing/discounts.py"
    short = shorten_path(long, 40)
    assert len(short) <= 40 and short.endswith("pricing/discounts.py")
    assert short.startswith("…/")
    assert shorten_path("app.py", 40) == "app.py"


def test_read_progress_counts_every_byte_only_on_a_tty(tmp_path: Path) -> None:
    path = sample_profile_path(tmp_path)
    size = path.stat().st_size
    with read_progress(size, io.StringIO(), min_bytes=0) as cb:
        assert cb is None  # not a terminal: no bar
    seen: list[int] = []
    read_profiles([path], on_bytes=seen.append)
    assert sum(seen) == size
    tty = _Tty()
    with read_progress(size, tty, min_bytes=0) as cb:
        assert cb is not None
        read_profiles([path], on_bytes=cb)
    assert "reading" in tty.getvalue()
    with read_progress(size, _Tty(), min_bytes=size + 1) as cb:
        assert cb is None  # small input: no bar


def test_endpoint_table_has_no_request_columns_when_no_endpoint_has_requests() -> None:
    """py-spy profiles carry no request counts: no empty requests/cpu/req/p50/p99 columns."""
    root = Path(__file__).resolve().parents[2]
    analysis = analyze(read_profiles([root / "fixtures" / "sample" / "pyspy.raw.txt"]))
    assert analysis.endpoints and all(e.requests is None for e in analysis.endpoints)
    table = _text(analysis, width=100).split("endpoints by CPU share")[1].split("functions by")[0]
    header = next(line for line in table.splitlines() if "endpoint" in line)
    assert "cpu %" in header
    for column in ("requests", "cpu/req", "p50ms", "p99ms"):
        assert column not in header, header

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpath.demo.kernel import STUB_ENV, edit_distance, rank_candidates


def _reference_distance(a: str, b: str) -> int:
    """Textbook full-matrix Levenshtein, written independently of the kernel."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    return d[len(a)][len(b)]


@given(st.text("abcd", max_size=9), st.text("abcd", max_size=9))
def test_edit_distance_equals_the_textbook_definition(a: str, b: str) -> None:
    assert edit_distance(a, b) == _reference_distance(a, b)


def test_edit_distance_known_values() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("flaw", "lawn") == 2


def test_rank_candidates_orders_by_distance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STUB_ENV, raising=False)
    best = rank_candidates("kalo", ["zuzuzu", "kalo", "kale", "lo"], top=3)
    assert best == [("kalo", 0), ("kale", 1), ("lo", 2)]


def test_rank_candidates_stub_keeps_the_answer_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STUB_ENV, "1")
    assert rank_candidates("kalo", ["zuzuzu", "kalo", "kale"], top=2) == [
        ("zuzuzu", 0),
        ("kalo", 0),
    ]


@given(st.lists(st.text("abcd", max_size=9), min_size=1, max_size=8), st.text("abcd", max_size=9))
def test_edit_distance_with_reused_rows_matches_fresh_rows(words: list[str], query: str) -> None:
    rows = ([0] * 10, [0] * 10)
    for w in words:
        assert edit_distance(query, w, rows) == _reference_distance(query, w)

"""Rust types in extraction briefs, from Python annotations."""

from __future__ import annotations

import pytest

from hotpath.analysis.brief import rust_type


@pytest.mark.parametrize(
    ("annotation", "rust"),
    [
        ("str", "String"),
        ("list[str]", "Vec<String>"),
        ("dict[str, int]", "HashMap<String, i64>"),
        ("tuple[list[int], list[int]] | None", "Option<(Vec<i64>, Vec<i64>)>"),
        ("list[tuple[str, int]]", "Vec<(String, i64)>"),
        ("Optional[float]", "Option<f64>"),
        ("Request", "PyObject"),
        (None, "PyObject"),
    ],
)
def test_rust_type_maps_plain_data(annotation: str | None, rust: str) -> None:
    assert rust_type(annotation) == rust

"""A missing capability fails in CI and skips (with its reason) elsewhere: never a silent skip."""

from __future__ import annotations

import pytest

INNER = """
from tests.capability import require

def test_needs_something():
    require(False, "the frobnicator is not installed")
"""


@pytest.mark.parametrize(("ci", "outcome"), [("1", "failed"), ("", "skipped")])
def test_missing_capability(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(INNER)
    result = pytester.runpytest_inprocess("-rs")
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines(["*the frobnicator is not installed*"])

"""The pytest plugin's ``--hotpath-capture``: a real inner pytest run (``pytester``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hotpath.prove.files import read_capture

TESTS = """\
from tests.prove import textlib


def test_one():
    assert textlib.distance("kitten", "sitting") == 3


def test_two():
    assert [textlib.distance("a" * i, "b") for i in range(4)] == [1, 1, 2, 3]
"""


def test_capture_pytest_records_calls_per_test(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_work=TESTS)
    pytester.syspathinsert(str(Path(__file__).resolve().parents[2]))
    out = tmp_path / "cap.json"
    result = pytester.runpytest(f"--hotpath-capture=tests.prove.textlib:distance={out}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"hotpath: wrote {out} (calls of tests.prove.textlib:distance)"])
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    c = read_capture(str(out))
    assert c.calls == 5 and c.requests == 2 and c.calls_per_request == 2.5
    assert c.records[0].args == ["kitten", "sitting"] and c.records[0].result == 3


def test_capture_pytest_bad_spec_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_work=TESTS)
    result = pytester.runpytest("--hotpath-capture=tests.prove.textlib:distance")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*expected MODULE:QUALNAME=FILE*"])

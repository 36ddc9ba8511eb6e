"""The pytest plugin, end to end with ``pytester`` (a real inner pytest run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.analysis.callgraph import build_callgraph
from hotpath.cli import main
from hotpath.formats import read_profile

WORK = """
import pytest

def busy(n):
    acc = 0
    for i in range(n):
        acc += abs(i % 7 - 3)
    return acc

def light(n):
    acc = 0
    for i in range(n):
        acc += abs(i % 5 - 2)
    return acc

@pytest.mark.hotpath
def test_busy():
    for _ in range(5):
        busy(20000)
        light(5000)

def test_unmarked():
    for _ in range(5):
        light(20000)
"""


def _inclusive_share(path: Path, name: str) -> float:
    cg = build_callgraph(read_profile(path))
    return sum(f.inclusive for k, f in cg.functions.items() if k.name == name) / cg.total


def test_plugin_writes_profile_that_gates(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_work=WORK)
    out1, out2 = tmp_path / "a.hotpath.gz", tmp_path / "b.hotpath.gz"
    pytester.runpytest(f"--hotpath={out1}").assert_outcomes(passed=2)
    result = pytester.runpytest(f"--hotpath={out2}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["hotpath: wrote *b.hotpath.gz (* samples, 2 tests)"])
    profile = read_profile(out1)
    assert profile.meta.sample_count and profile.meta.sample_count > 50
    endpoints = profile.label_values("endpoint")
    assert endpoints == {"test_work.py::test_busy", "test_work.py::test_unmarked"}
    assert _inclusive_share(out1, "busy") > 0.2
    gate = CliRunner().invoke(main, ["gate", str(out1), str(out2), "--no-annotations"])
    assert gate.exit_code == 0, gate.output
    over = CliRunner().invoke(main, ["gate", str(out1), str(out2), "--budget", "test_work:busy=5%"])
    assert over.exit_code == 1 and "budget EXCEEDED: function test_work:busy" in over.output


def test_plugin_marked_only(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_work=WORK)
    out = tmp_path / "m.hotpath.gz"
    pytester.runpytest(f"--hotpath={out}", "--hotpath-marked").assert_outcomes(passed=2)
    assert read_profile(out).label_values("endpoint") == {"test_work.py::test_busy"}


def test_plugin_is_inert_without_flag(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inert="""
        import sys
        def test_no_profiler():
            # No profiler installed: pyinstrument uses sys.setprofile-like hooks.
            assert sys.getprofile() is None
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "hotpath:" not in result.stdout.str()
    assert not list(pytester.path.glob("*.gz"))


def test_plugin_marker_budget_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_budget=WORK
        + """
@pytest.mark.hotpath(budgets={"test_budget:busy": "10%"})
def test_over_budget():
    busy(50000)

@pytest.mark.hotpath(budgets={"test_budget:light": "90%"})
def test_within_budget():
    busy(30000)
"""
    )
    result = pytester.runpytest("-k", "over_budget or within_budget")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "hotpath budget exceeded: *test_over_budget: "
            "function test_budget:busy: *% of CPU exceeds*"
        ]
    )


def test_plugin_session_budget_fails_the_run(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_work=WORK)
    result = pytester.runpytest("--hotpath-budget", "test_work:light=1%")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["hotpath: budget exceeded: function test_work:light: *"])
    ok = pytester.runpytest("--hotpath-budget", "test_work:light=99%")
    assert ok.ret == 0

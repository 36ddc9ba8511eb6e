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


ATTEMPTS = 3
"""Live pairs a test tries before it fails. Two runs of the same tests are not two draws of
one sampler: the plugin weighs CPU time, and on a shared 2-core VM a burst of contention (or
host steal, which a guest counts as CPU time) during one test of a 0.1 s run moves its share.
Measured here, idle, 12 pairs of WORK: test_busy's inclusive share 0.36-0.52; one CI run went
from 0.49 to 0.69 and gated (p=0.02). A pair that passes on any of 3 attempts keeps the claim
("the same code passes the gate") while a real defect (every pair regressing) still fails."""


def _two_runs(pytester: pytest.Pytester, tmp_path: Path, attempt: int) -> tuple[Path, Path]:
    out1, out2 = tmp_path / f"a{attempt}.hotpath.gz", tmp_path / f"b{attempt}.hotpath.gz"
    pytester.runpytest(f"--hotpath={out1}").assert_outcomes(passed=2)
    result = pytester.runpytest(f"--hotpath={out2}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"hotpath: wrote *{out2.name} (* samples, * s, 2 tests)"])
    return out1, out2


def test_plugin_writes_profile_that_gates(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_work=WORK)
    outputs = []
    for attempt in range(ATTEMPTS):
        out1, out2 = _two_runs(pytester, tmp_path, attempt)
        profile = read_profile(out1)
        assert profile.meta.sample_count and profile.meta.sample_count > 50
        endpoints = profile.label_values("endpoint")
        assert endpoints == {"test_work.py::test_busy", "test_work.py::test_unmarked"}
        assert _inclusive_share(out1, "busy") > 0.2
        over = CliRunner().invoke(
            main, ["gate", str(out1), str(out2), "--budget", "test_work:busy=5%"]
        )
        assert over.exit_code == 1 and "budget EXCEEDED: function test_work:busy" in over.output
        gate = CliRunner().invoke(main, ["gate", str(out1), str(out2), "--no-annotations"])
        if gate.exit_code == 0:
            return
        assert gate.exit_code == 1, gate.output
        outputs.append(gate.output)
    pytest.fail(
        f"the same tests gated as regressed in {ATTEMPTS} of {ATTEMPTS} pairs:\n"
        + "\n".join(outputs)
    )


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


LOOP = """
import os

def steady(n):
    return sum(abs(i % 7 - 3) for i in range(n))

def loop_without_calls(n):
    acc = 0
    i = 0
    while i < n:  # no call inside: pyinstrument sees this loop only when it ends
        acc += i & 7
        i += 1
    return acc

def test_steady():
    for _ in range(4):
        steady(60000)

def test_loop():
    loop_without_calls(int(os.environ["LOOP_N"]))
"""


def test_plugin_weighs_by_time_so_a_call_free_loop_counts(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Live: measured here, idle, 10 pairs: the loop's share 0.13-0.17 before and 0.53-0.66
    # after (10x the work). One CI run measured 0.325 after, the steady test having run slow;
    # so it passes on 1 of ATTEMPTS pairs. Counting records instead of time gives the loop the
    # same tiny share on both sides, which no attempt passes.
    pytester.makepyfile(test_loop=LOOP)
    tries = []
    for attempt in range(ATTEMPTS):
        fast, slow = tmp_path / f"fast{attempt}.hotpath.gz", tmp_path / f"slow{attempt}.hotpath.gz"
        monkeypatch.setenv("LOOP_N", "150000")
        pytester.runpytest(f"--hotpath={fast}").assert_outcomes(passed=2)
        monkeypatch.setenv("LOOP_N", "1500000")  # the loop does 10x the work
        pytester.runpytest(f"--hotpath={slow}").assert_outcomes(passed=2)
        before = _inclusive_share(fast, "loop_without_calls")
        after = _inclusive_share(slow, "loop_without_calls")
        gate = CliRunner().invoke(main, ["gate", str(fast), str(slow), "--no-annotations"])
        flagged = gate.exit_code == 1 and "regressed: loop_without_calls" in gate.output
        if after > 2 * before and after > 0.4 and flagged:
            return
        tries.append((before, after, gate.exit_code))
    pytest.fail(f"(before, after, gate exit) in {ATTEMPTS} of {ATTEMPTS} pairs: {tries}")


def test_plugin_file_is_private_and_names_methods_with_their_class(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(
        test_cls="""
        class Worker:
            def crunch(self, n):
                return sum(abs(i % 7 - 3) for i in range(n))

        def test_method():
            for _ in range(5):
                Worker().crunch(40000)
        """
    )
    out = tmp_path / "m.hotpath.gz"
    pytester.runpytest(f"--hotpath={out}").assert_outcomes(passed=1)
    assert out.stat().st_mode & 0o777 == 0o600
    names = {f.name for f in read_profile(out).frames}
    assert "Worker.crunch" in names, sorted(names)


def test_plugin_lets_a_test_run_its_own_pyinstrument_profiler(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(
        test_own="""
        from pyinstrument import Profiler

        def test_profiles_itself():
            p = Profiler()
            p.start()
            sum(i * i for i in range(50000))
            session = p.stop()
            assert session.duration > 0
        """
    )
    result = pytester.runpytest(f"--hotpath={tmp_path / 'o.hotpath.gz'}")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "marker", "needle"),
    [
        (["--hotpath-budget", "bad"], "", "--hotpath-budget: --budget expects TARGET=SHARE"),
        (["--hotpath=/missing/dir/x.hotpath.gz"], "", "no such directory /missing/dir"),
        (["--hotpath=o.gz", "--hotpath-interval", "-1"], "", "must be a positive number"),
        (["--hotpath=o.gz", "--hotpath-interval", "nan"], "", "must be a positive number"),
        (["--hotpath=o.gz"], '(budgets="12%")', "must map functions to shares"),
        (["--hotpath=o.gz"], '(budgets={"f": "lots"})', "expected a share like"),
    ],
)
def test_plugin_bad_options_are_one_usage_error(
    pytester: pytest.Pytester, args: list[str], marker: str, needle: str
) -> None:
    mark = f"@pytest.mark.hotpath{marker}\n" if marker else ""
    pytester.makepyfile(test_x=f"import pytest\n{mark}def test_x():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    errors = [ln for ln in result.stderr.lines if ln.startswith("ERROR:")]
    assert len(errors) == 1 and needle in errors[0], result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()

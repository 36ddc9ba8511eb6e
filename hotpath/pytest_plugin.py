"""pytest plugin: profile a test run with pyinstrument and write a hotpath profile.

Inert until ``--hotpath=OUT`` is given (or a test carries a ``hotpath(budgets=...)`` marker).
Then every test's call phase (or, with ``--hotpath-marked``, only tests marked
``@pytest.mark.hotpath``) runs under an in-process pyinstrument profiler, and at the end of
the session the merged samples are written to OUT in hotpath's own format; OUT gates like any
other profile file (``hotpath gate base.hotpath.gz OUT``).

Each test's samples carry the ``endpoint`` label set to the test's node id, so the gate
compares tests' shares as it compares endpoints. Samples weigh the CPU time pyinstrument measured
for them (the test thread's CPU clock): it samples on calls and returns, so a loop that makes
no call is one record holding all of its time, and counting records would not see it get
slower; wall time would give a descheduled test's gap to one stack. The file is written with
mode 0600 (it names the project's functions and files). Budgets:
``@pytest.mark.hotpath(budgets={"myapp.search:score": "12%"})`` profiles that test (even
without ``--hotpath``: the marker asks for it) and fails it when the function's inclusive
share of the test's own profile exceeds the budget;
``--hotpath-budget "myapp.search:score=12%"`` checks the whole session's profile at the end
and fails the run (exit code 1) when it is exceeded.

``--hotpath-capture module:qualname=FILE`` (repeatable, independent of ``--hotpath``) records
a bounded sample of that function's real calls during the tests (arguments, results, times;
:mod:`hotpath.prove.capture`) and writes FILE at the end, for ``hotpath replay``; each test's
call phase counts as one request (calls per request = calls per test).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Generator, Mapping
from typing import Any, Literal

import pytest

from hotpath.formats.pyinstrument import parse_identifier
from hotpath.model import ENDPOINT, Frame, Metadata, Profile, merge

DEFAULT_INTERVAL = 0.0005


def _frame_of(identifier: str) -> Frame | None:
    """The frame of a pyinstrument identifier, parsed as the pyinstrument reader parses it
    (so a method is ``Class.method`` in both); None for the root ``<thread>`` placeholder."""
    try:
        parsed = parse_identifier(identifier)
    except ValueError:
        return None
    return parsed if isinstance(parsed, Frame) else None


def profile_from_session(
    session: Any,
    endpoint_of: Mapping[str, str] | None = None,
    interval: float | None = None,
    weight: Literal["time", "records"] = "time",
) -> Profile:
    """A Profile from a pyinstrument Session.

    ``weight="time"`` (unit seconds): each record weighs the time pyinstrument gave it, so
    work between two calls counts for its duration; the sample count behind it is that time
    over ``interval`` (what a sampler at that interval would have seen). ``"records"`` (unit
    samples): one sample per record, blind to call-free loops; kept to reproduce recordings
    made that way. ``endpoint_of`` maps a function name to an endpoint label: a sample whose
    stack holds that function gets it (the innermost match wins).
    """
    import pyinstrument

    meta = Metadata(unit="seconds" if weight == "time" else "samples")
    meta.tools["pyinstrument"] = pyinstrument.__version__
    meta.duration_s = float(session.duration)
    meta.interval_s = interval
    profile = Profile(meta)
    frame_cache: dict[str, Frame | None] = {}
    count = 0
    for identifiers, seconds in session.frame_records:
        frames = []
        endpoint = None
        for ident in identifiers:
            if ident in frame_cache:
                fr = frame_cache[ident]
            else:
                fr = frame_cache[ident] = _frame_of(ident)
            if fr is None:
                continue
            frames.append(fr)
            if endpoint_of and fr.name in endpoint_of:
                endpoint = endpoint_of[fr.name]
        w = 1.0 if weight == "records" else float(seconds)
        profile.add_frames(frames, w, {ENDPOINT: endpoint} if endpoint else None)
        count += 1
    if weight == "records":
        meta.sample_count = count
    elif interval:
        meta.sample_count = max(count, round(profile.total / interval))
    return profile


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hotpath", "hot-path profiling (hotpath)")
    group.addoption(
        "--hotpath",
        dest="hotpath_out",
        metavar="OUT",
        default=None,
        help="Profile the tests with pyinstrument and write a hotpath profile to OUT.",
    )
    group.addoption(
        "--hotpath-marked",
        action="store_true",
        default=False,
        help="Profile only tests marked @pytest.mark.hotpath.",
    )
    group.addoption(
        "--hotpath-budget",
        action="append",
        default=[],
        metavar="FUNCTION=SHARE",
        help="Fail the run when FUNCTION's share of the profiled tests exceeds SHARE.",
    )
    group.addoption(
        "--hotpath-capture",
        action="append",
        default=[],
        metavar="MODULE:QUALNAME=FILE",
        help="Record a sample of the function's real calls during the tests into FILE.",
    )
    group.addoption(
        "--hotpath-interval",
        type=float,
        default=DEFAULT_INTERVAL,
        help=f"Sampling interval in seconds (default {DEFAULT_INTERVAL}).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "hotpath(budgets=None): profile this test with hotpath; budgets maps "
        "'module:function' to a maximum share like '12%' and fails the test when exceeded.",
    )
    config.pluginmanager.register(HotpathRecorder(config), "hotpath-recorder")


class HotpathRecorder:
    """The plugin's one state holder: settings, and the profiles of the tests run so far."""

    def __init__(self, config: pytest.Config) -> None:
        from hotpath.analysis.gate import parse_budget_option
        from hotpath.errors import HotpathError

        self.out: str | None = config.getoption("hotpath_out")
        self.marked_only: bool = config.getoption("hotpath_marked")
        self.interval: float = config.getoption("hotpath_interval")
        if not (math.isfinite(self.interval) and self.interval > 0):
            raise pytest.UsageError(
                f"--hotpath-interval must be a positive number of seconds, not {self.interval!r}"
            )
        if self.out is not None:
            parent = os.path.dirname(os.path.abspath(self.out))
            if not os.path.isdir(parent):
                raise pytest.UsageError(f"--hotpath={self.out}: no such directory {parent}")
            if os.path.isdir(self.out):
                raise pytest.UsageError(f"--hotpath={self.out} is a directory, not a file")
        try:
            self.session_budgets = [
                parse_budget_option(t, "function") for t in config.getoption("hotpath_budget")
            ]
        except HotpathError as exc:
            raise pytest.UsageError(f"--hotpath-budget: {exc}") from None
        self.enabled = self.out is not None or bool(self.session_budgets)
        self.profiles: list[Profile] = []
        self.report: list[str] = []
        self.captures: list[Any] = []
        self.capture_specs: list[tuple[str, str]] = []
        for spec in config.getoption("hotpath_capture"):
            target, sep, out = spec.rpartition("=")
            if not sep or ":" not in target or not out:
                raise pytest.UsageError(f"--hotpath-capture={spec}: expected MODULE:QUALNAME=FILE")
            parent = os.path.dirname(os.path.abspath(out))
            if not os.path.isdir(parent):
                raise pytest.UsageError(f"--hotpath-capture={spec}: no such directory {parent}")
            self.capture_specs.append((target, out))

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from hotpath.errors import HotpathError
        from hotpath.prove.capture import capture

        for target, out in self.capture_specs:
            try:
                self.captures.append(capture(target, out).install())
            except HotpathError as exc:
                raise pytest.UsageError(f"--hotpath-capture: {exc}") from None

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Check every hotpath marker once, before any test runs."""
        for item in items:
            marker = item.get_closest_marker("hotpath")
            if marker is not None:
                _marker_budgets(marker, item.nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        for cap in self.captures:
            cap.note_request()
        marker = item.get_closest_marker("hotpath")
        budgets = _marker_budgets(marker, item.nodeid) if marker else {}
        record = self.enabled and (marker is not None or not self.marked_only)
        if not record and not budgets:
            return (yield)
        profiler = cpu_timed_profiler(self.interval)
        profiler.start()
        try:
            result = yield
        finally:
            session = profiler.stop()
            profile = _label_all(profile_from_session(session, interval=self.interval), item.nodeid)
            if record:
                self.profiles.append(profile)
        failed = _check_budgets(profile, budgets, f"{item.nodeid}: ")
        if failed:
            pytest.fail("hotpath budget exceeded: " + "; ".join(failed), pytrace=False)
        return result

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for cap in self.captures:
            cap.uninstall()
            path = cap.write()
            self.report.append(f"hotpath: wrote {path} (calls of {cap.target})")
        self.captures = []
        if not self.enabled:
            return
        if not self.profiles:
            self.report.append("hotpath: no test was profiled; no profile written")
            return
        profile = merge(self.profiles)
        if self.out is not None:
            from hotpath.collect.store import atomic_writer
            from hotpath.formats import write_profile

            with atomic_writer(self.out, binary=True, mode=0o600) as f:
                write_profile(profile, f, "hotpath")
            self.report.append(
                f"hotpath: wrote {self.out} ({profile.meta.sample_count} samples, "
                f"{profile.total:.2f} s, {len(self.profiles)} tests)"
            )
        budgets = {b.target: b.max_share for b in self.session_budgets}
        failed = _check_budgets(profile, budgets, "")
        for msg in failed:
            self.report.append(f"hotpath: budget exceeded: {msg}")
        if failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.report:
            terminalreporter.write_line(line)


def cpu_timed_profiler(interval: float) -> Any:
    """A pyinstrument Profiler whose records weigh the profiled thread's CPU time since the
    previous record, instead of wall time.

    pyinstrument samples on calls and returns (when ``interval`` of wall time has passed) and
    gives each record the wall time since the last one. On a busy CI machine a descheduled
    test gives its whole gap to one stack (measured on a loaded 2-core machine: the same two
    tests swung from 22% to 44% of a run); the thread's CPU clock does not advance while it
    waits, and a call-free loop still gets all of its CPU time. Where pyinstrument's record
    hook is not there (another major version), this is a plain Profiler: wall time.
    """
    from pyinstrument import Profiler

    if not hasattr(Profiler, "_sampler_saw_call_stack"):
        return Profiler(interval=interval, async_mode="disabled")

    class CpuTimedProfiler(Profiler):
        _last_cpu = 0.0

        def start(self, *args: Any, **kwargs: Any) -> None:
            self._last_cpu = time.thread_time()
            super().start(*args, **kwargs)

        def _sampler_saw_call_stack(self, call_stack: Any, _elapsed: float, *rest: Any) -> None:
            now = time.thread_time()
            spent, self._last_cpu = now - self._last_cpu, now
            super()._sampler_saw_call_stack(call_stack, max(spent, 0.0), *rest)

    # async_mode="disabled": the profiler does not claim the async context, so a test that
    # starts its own pyinstrument Profiler still can (both share one sampler).
    return CpuTimedProfiler(interval=interval, async_mode="disabled")


def _marker_budgets(marker: pytest.Mark, nodeid: str) -> Mapping[str, object]:
    """The ``budgets`` of a ``hotpath`` marker, checked: a mapping of function patterns to
    shares, or a usage error naming the test."""
    from hotpath.analysis.gate import parse_share
    from hotpath.errors import HotpathError

    unknown = set(marker.kwargs) - {"budgets"}
    if marker.args or unknown:
        raise pytest.UsageError(
            f"{nodeid}: @pytest.mark.hotpath takes only budgets={{FUNCTION: SHARE}}"
        )
    budgets = marker.kwargs.get("budgets") or {}
    if not isinstance(budgets, Mapping):
        raise pytest.UsageError(
            f"{nodeid}: @pytest.mark.hotpath(budgets=...) must map functions to shares, e.g. "
            f'budgets={{"myapp.search:score": "12%"}}, not {budgets!r}'
        )
    for target, value in budgets.items():
        if not isinstance(target, str) or not target:
            raise pytest.UsageError(f"{nodeid}: hotpath budget target {target!r} is not a name")
        try:
            parse_share(value, f"hotpath budget {target!r}")
        except HotpathError as exc:
            raise pytest.UsageError(f"{nodeid}: {exc}") from None
    return budgets


def _label_all(profile: Profile, test: str) -> Profile:
    out = Profile(profile.meta)
    for frames, labels, w in profile.iter_samples():
        out.add_frames(frames, w, {**dict(labels), ENDPOINT: test})
    return out


def _check_budgets(profile: Profile, budgets: Mapping[str, object], prefix: str) -> list[str]:
    from hotpath.analysis.gate import Budget, check_budget, parse_share

    failed = []
    for target, value in budgets.items():
        share = parse_share(value, f"hotpath budget {target!r}")
        check = check_budget(profile, Budget(str(target), "function", share))
        if not check.passed:
            failed.append(prefix + check.message)
    return failed

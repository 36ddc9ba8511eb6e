"""Replaying recorded calls against a replacement: same answers? how much faster?

:func:`replay` calls the replacement on every replayable recorded input (arguments rebuilt
fresh for every call, since a function may change its arguments) and compares each result
with the recorded one (:func:`hotpath.prove.values.same`); an exception from the replacement
is that call's finding, not a crash. It then times the original and the replacement on the
same inputs: rounds that alternate which goes first, each timing one pass over all inputs
with the thread's CPU clock; the speed-up is the median of the rounds' ratios, with the
lowest and highest as its spread.

Only the functions the user names are imported and called (``--with``, ``--original``, or
the captured ``module:qualname``): a function with side effects (writes, sends, charges) does
them again on every replayed call.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotpath.errors import ConfigError
from hotpath.prove.capture import locate
from hotpath.prove.files import REPLAY_FORMAT, CaptureFile, Record
from hotpath.prove.values import Unreplayable, ValueFormatError, decode, describe, encode, same


@dataclass(frozen=True)
class ReplayOptions:
    rounds: int = 7
    """Timing rounds (each a pass of the original and one of the replacement)."""
    max_seconds: float = 30.0
    """Stop adding timing rounds after this much time (at least 3 rounds are run)."""
    rel_tol: float = 0.0
    """Floats within this relative tolerance are equal (0: exactly equal)."""
    shown: int = 10
    """Differing or raising calls listed in the result."""


@dataclass
class ReplayResult:
    function: str
    file: str
    line: int | None
    replacement: str
    original: str | None
    recorded_calls: int
    """Calls the app made while capturing (the records are a sample of them)."""
    records: int
    replayed: int = 0
    equal: int = 0
    by_type: int = 0
    """Results recorded as their type only, compared by type."""
    differ: list[tuple[int, str]] = field(default_factory=list)
    n_differ: int = 0
    raised: list[tuple[int, str]] = field(default_factory=list)
    n_raised: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    original_unstable: int = 0
    """Records on which the original itself no longer gives the recorded answer."""
    rounds: list[float] = field(default_factory=list)
    original_cpu_s: float | None = None
    replacement_cpu_s: float | None = None
    recorded_cpu_s: float | None = None

    @property
    def all_equal(self) -> bool:
        return self.replayed > 0 and self.n_differ == 0 and self.n_raised == 0

    @property
    def speedup(self) -> tuple[float, float, float] | None:
        """(low, median, high) over the timing rounds."""
        if not self.rounds:
            return None
        return min(self.rounds), statistics.median(self.rounds), max(self.rounds)

    def summary(self) -> str:
        """E.g. "all 1,000 recorded calls equal; 38x faster per call (36-41x, 7 rounds)"."""
        n = self.replayed
        if n == 0:
            head = "no recorded call could be replayed"
        elif self.all_equal:
            head = f"all {n:,} replayed calls equal"
        else:
            parts = []
            if self.n_differ:
                parts.append(f"{self.n_differ:,} differ")
            if self.n_raised:
                parts.append(f"{self.n_raised:,} raise")
            head = f"{', '.join(parts)} of {n:,} replayed calls"
        if self.by_type:
            head += f" ({self.by_type:,} compared by type only)"
        skipped = sum(self.skipped.values())
        if skipped:
            head += f"; {skipped:,} not replayable"
        s = self.speedup
        if s is not None:
            lo, med, hi = s
            word = "faster" if med >= 1 else "slower"
            k = med if med >= 1 else 1 / med
            head += f"; {_x(k)} {word} per call ({_x(lo)}-{_x(hi)}, {len(self.rounds)} rounds)"
        return head

    def document(self) -> dict[str, Any]:
        s = self.speedup
        return {
            "format": REPLAY_FORMAT,
            "version": 1,
            "function": self.function,
            "file": self.file,
            "line": self.line,
            "replacement": self.replacement,
            "original": self.original,
            "recorded_calls": self.recorded_calls,
            "records": self.records,
            "replayed": self.replayed,
            "equal": self.equal,
            "compared_by_type": self.by_type,
            "differ": self.n_differ,
            "raised": self.n_raised,
            "differ_examples": [{"record": i, "what": w} for i, w in self.differ],
            "raised_examples": [{"record": i, "what": w} for i, w in self.raised],
            "skipped": self.skipped,
            "original_unstable": self.original_unstable,
            "all_equal": self.all_equal,
            "speedup": None
            if s is None
            else {"low": s[0], "median": s[1], "high": s[2], "rounds": self.rounds},
            "cpu_per_call_s": {
                "original": self.original_cpu_s,
                "replacement": self.replacement_cpu_s,
                "recorded": self.recorded_cpu_s,
            },
            "summary": self.summary(),
        }


def _x(k: float) -> str:
    return f"{k:.0f}x" if k >= 10 else f"{k:.2g}x" if k >= 1 else f"{k:.2f}x"


def load_function(name: str, what: str) -> Callable[..., Any]:
    """The callable ``module:qualname`` names (imported: only ever what the user named)."""
    obj = locate(name, what)[2]
    if not callable(obj):
        raise ConfigError(f"{what}: {name} is not callable")
    return obj  # type: ignore[no-any-return]


Call = tuple[list[Any], dict[str, Any]]


def _inputs(record: Record) -> Call:
    return [decode(a) for a in record.args], {k: decode(v) for k, v in record.kwargs.items()}


def replay(
    capture: CaptureFile,
    replacement: Callable[..., Any],
    replacement_name: str,
    original: Callable[..., Any] | None,
    original_name: str | None,
    options: ReplayOptions | None = None,
) -> ReplayResult:
    """Compare ``replacement`` with the recording, then time it against ``original``."""
    opts = options or ReplayOptions()
    out = ReplayResult(
        function=capture.function,
        file=capture.file,
        line=capture.line,
        replacement=replacement_name,
        original=original_name,
        recorded_calls=capture.calls,
        records=len(capture.records),
    )
    usable: list[Record] = []
    for i, rec in enumerate(capture.records):
        if not rec.exact:
            out.skipped["arguments recorded as types only"] = (
                out.skipped.get("arguments recorded as types only", 0) + 1
            )
            continue
        try:
            args, kwargs = _inputs(rec)
        except (Unreplayable, ValueFormatError, RecursionError):
            out.skipped["arguments not readable"] = out.skipped.get("arguments not readable", 0) + 1
            continue
        out.replayed += 1
        finding = _check(rec, replacement, args, kwargs, opts)
        if finding is None:
            out.equal += 1
            if not rec.result_exact and rec.raised is None:
                out.by_type += 1
            usable.append(rec)
        elif finding[0] == "raised":
            out.n_raised += 1
            if len(out.raised) < opts.shown:
                out.raised.append((i, finding[1]))
        else:
            out.n_differ += 1
            usable.append(rec)
            if len(out.differ) < opts.shown:
                out.differ.append((i, finding[1]))
        if original is not None:
            again = _inputs(rec)
            if _check(rec, original, again[0], again[1], opts) is not None:
                out.original_unstable += 1
    if usable:
        cpu = [r.cpu_s for r in usable]
        out.recorded_cpu_s = statistics.median(cpu)
    if original is not None and usable:
        _time(out, usable, original, replacement, opts)
    return out


def _check(
    rec: Record,
    fn: Callable[..., Any],
    args: list[Any],
    kwargs: dict[str, Any],
    opts: ReplayOptions,
) -> tuple[str, str] | None:
    """None when ``fn`` answers as recorded; else ("raised" | "differ", what)."""
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:
        what = f"{type(exc).__name__}: {str(exc)[:80]}"
        if rec.raised is not None and _same_exception(rec.raised, exc):
            return None
        if rec.raised is not None:
            return "differ", f"raised {what}, recorded raised {rec.raised}"
        return "raised", what
    if rec.raised is not None:
        return "differ", f"returned {describe(encode(value)[0])}, recorded raised {rec.raised}"
    node, _exact = encode(value)
    if not rec.result_exact:
        if describe(node) == describe(rec.result):
            return None
        return "differ", f"returned {describe(node)}, recorded {describe(rec.result)}"
    diff = same(rec.result, node, opts.rel_tol)
    return None if diff is None else ("differ", diff)


def _same_exception(recorded: str, exc: BaseException) -> bool:
    names = {c.__qualname__ for c in type(exc).__mro__}
    names |= {f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__}
    return recorded in names


def _time(
    out: ReplayResult,
    records: list[Record],
    original: Callable[..., Any],
    replacement: Callable[..., Any],
    opts: ReplayOptions,
) -> None:
    deadline = time.monotonic() + opts.max_seconds
    spent = {"original": 0.0, "replacement": 0.0}
    for r in range(max(opts.rounds, 1)):
        if r >= 3 and time.monotonic() > deadline:
            break
        order = [("original", original), ("replacement", replacement)]
        if r % 2:
            order.reverse()
        took = {}
        for name, fn in order:
            calls = [_inputs(rec) for rec in records]  # fresh arguments, outside the clock
            took[name] = _pass(fn, calls)
        spent["original"] += took["original"]
        spent["replacement"] += took["replacement"]
        if took["replacement"] > 0:
            out.rounds.append(took["original"] / took["replacement"])
    n = len(out.rounds) * len(records)
    if n:
        out.original_cpu_s = spent["original"] / n
        out.replacement_cpu_s = spent["replacement"] / n


def _pass(fn: Callable[..., Any], calls: list[Call]) -> float:
    clock = time.thread_time
    t0 = clock()
    for args, kwargs in calls:
        try:  # noqa: SIM105 - a context manager per call would be timed with the call
            fn(*args, **kwargs)
        except Exception:
            pass
    return clock() - t0

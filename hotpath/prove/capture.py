"""Recording a bounded sample of a function's real calls (off until asked for).

A :class:`Capture` replaces ``module:qualname`` with a wrapper (where the name is looked up:
code that did ``from module import f`` before the capture started keeps the original) and
records, for a uniform sample of the calls, the arguments and the return value (or the
exception type) as tagged JSON (:mod:`hotpath.prove.values`), with the wall and thread-CPU
time of the call.

Bounds, all of them hard:

- **calls**: reservoir sampling (Vitter's algorithm L). The first ``max_calls`` calls are
  kept; after them the number of the next call to keep is drawn ahead (a geometric skip),
  so that every call is in the sample with the same probability, and the kept call
  replaces a random one. Decided *before* the call: an unsampled call costs a counter and
  one comparison. Over *M* calls about ``max_calls * (1 + ln(M / max_calls))`` calls are
  ever encoded.
- **bytes**: the kept records' JSON stays under ``max_bytes`` (a record that would cross it
  is dropped and counted).
- **overhead**: the capture's own time (encoding, bookkeeping) stays under
  ``max_overhead`` of the CPU time spent in the function (estimated from the recorded calls'
  mean times the calls seen; both on the thread's CPU clock); beyond it calls are not
  recorded, and counted.

Values: see :mod:`hotpath.prove.values` (no pickle; what cannot be written is its type only).
``redact(name, value)`` sees every argument (by parameter name; ``*args`` items as
``args[i]``, ``**kwargs`` by key) and the result (``"return"``) and returns what to record
(:data:`REDACTED` to record the type only). Files are written atomically with mode 0600.
Thread-safe: calls from many threads are counted and sampled under one lock. Never in the
app's way: the function is called exactly once per call with the arguments it was given, its
result or exception passes through unchanged, and a failure inside the capture only counts
the call as ``skipped.failed``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import inspect
import itertools
import json
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from hotpath._options import with_overrides
from hotpath.errors import ConfigError
from hotpath.prove.values import Redacted, ValueLimits, encode, type_name

F = TypeVar("F", bound=Callable[..., Any])
FORMAT = "hotpath-capture"
VERSION = 1


class _Redacted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "REDACTED"


REDACTED: Any = _Redacted()
"""Return this from a redaction hook to record a value as ``redacted`` (its type only)."""

Redact = Callable[[str, Any], Any]


@dataclass(frozen=True)
class CaptureOptions:
    """What a capture keeps (``hotpath capture --calls/--max-bytes/--max-overhead``)."""

    max_calls: int = 1000
    max_bytes: int = 8 * 1024 * 1024
    max_overhead: float = 0.05
    """The capture's own time as a fraction of the time spent in the function (above 1:
    the capture may cost more than the function, for tests and cheap functions)."""
    limits: ValueLimits = field(default_factory=ValueLimits)
    redact: Redact | None = None
    seed: int | None = None
    """Seed of the sampler (None: random)."""

    def __post_init__(self) -> None:
        if self.max_calls < 1 or self.max_bytes < 1024:
            raise ConfigError("capture: max_calls must be >= 1 and max_bytes >= 1024")
        if not self.max_overhead > 0:
            raise ConfigError("capture: max_overhead must be positive")


def locate(target: str, what: str) -> tuple[Any, str, Any]:
    """(owner, attribute, object) that ``module:qualname`` names (``pkg.mod:Class.method``),
    importing only the module the user named; ConfigError prefixed ``what`` otherwise."""
    module_name, sep, qual = target.partition(":")
    if not sep or not module_name or not qual:
        raise ConfigError(f"{what}: {target!r} is not module:qualname (e.g. app.text:distance)")
    try:
        owner: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"{what}: cannot import {module_name}: {type(exc).__name__}: {exc}"
        ) from None
    parts = qual.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part, None)
        if owner is None:
            raise ConfigError(f"{what}: {module_name} has no {qual}")
    obj = getattr(owner, parts[-1], None)
    if obj is None:
        raise ConfigError(f"{what}: {module_name} has no {qual}")
    return owner, parts[-1], obj


def resolve(target: str) -> tuple[Any, str, Callable[..., Any]]:
    """(owner, attribute, function) of ``module:qualname`` (``pkg.mod:Class.method``)."""
    owner, attr, fn = locate(target, "capture")
    raw = inspect.getattr_static(owner, attr, None)
    if raw is None:
        raise ConfigError(f"capture: {target.partition(':')[0]} has no {target.partition(':')[2]}")
    if isinstance(raw, (staticmethod, classmethod)):
        raise ConfigError(f"capture: {target} is a {type(raw).__name__}; capture a plain function")
    if not callable(fn):
        raise ConfigError(f"capture: {target} is not callable")
    return owner, attr, fn


def _code_of(fn: Callable[..., Any]) -> tuple[str, int | None, str]:
    inner = inspect.unwrap(fn)
    code = getattr(inner, "__code__", None)
    name = getattr(inner, "__qualname__", getattr(fn, "__name__", "?"))
    if code is None:
        return "", None, str(name)
    return code.co_filename, code.co_firstlineno, str(name)


class Capture:
    """The recorder of one function's calls. Use :func:`capture` / :func:`capture_calls`."""

    def __init__(
        self, target: str, output: str | os.PathLike[str] | None, options: CaptureOptions
    ) -> None:
        self.target = target
        self.output = os.fspath(output) if output is not None else None
        self.options = options
        self._lock = threading.Lock()
        self._reset_state()
        self._installed: tuple[Any, str, Any] | None = None
        self.function: Callable[..., Any] | None = None
        self._params: list[dict[str, str]] = []
        self._sig: inspect.Signature | None = None
        self._file: str = ""
        self._line: int | None = None
        self._name: str = target

    def _reset_state(self) -> None:
        self._counter = itertools.count()
        self._requests = itertools.count()
        self._random = random.Random(self.options.seed)
        self._next = 0
        """The number of the next call to record (algorithm L skips ahead to it)."""
        self._w = 1.0
        self._records: list[str] = []
        self._slots: list[int] = []  # call number of each kept record
        self._bytes = 0
        self._own_s = 0.0
        self._cpu_sum = 0.0
        self._recorded = 0
        self._skipped = {"bytes": 0, "overhead": 0, "failed": 0}
        self.started = time.time()
        self._t0 = time.perf_counter()

    # -- wrapping ---------------------------------------------------------------------------
    def wrap(self, fn: F) -> F:
        """The recording wrapper of ``fn`` (sync functions only)."""
        if inspect.iscoroutinefunction(fn) or inspect.isgeneratorfunction(fn):
            raise ConfigError(
                f"capture: {self.target} is a coroutine or generator function; only plain "
                "functions are captured"
            )
        self.function = fn
        self._file, self._line, self._name = _code_of(fn)
        try:
            self._sig = inspect.signature(fn)
            self._params = [
                {"name": p.name, "kind": p.kind.name} for p in self._sig.parameters.values()
            ]
        except (TypeError, ValueError):
            self._sig = None
        state = self
        record = self._record

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            n = next(state._counter)
            if n < state._next:  # not sampled: a counter and one comparison
                return fn(*args, **kwargs)
            return record(fn, n, args, kwargs)

        wrapper.__hotpath_capture__ = self  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    def install(self) -> Capture:
        """Put the wrapper where ``target`` is looked up."""
        owner, attr, fn = resolve(self.target)
        if getattr(fn, "__hotpath_capture__", None) is not None:
            raise ConfigError(f"capture: {self.target} is already being captured")
        setattr(owner, attr, self.wrap(fn))
        self._installed = (owner, attr, fn)
        return self

    def uninstall(self) -> None:
        if self._installed is not None:
            owner, attr, fn = self._installed
            setattr(owner, attr, fn)
            self._installed = None

    def note_request(self) -> None:
        """One request served while capturing (the middleware calls it: calls per request)."""
        next(self._requests)

    @property
    def requests(self) -> int:
        return _next_value(self._requests)

    def restart(self, output: str | None) -> None:
        """Start afresh (a forked worker: its own calls, its own file), still installed."""
        with self._lock:
            self._reset_state()
            self.output = output

    # -- recording --------------------------------------------------------------------------
    def _record(
        self, fn: Callable[..., Any], n: int, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not self._take(n):
            return fn(*args, **kwargs)
        opts = self.options
        # CPU clocks on both sides: on a busy threaded server wall time includes waiting for
        # the GIL, which would make the function look dearer and the budget larger.
        t_own = time.thread_time()
        over = self._recorded >= 10 and self._own_s > opts.max_overhead * (
            self._cpu_sum / self._recorded
        ) * (n + 1)
        if over:
            self._skipped["overhead"] += 1
            return fn(*args, **kwargs)
        try:
            head: dict[str, Any] | None = self._encode_args(args, kwargs)
        except Exception:
            head = None
        own = time.thread_time() - t_own
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
            if head is not None:
                self._finish_safely(n, head, {"raised": type_name(exc)}, wall, cpu, own)
            raise
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        if head is not None:
            t1 = time.thread_time()
            try:
                node, exact = encode(self._redact("return", result), opts.limits)
                out = {"result": node, "result_exact": exact}
            except Exception:
                out = {"result": {"$t": "object", "type": type_name(result)}, "result_exact": False}
            self._finish_safely(n, head, out, wall, cpu, own + time.thread_time() - t1)
        else:
            with self._lock:
                self._skipped["failed"] += 1
        return result

    def _take(self, n: int) -> bool:
        """Whether call ``n`` is sampled; then where the next sampled call is (Vitter's
        algorithm L: after the first ``max_calls``, a geometric skip, so every call so far
        is in the reservoir with the same probability). Threads that raced past the skip
        point see it moved and do not record."""
        k = self.options.max_calls
        with self._lock:
            if n < self._next:
                return False
            if n + 1 < k:
                self._next = n + 1
                return True
            rand = self._random.random
            self._w *= math.exp(math.log(1.0 - rand()) / k)
            if self._w >= 1.0:
                self._next = n + 1
            else:
                skip = math.log(1.0 - rand()) / math.log(1.0 - self._w)
                self._next = n + 1 + int(min(skip, 2**62))
            return True

    def _redact(self, name: str, value: Any) -> Any:
        hook = self.options.redact
        if hook is None:
            return value
        try:
            shown = hook(name, value)
        except Exception:
            shown = REDACTED  # a failing hook never leaks the value
        return Redacted(value) if shown is REDACTED else shown

    def _encode_args(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        limits = self.options.limits
        names = self._positional_names(len(args))
        exact = True
        enc_args = []
        for name, value in zip(names, args, strict=True):
            node, ok = encode(self._redact(name, value), limits)
            enc_args.append(node)
            exact &= ok
        enc_kwargs = {}
        for key, value in kwargs.items():
            node, ok = encode(self._redact(key, value), limits)
            enc_kwargs[key] = node
            exact &= ok
        return {"args": enc_args, "kwargs": enc_kwargs, "exact": exact}

    def _positional_names(self, count: int) -> list[str]:
        names: list[str] = []
        star = None
        for p in self._params:
            if p["kind"] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD"):
                names.append(p["name"])
            elif p["kind"] == "VAR_POSITIONAL":
                star = p["name"]
        if count <= len(names):
            return names[:count]
        extra = star or "args"
        return names + [f"{extra}[{i}]" for i in range(count - len(names))]

    def _finish_safely(self, *args: Any) -> None:
        """Keep the record; a failure here is counted, never the app's problem."""
        try:
            self._finish(*args)
        except Exception:
            with self._lock:
                self._skipped["failed"] += 1

    def _finish(
        self, n: int, head: dict[str, Any], out: dict[str, Any], wall: float, cpu: float, own: float
    ) -> None:
        t1 = time.thread_time()
        record = {"n": n, **head, **out, "wall_s": wall, "cpu_s": cpu}
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        size = len(text.encode("utf-8", "backslashreplace")) + 2
        keep = self.options.max_calls
        with self._lock:
            self._cpu_sum += cpu
            self._recorded += 1
            if len(self._records) < keep:
                slot = len(self._records)
                if self._bytes + size > self.options.max_bytes:
                    self._skipped["bytes"] += 1
                else:
                    self._records.append(text)
                    self._slots.append(n)
                    self._bytes += size
            else:
                slot = self._random.randrange(keep)
                old = len(self._records[slot].encode("utf-8", "backslashreplace")) + 2
                if self._bytes - old + size > self.options.max_bytes:
                    self._skipped["bytes"] += 1
                else:
                    self._records[slot] = text
                    self._slots[slot] = n
                    self._bytes += size - old
            self._own_s += own + time.thread_time() - t1

    # -- the file -----------------------------------------------------------------------------
    def document(self) -> str:
        """The capture as one JSON document (records in call order)."""
        with self._lock:
            calls = _next_value(self._counter)
            order = sorted(range(len(self._records)), key=self._slots.__getitem__)
            records = [self._records[i] for i in order]
            head = {
                "format": FORMAT,
                "version": VERSION,
                "function": self.target,
                "code": {"file": self._file, "line": self._line, "name": self._name},
                "params": self._params,
                "pid": os.getpid(),
                "started": self.started,
                "elapsed_s": time.perf_counter() - self._t0,
                "calls": calls,
                "requests": self.requests or None,
                "sampled": self._recorded,
                "skipped": dict(self._skipped),
                "own_s": self._own_s,
                "limits": {
                    **asdict(self.options.limits),
                    "max_calls": self.options.max_calls,
                    "max_bytes": self.options.max_bytes,
                    "max_overhead": self.options.max_overhead,
                },
            }
        text = json.dumps(head, separators=(",", ":"))[:-1]
        return text + ',"records":[\n' + ",\n".join(records) + "\n]}\n"

    def write(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the capture atomically (mode 0600) to ``path`` or the output given."""
        from hotpath.output import open_output

        target = os.fspath(path) if path is not None else self.output
        if target is None:
            raise ConfigError("capture: no output file given")
        with open_output(target) as out:
            out.write(self.document())
        return target

    # -- context manager ----------------------------------------------------------------------
    def __enter__(self) -> Capture:
        if self._installed is None:
            self.install()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.uninstall()
        if self.output is not None:
            self.write()


def _next_value(counter: itertools.count[int]) -> int:
    """The number ``counter`` gives next, without taking it (its repr is ``count(N)``)."""
    return int(repr(counter)[6:-1])


def capture(
    target: str,
    output: str | os.PathLike[str] | None = None,
    options: CaptureOptions | None = None,
    **overrides: Any,
) -> Capture:
    """``with capture("app.text:distance", "distance.capture.json", max_calls=500): ...``

    Installs on entering, restores the original and writes the file on leaving."""
    return Capture(target, output, _options(options, overrides))


def capture_calls(
    output: str | os.PathLike[str], options: CaptureOptions | None = None, **overrides: Any
) -> Callable[[F], F]:
    """Decorator: records the decorated function's calls; the file is written at exit (and
    by ``f.__hotpath_capture__.write()``)."""

    def decorate(fn: F) -> F:
        name = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', '?')}"
        cap = Capture(name, output, _options(options, overrides))
        wrapped = cap.wrap(fn)
        atexit.register(_write_quietly, cap)
        return wrapped

    return decorate


def _write_quietly(cap: Capture) -> None:
    with contextlib.suppress(Exception):
        cap.write()


def _options(options: CaptureOptions | None, overrides: dict[str, Any]) -> CaptureOptions:
    return with_overrides(CaptureOptions, options, overrides, "capture")


@contextlib.contextmanager
def installed(captures: list[Capture]) -> Iterator[list[Capture]]:
    """Install several captures, uninstalling (not writing) them on the way out."""
    done: list[Capture] = []
    try:
        for c in captures:
            done.append(c.install())
        yield done
    finally:
        for c in reversed(done):
            c.uninstall()

"""The middleware's per-process store: request statistics, sampled stacks, periodic flush.

Every request adds to a :class:`~hotpath.model.RequestStats` of its endpoint; a sampled
request also adds its pyinstrument stacks. The whole cumulative state is written to one
file per process (``hotpath-<host>-<pid>-<start>.hotpath``, hotpath's own file format, mode
0600) atomically, every ``flush_interval_s`` by a daemon thread, at exit, and on SIGTERM,
so a killed worker loses at most one flush interval. On SIGTERM the requests in flight
finish first (for up to :data:`SIGTERM_DRAIN_S`): a server with no handler of its own dies
by the signal's default action, and a request whose client already has its response is
recorded only after that.

Stacks are stored twice per endpoint, as the model's convention says: ``measure=wall``
(pyinstrument's wall seconds, ``state`` idle/active) and ``measure=cpu`` (each request's
measured CPU time spread over its active stacks). At flush the sampled stacks of an endpoint
are scaled up to the CPU and wall time of *all* its requests (a ratio estimate), so the
CPU view's per-endpoint totals equal the measured totals; an endpoint with no sampled
request yet carries its time on an empty stack.

Nothing here may break the app: every failure is logged once per kind and swallowed.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import itertools
import logging
import os
import re
import signal
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from hotpath.collect.stacks import WeightedStack
from hotpath.errors import ConfigError
from hotpath.model import (
    ACTIVE,
    CPU,
    ENDPOINT,
    IDLE,
    LATENCY_BUCKETS_MS,
    MEASURE,
    PID,
    STATE,
    WALL,
    Frame,
    Labels,
    Metadata,
    Profile,
    RequestStats,
)

logger = logging.getLogger("hotpath.middleware")

EndpointFn = Callable[..., "str | None"]


@dataclass(frozen=True)
class MiddlewareOptions:
    """How the middleware records. Every field can be given as a keyword to the middleware."""

    output_dir: str = field(
        default_factory=lambda: os.environ.get("HOTPATH_OUTPUT_DIR", "hotpath-profiles")
    )
    sample_fraction: float = 0.005
    """Fraction of requests profiled with pyinstrument. A profiled request of the sample
    monolith costs 2.25x its CPU; at 1% the measured cost was ~3%, so 0.5% keeps the total
    well under the 3% target (benchmarks/middleware_overhead.py)."""
    flush_interval_s: float = 10.0
    interval_s: float = 0.001
    """pyinstrument's sampling interval for profiled requests."""
    endpoint: EndpointFn | None = None
    """WSGI: ``endpoint(environ)``; ASGI: ``endpoint(scope)``; called after the app ran.
    Must return a route template (never the raw URL) or None for the default."""
    max_concurrent_profiles: int = 4
    """At most this many requests are profiled at once, whatever ``sample_fraction`` says
    (the rest are timed only): concurrent profilers cost quadratically (collect/admission.py)."""
    install_signal_handler: bool = True
    """Flush on SIGTERM when nothing else handles it (chains to the default action)."""
    enabled: bool = True
    capture: str | None = None
    """``module:qualname`` of a function whose real calls to record (off by default): a
    bounded sample of its arguments, results and times, written beside the profiles as
    ``hotpath-capture-<host>-<pid>-<start>.json`` at every flush (docs/advisor.md)."""
    capture_options: Any = None
    """A :class:`hotpath.prove.capture.CaptureOptions` (calls, bytes, overhead, redaction)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_fraction <= 1.0:
            raise ConfigError(f"sample_fraction must be within [0, 1], not {self.sample_fraction}")
        if not self.flush_interval_s > 0 or not self.interval_s > 0:
            raise ConfigError("flush_interval_s and interval_s must be positive")
        if self.max_concurrent_profiles < 0:
            raise ConfigError("max_concurrent_profiles must not be negative")


def status_class(status: int | None) -> str:
    if status is None or not 100 <= status <= 599:
        return "error"
    return f"{status // 100}xx"


def latency_bucket(wall_s: float) -> int:
    i = bisect.bisect_left(LATENCY_BUCKETS_MS, wall_s * 1000.0)
    return min(i, len(LATENCY_BUCKETS_MS) - 1)


_SERIALS = itertools.count()
_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "host"


class RequestStore:
    """Thread-safe per-process aggregate of what the middleware saw, and its flusher."""

    def __init__(self, options: MiddlewareOptions, kind: str) -> None:
        self.options = options
        self.kind = kind
        self._faults: set[str] = set()
        self.profiler_broken = False
        # Two middleware instances in one process must not share a file.
        self._serial = next(_SERIALS)
        self._reset()
        _STORES.add(self)
        _install_process_hooks(options.install_signal_handler)

    def _reset(self) -> None:
        """Fresh state (at creation and in a forked child: the parent keeps its own data)."""
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._flight_lock = threading.Lock()
        self._in_flight = 0
        self._requests: dict[str, RequestStats] = {}
        self._raw = Profile(Metadata(unit="seconds"))
        self._sampled_requests = 0
        self._records = 0
        self._generation = 0
        self._written = 0
        self.pid = os.getpid()
        self.started = time.time()
        suffix = f"-{self._serial}" if self._serial else ""
        self.path = os.path.join(
            self.options.output_dir,
            f"hotpath-{_HOST}-{self.pid}-{int(self.started * 1000)}{suffix}.hotpath",
        )
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self._tasks: set[object] = set()
        self._start_capture()

    def _start_capture(self) -> None:
        """The opt-in capture of ``options.capture`` (in a forked child: a fresh one)."""
        self.capture: Any = None
        if not self.options.capture:
            return
        from hotpath.prove.capture import Capture, CaptureOptions

        old = getattr(self, "_installed_capture", None)
        path = os.path.join(
            self.options.output_dir,
            f"hotpath-capture-{_HOST}-{self.pid}-{int(self.started * 1000)}.json",
        )
        if old is not None:  # forked: the child records on its own, into its own file
            old.restart(path)
            self.capture = old
            return
        cap = Capture(self.options.capture, path, self.options.capture_options or CaptureOptions())
        self.capture = self._installed_capture = cap.install()

    def keep_task(self, task: object) -> None:
        """Hold a strong reference to a task of ours (the event loop keeps weak ones)."""
        self._tasks.add(task)

    # -- faults -------------------------------------------------------------------------
    def fault(self, where: str, exc: BaseException) -> None:
        """Log a failure inside hotpath once per kind; the request goes on unchanged."""
        if where in self._faults:
            return
        self._faults.add(where)
        with contextlib.suppress(Exception):
            logger.warning(
                "hotpath middleware: %s failed (%s: %s); requests are served unchanged "
                "(logged once)",
                where,
                type(exc).__name__,
                exc,
            )

    def profiler_failed(self, exc: BaseException) -> None:
        """pyinstrument failed: stop profiling in this process (counting goes on)."""
        self.profiler_broken = True
        self.fault("pyinstrument (request profiling is now off in this process)", exc)

    # -- recording ----------------------------------------------------------------------
    def begin(self) -> None:
        """A request started (its :meth:`record` and then :meth:`end` follow)."""
        with self._flight_lock:
            self._in_flight += 1

    def end(self) -> None:
        """A request that :meth:`begin` counted is over (recorded or not)."""
        with self._flight_lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def record(
        self,
        endpoint: str,
        wall_s: float,
        cpu_s: float,
        status: int | None,
        stacks: list[WeightedStack] | None,
    ) -> None:
        bucket = latency_bucket(wall_s)
        cls = status_class(status)
        with self._lock:
            rs = self._requests.get(endpoint)
            if rs is None:
                rs = self._requests[endpoint] = RequestStats()
            rs.count += 1
            rs.wall_s += wall_s
            rs.cpu_s += cpu_s
            rs.status[cls] = rs.status.get(cls, 0) + 1
            rs.latency_ms[bucket] = rs.latency_ms.get(bucket, 0) + 1
            if stacks is not None:
                self._add_stacks(endpoint, cpu_s, stacks)
            self._generation += 1
        if self.capture is not None:
            self.capture.note_request()
        if self._flusher is None:
            self._start_flusher()

    def _add_stacks(self, endpoint: str, cpu_s: float, stacks: list[WeightedStack]) -> None:
        raw = self._raw
        self._sampled_requests += 1
        self._records += len(stacks)
        pid = str(self.pid)
        active = [s for s in stacks if not s.idle]
        if not active:  # only waiting was sampled: the CPU went to the waiting callers
            active = [WeightedStack(s.frames[:-1], s.seconds, False) for s in stacks]
        active_wall = sum(s.seconds for s in active)
        # Spread the measured CPU over the request's active stacks by their wall time.
        cpu_per_wall = cpu_s / active_wall if active_wall > 0 else 0.0
        lid_cpu = raw.intern_labels({ENDPOINT: endpoint, MEASURE: CPU, PID: pid})
        lid_idle = raw.intern_labels({ENDPOINT: endpoint, MEASURE: WALL, STATE: IDLE, PID: pid})
        lid_act = raw.intern_labels({ENDPOINT: endpoint, MEASURE: WALL, STATE: ACTIVE, PID: pid})
        for s in stacks:
            stack = tuple(raw.intern_frame(f) for f in s.frames)
            raw.add(stack, s.seconds, lid_idle if s.idle else lid_act)
        if cpu_per_wall > 0:
            for s in active:
                stack = tuple(raw.intern_frame(f) for f in s.frames)
                raw.add(stack, s.seconds * cpu_per_wall, lid_cpu)

    # -- flushing -----------------------------------------------------------------------
    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher is not None:
                return
            t = threading.Thread(target=self._flush_loop, name="hotpath-flush", daemon=True)
            self._flusher = t
        try:
            t.start()
        except Exception as exc:  # e.g. interpreter shutting down
            self.fault("starting the flush thread", exc)

    def _flush_loop(self) -> None:
        stop = self._stop
        while not stop.wait(self.options.flush_interval_s):
            self.flush()

    def snapshot(self, blocking: bool = True) -> tuple[Profile, int] | None:
        """The cumulative profile of this process, or None if the lock is busy."""
        if not self._lock.acquire(blocking, 2.0 if blocking else -1):
            return None
        try:
            generation = self._generation
            requests = {
                ep: RequestStats(r.count, r.wall_s, r.cpu_s, dict(r.status), dict(r.latency_ms))
                for ep, r in self._requests.items()
            }
            frames = list(self._raw.frames)
            label_sets = list(self._raw.label_sets)
            samples = dict(self._raw.samples)
            sampled, records = self._sampled_requests, self._records
        finally:
            self._lock.release()
        return self._build(requests, frames, label_sets, samples, sampled, records), generation

    def _build(
        self,
        requests: dict[str, RequestStats],
        frames: list[Frame],
        label_sets: list[Labels],
        samples: dict[tuple[tuple[int, ...], int], float],
        sampled: int,
        records: int,
    ) -> Profile:
        from hotpath._version import __version__

        meta = Metadata(
            unit="seconds",
            interval_s=self.options.interval_s,
            duration_s=time.time() - self.started,
            sample_count=records,
            tools={"hotpath": __version__, "pyinstrument": _pyinstrument_version()},
            attrs={
                "collector": f"hotpath.middleware ({self.kind})",
                "pid": str(self.pid),
                "host": _HOST,
                "sample_fraction": repr(self.options.sample_fraction),
                "requests": str(sum(r.count for r in requests.values())),
                "sampled_requests": str(sampled),
            },
        )
        out = Profile(meta)
        for f in frames:
            out.intern_frame(f)
        # Sampled weight per (endpoint, measure), to scale up to all requests.
        sums: dict[tuple[str, str], float] = {}
        keys: list[tuple[str, str] | None] = []
        for ls in label_sets:
            d = dict(ls)
            keys.append((d[ENDPOINT], d[MEASURE]) if ENDPOINT in d and MEASURE in d else None)
        for (_stack, lid), w in samples.items():
            k = keys[lid]
            if k is not None:
                sums[k] = sums.get(k, 0.0) + w
        for ls in label_sets:
            out.intern_labels(ls)
        factor: dict[tuple[str, str], float] = {}
        pid = str(self.pid)
        for ep, r in requests.items():
            for measure, want in ((CPU, r.cpu_s), (WALL, r.wall_s)):
                have = sums.get((ep, measure), 0.0)
                if have > 0:
                    factor[(ep, measure)] = want / have
                elif want > 0:
                    lid = out.intern_labels({ENDPOINT: ep, MEASURE: measure, PID: pid})
                    out.add((), want, lid)
        for (stack, lid), w in samples.items():
            k = keys[lid]
            out.add(stack, w * factor.get(k, 1.0) if k is not None else w, lid)
        out.requests = requests
        return out

    def flush(self, blocking: bool = True) -> bool:
        """Write the process's file if anything changed; False when it could not."""
        try:
            if not self._write_lock.acquire(blocking, 5.0 if blocking else -1):
                return False
            try:
                if self._generation == self._written:
                    return True
                snap = self.snapshot(blocking)
                if snap is None:
                    return False
                profile, generation = snap
                self._write(profile)
                self._written = generation
                return True
            finally:
                self._write_lock.release()
        except Exception as exc:
            self.fault(f"writing {self.options.output_dir}", exc)
            return False

    def _write(self, profile: Profile) -> None:
        from hotpath.collect.store import atomic_writer
        from hotpath.formats import hotpath_file

        os.makedirs(self.options.output_dir, mode=0o700, exist_ok=True)
        with atomic_writer(self.path, binary=True, mode=0o600) as f:
            hotpath_file.write(profile, f)
        if self.capture is not None:
            self.capture.write()

    def close(self) -> None:
        """Stop the flush thread and write what is left."""
        self._stop.set()
        self.flush()


def _pyinstrument_version() -> str:
    try:
        from importlib.metadata import version

        return version("pyinstrument")
    except Exception:
        return "unknown"


# -- process-wide hooks: exit, SIGTERM, fork -------------------------------------------
_STORES: weakref.WeakSet[RequestStore] = weakref.WeakSet()
_HOOKS = {"installed": False, "signal": False}

SIGTERM_DRAIN_S = 2.0
"""How long SIGTERM waits for the requests in flight before the last flush."""


def flush_all(blocking: bool = True) -> bool:
    """Flush every store of this process; False when one could not be written."""
    ok = True
    for rec in list(_STORES):
        if rec.pid == os.getpid():
            ok = rec.flush(blocking) and ok
    return ok


def _in_flight() -> int:
    return sum(rec.in_flight for rec in list(_STORES) if rec.pid == os.getpid())


def _after_fork_in_child() -> None:
    for rec in list(_STORES):
        rec._reset()
    if _HOOKS["signal"]:
        _TERMINATE.start()  # threads do not survive a fork


class _Terminator:
    """The thread that ends the process after a SIGTERM that found work unfinished.

    The signal handler runs in the main thread between two bytecodes, maybe in the middle of
    a request this process is recording, or while another thread holds the store's lock:
    flushing there would miss that request or find the lock taken, and the default action
    that follows would lose it (a busy server's file came out empty). Then the handler only
    wakes this thread, started beforehand (starting a thread takes locks the interrupted
    code may hold): it waits for the requests in flight, flushes, and re-raises SIGTERM."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.event = threading.Event()
        try:
            t = threading.Thread(target=self._run, name="hotpath-sigterm", daemon=True)
            t.start()
        except Exception:  # no thread: the handler flushes in place, as well as it can
            self.thread = None
        else:
            self.thread = t

    @property
    def ready(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _run(self) -> None:
        self.event.wait()
        deadline = time.monotonic() + SIGTERM_DRAIN_S
        while _in_flight() > 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        flush_all(blocking=True)
        os.kill(os.getpid(), signal.SIGTERM)  # the default action, restored by the handler


_TERMINATE = _Terminator()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Runs in the main thread between bytecodes: never wait for a lock that thread may hold.
    with contextlib.suppress(Exception):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _TERMINATE.ready and (_in_flight() > 0 or not flush_all(blocking=False)):
        _TERMINATE.event.set()  # it finishes the job; this thread goes on meanwhile
        return
    if not _TERMINATE.ready:
        flush_all(blocking=False)
    with contextlib.suppress(Exception):
        os.kill(os.getpid(), signal.SIGTERM)


def _install_process_hooks(with_signal: bool) -> None:
    if not _HOOKS["installed"]:
        _HOOKS["installed"] = True
        atexit.register(flush_all)
        os.register_at_fork(after_in_child=_after_fork_in_child)
    if with_signal and not _HOOKS["signal"]:
        # Only where nobody else handles SIGTERM: servers with their own handler exit
        # through atexit anyway. Signal handlers can only be set from the main thread.
        with contextlib.suppress(ValueError, OSError, AttributeError):
            if (
                threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
            ):
                signal.signal(signal.SIGTERM, _on_sigterm)
                _HOOKS["signal"] = True
                _TERMINATE.start()

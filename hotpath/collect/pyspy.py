"""Drive the py-spy executable: attach to a PID or start a command, and return a Profile.

py-spy samples stacks (``--format chrometrace --threads --idle``: per-thread spans with
timestamps) while :class:`~hotpath.collect.clocks.ClockSampler` reads every thread's CPU clock
from ``/proc``; :func:`~hotpath.collect.weigh.weigh_spans` joins the two so the profile holds
CPU seconds (``measure=cpu``) and wall seconds split into active and idle (``measure=wall``).
With ``gil=True`` py-spy only reports GIL-holding samples, which breaks the span timing, so
that mode reads py-spy's raw counts instead (no CPU weighting, no idle).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hotpath.collect.chrometrace import read_spans
from hotpath.collect.clocks import ClockRecord, ClockSampler, descendants
from hotpath.collect.torn import mend_torn
from hotpath.collect.weigh import WeighOptions, weigh_spans
from hotpath.errors import CollectionError, UsageError
from hotpath.model import CPU, MEASURE, Metadata, Profile

PTRACE_FIX = (
    "run hotpath as root, give py-spy the CAP_SYS_PTRACE capability (e.g. "
    "`setcap cap_sys_ptrace+ep $(command -v py-spy)`, or `--cap-add SYS_PTRACE` in Docker), "
    "or allow ptrace with `sysctl kernel.yama.ptrace_scope=0`"
)
_STARTUP_GRACE_S = 5.0
"""How long a stop waits for py-spy to be ready before it is sent anyway."""
_SAMPLES_RE = re.compile(rb"Samples: (\d+) Errors: (\d+)")


@dataclass(frozen=True)
class RecordOptions:
    """How to sample; names and meanings follow ``py-spy record``'s flags."""

    rate: int = 500
    """Samples a second. 500 by default: at 100 py-spy's ticks fall 10 ms or more apart and
    miss most requests of a few milliseconds whole (docs/collect.md has the measurements)."""
    duration: float | None = None
    """Seconds to sample; None: until stopped or the target exits."""
    idle: bool = True
    """Keep idle (off-CPU) samples in the wall part of the profile."""
    gil: bool = False
    subprocesses: bool = False
    native: bool = False
    nonblocking: bool | None = None
    """Sample without pausing the target. None: yes when the target runs Python 3.11 or
    later, whose thread states hold the OS thread id (cheaper for the target than pausing
    it 500 times a second); on older Pythons py-spy finds OS thread ids only by pausing, and
    without them the per-thread CPU clocks cannot be matched to the stacks."""
    threads: bool = True
    """Label samples with their thread (name and OS id)."""

    def __post_init__(self) -> None:
        if self.rate < 1 or self.rate > 10_000:
            raise UsageError(f"--rate must be between 1 and 10000, not {self.rate}")
        if self.duration is not None and self.duration <= 0:
            raise UsageError(f"--duration must be positive, not {self.duration}")


@dataclass(frozen=True)
class RecordResult:
    profile: Profile
    stopped_by: str
    """"duration", "interrupted" (stop() was called), or "target exited"."""
    samples: int
    errors: int
    elapsed_s: float


def find_pyspy() -> str:
    """The py-spy executable installed with this Python (its scripts dir), else on PATH."""
    exe = "py-spy.exe" if os.name == "nt" else "py-spy"
    dirs = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    for d in dirs:
        cand = os.path.join(d, exe)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    found = shutil.which(exe)
    if found:
        return found
    raise CollectionError("py-spy is not installed: pip install py-spy")


def pyspy_version(exe: str) -> str:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CollectionError(f"cannot run {exe}: {exc}") from exc
    return out.stdout.decode("utf-8", "replace").strip().removeprefix("py-spy ").strip()


def _pyspy_error(stderr: bytes, pid: int | None) -> CollectionError:
    text = stderr.decode("utf-8", "replace")
    who = f"PID {pid}" if pid is not None else "the target"
    if "Permission Denied" in text or "Operation not permitted" in text:
        return CollectionError(f"ptrace not permitted for {who}: {PTRACE_FIX}")
    if "Failed to get process executable name" in text or "No such process" in text:
        return CollectionError(f"no such process: {who} is not running")
    first = next((ln.strip() for ln in text.splitlines() if ln.startswith("Error:")), "")
    if not first:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "no message")
    return CollectionError(f"py-spy failed on {who}: {first.removeprefix('Error:').strip()}")


PRIORITY_BOOST = 10
"""How much less nice than hotpath py-spy runs when it cannot have a real-time priority."""


def _raise_priority(realtime: bool = True) -> None:  # in the child, between fork and exec
    """Give py-spy the lowest real-time priority (SCHED_RR 1), else a nicer-than-us one.

    On a machine with more runnable threads than cores a py-spy of ordinary priority waits
    for a core like any of them and stops sampling for 100-700 ms at a time (measured at
    500 Hz on 2 cores, load average 10-15): the requests run meanwhile are never seen and
    their CPU lands on the waits py-spy saw last (15-25% of the CPU on uvicorn). Even nice
    -20 left that as it was; the lowest real-time priority ended it (the CPU of unseen
    requests fell to 0-1%). py-spy sleeps between samples, so it takes no more CPU than
    before, only sooner; the kernel caps real-time tasks below a whole core, and with one
    core only the nice boost is used. So it is with ``--subprocesses``: py-spy then sampled
    back to back, used 7.8 CPU seconds in 4 s on two gunicorn workers and starved them.
    Either needs the privilege ptrace usually has (root); without it py-spy runs at
    hotpath's priority.
    """
    if realtime and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
            return
        except OSError:
            pass
    with contextlib.suppress(OSError):
        os.nice(-PRIORITY_BOOST)


def _priority_of(pid: int) -> str:
    """How py-spy is scheduled, for the profile's metadata."""
    try:
        if os.sched_getscheduler(pid) == os.SCHED_RR:
            return f"real-time (SCHED_RR {os.sched_getparam(pid).sched_priority})"
        return f"nice {os.getpriority(os.PRIO_PROCESS, pid)}"
    except (OSError, AttributeError):
        return "unknown"


def python_version_of(pid: int) -> tuple[int, int] | None:
    """The (major, minor) Python version a process runs, from its executable's or its
    libpython's name; None when neither says."""
    names = []
    with contextlib.suppress(OSError):
        names.append(os.path.basename(os.path.realpath(f"/proc/{pid}/exe")))
    with contextlib.suppress(OSError), open(f"/proc/{pid}/maps", encoding="utf-8") as f:
        names += [os.path.basename(ln.split()[-1]) for ln in f if "libpython" in ln]
    for name in names:
        m = _PYTHON_RE.search(name)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


_PYTHON_RE = re.compile(r"python(\d)\.(\d+)")


def python_children(pid: int) -> list[int]:
    """The processes below ``pid`` that run Python (a server master's workers)."""
    return [p for p in descendants(pid) if python_version_of(p) is not None]


class PySpyRecorder:
    """One py-spy recording: :meth:`start`, optionally :meth:`stop`, then :meth:`wait`.

    ``notes`` collects one-line remarks for the user: children followed on their own, or a
    recording that holds no CPU time."""

    def __init__(self, target: int | Sequence[str], options: RecordOptions) -> None:
        self.followed: list[int] = []
        """Python child processes sampled without being asked for (see ``notes``)."""
        if isinstance(target, int):
            if target <= 0 or not os.path.exists(f"/proc/{target}"):
                raise CollectionError(f"no such process: PID {target} is not running")
            self.pid: int | None = target
            self.command: list[str] | None = None
            if not options.subprocesses and not options.gil:
                children = python_children(target)
                if children:
                    # A server's master (gunicorn, uvicorn --workers, hypercorn, Sanic) runs
                    # no requests: its workers do. Sampling the master alone gives nothing.
                    options = replace(options, subprocesses=True)
                    self.followed = children
        else:
            if not target:
                raise UsageError("no command to record: give it after --")
            self.pid = None
            self.command = list(target)
        self.options = options
        self.nonblocking = bool(options.nonblocking)
        self.exe = find_pyspy()
        self.version = pyspy_version(self.exe)
        self._child: subprocess.Popen[bytes] | None = None
        self._spy: subprocess.Popen[bytes] | None = None
        self._clocks: ClockSampler | None = None
        # py-spy writes into an unlinked temporary file it inherits (as /dev/fd/N): nothing
        # is left in the temp directory whatever happens to hotpath, even SIGKILL.
        self._out_file = tempfile.TemporaryFile(prefix="hotpath-pyspy-")  # noqa: SIM115 (closed by wait)
        self._out = f"/dev/fd/{self._out_file.fileno()}"
        self._stop_reason: str | None = None
        self._stop_lock = threading.RLock()  # RLock: stop() may re-enter from a signal handler
        self._stop_sent = False
        self._stop_asked: float | None = None
        self._line_time: float | None = None
        self._stdout = b""
        self._stderr = b""
        self._readers: list[threading.Thread] = []
        self._site_dirs = ""
        self.started = 0.0
        self.notes: list[str] = []
        self.priority = "unknown"
        self.pyspy_cpu_s: float | None = None
        """CPU seconds py-spy itself used (read just before it was stopped)."""
        self._cost_read = 0.0
        if self.followed:
            n = len(self.followed)
            self.notes.append(
                f"PID {target} has {n} Python child process{'es' if n > 1 else ''} "
                f"({', '.join(map(str, self.followed[:8]))}{', ...' if n > 8 else ''}): "
                "sampling them too, as with --subprocesses"
            )

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        if self._stop_reason is not None:  # Ctrl-C before anything started: nothing to keep
            self._out_file.close()
            raise KeyboardInterrupt
        if self.command is not None:
            try:
                self._child = subprocess.Popen(self.command)
            except OSError as exc:
                raise CollectionError(f"cannot start {self.command[0]!r}: {exc}") from exc
            self.pid = self._child.pid
        assert self.pid is not None  # set above for both kinds of target
        o = self.options
        if o.nonblocking is None:
            version = python_version_of(self.pid)
            self.nonblocking = version is None or version >= (3, 11)
        fmt = "raw" if o.gil else "chrometrace"
        cmd = [self.exe, "record", "--pid", str(self.pid), "--format", fmt]
        cmd += ["--output", self._out, "--rate", str(o.rate), "--threads", "--idle"]
        for flag, on in (
            ("--gil", o.gil),
            ("--subprocesses", o.subprocesses),
            ("--native", o.native),
            ("--nonblocking", self.nonblocking),
        ):
            if on:
                cmd.append(flag)
        if o.duration is not None:  # py-spy stops by itself even if hotpath cannot tell it
            cmd += ["--duration", str(math.ceil(o.duration) + 2)]
        self.started = time.monotonic()
        try:
            # Own session: a terminal's Ctrl-C reaches hotpath, which stops py-spy in order.
            # It dies with hotpath (parent-death signal) rather than sample on unwatched.
            self._spy = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(self._out_file.fileno(),),
                preexec_fn=_preexec(functools.partial(_raise_priority, not o.subprocesses)),
            )
        except OSError as exc:
            self._kill_child()
            raise CollectionError(f"cannot run py-spy ({self.exe}): {exc}") from exc
        self.priority = _priority_of(self._spy.pid)
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for r in self._readers:
            r.start()
        self._clocks = ClockSampler([self.pid], o.rate, o.subprocesses)
        self._clocks.start()

    def _read_stdout(self) -> None:
        assert self._spy is not None and self._spy.stdout is not None
        for line in self._spy.stdout:
            if self._line_time is None and b"Sampling process" in line:
                # py-spy prints this just before it handles its first sample: it pins the
                # origin of its timestamps on our monotonic clock.
                self._line_time = time.monotonic()
                if self._stop_reason is not None:
                    self._send_stop()  # a stop asked for while py-spy was starting up
            self._stdout += line

    def _read_stderr(self) -> None:
        assert self._spy is not None and self._spy.stderr is not None
        self._stderr = self._spy.stderr.read()

    def stop(self, reason: str = "interrupted") -> None:
        """Ask py-spy to finish (it writes what it has); safe from a signal handler."""
        if self._stop_reason is None:
            self._stop_reason = reason
        if self._line_time is not None:
            self._send_stop()
        # Else py-spy is still starting: before it prints "Sampling process" a SIGINT kills it
        # (and its samples); _read_stdout forwards the stop as soon as it is ready.

    def _send_stop(self) -> None:
        with self._stop_lock:
            spy = self._spy
            if self._stop_sent or spy is None or spy.poll() is not None:
                return
            self._stop_sent = True  # once: a second SIGINT would make py-spy quit unsaved
            self._note_cost()
            with contextlib.suppress(OSError):
                spy.send_signal(signal.SIGINT)

    def _note_cost(self) -> None:
        """Read py-spy's own CPU seconds while it still runs (for the profile's metadata)."""
        spy = self._spy
        if spy is None:
            return
        try:
            with open(f"/proc/{spy.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            self.pyspy_cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass

    @property
    def running(self) -> bool:
        return self._spy is not None and self._spy.poll() is None

    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0

    def thread_count(self) -> int:
        clocks = self._clocks
        return len(clocks.threads) if clocks is not None else 0

    def poll(self, timeout: float = 0.1) -> bool:
        """Wait up to ``timeout`` s; True once py-spy has finished. Enforces the duration."""
        spy = self._spy
        if spy is None:
            return True
        try:
            spy.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            pass
        if self.elapsed() - self._cost_read >= 1.0:  # the target may end it any moment
            self._cost_read = self.elapsed()
            self._note_cost()
        d = self.options.duration
        if d is not None and self.elapsed() >= d and self._stop_reason is None:
            self.stop("duration")
        if self._stop_reason is not None and not self._stop_sent:
            # A deferred stop whose "Sampling process" line never came: do not wait forever.
            if self._stop_asked is None:
                self._stop_asked = time.monotonic()
            elif time.monotonic() - self._stop_asked > _STARTUP_GRACE_S:
                self._send_stop()
        return False

    def wait(self) -> RecordResult:
        """Wait for py-spy to finish and build the profile from what it collected."""
        while not self.poll(0.2):
            pass
        # Read while the target still runs: where its libraries live (for the advisor).
        self._site_dirs = target_site_dirs(self.pid) if self.pid is not None else ""
        assert self._spy is not None
        rc = self._spy.wait()
        for r in self._readers:
            r.join(5)
        clocks = self._clocks.stop() if self._clocks is not None else None
        reason = self._stop_reason or "target exited"
        self._kill_child()
        try:
            if rc < 0:
                # py-spy writes its file only when it exits cleanly: a killed py-spy leaves
                # nothing to recover, so say exactly that (the CLI writes no output file).
                name = signal.Signals(-rc).name if -rc in signal.valid_signals() else str(-rc)
                if -rc == getattr(signal, "SIGXFSZ", None):
                    name += " (the file size limit: a full disk or RLIMIT_FSIZE)"
                raise CollectionError(
                    f"py-spy was killed by {name} after {self.elapsed():.1f} s: the samples "
                    "it had taken are lost (py-spy writes them only when it exits); "
                    "no profile was written"
                )
            if rc != 0 or os.fstat(self._out_file.fileno()).st_size == 0:
                raise _pyspy_error(self._stderr, self.pid)
            m = _SAMPLES_RE.search(self._stdout)
            samples, errors = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
            profile = self._build(clocks, samples)
        finally:
            self._out_file.close()
        return RecordResult(profile, reason, samples, errors, self.elapsed())

    def _kill_child(self) -> None:
        child = self._child
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    # -- building the profile -------------------------------------------------------------
    def _meta(self, samples: int) -> Metadata:
        o = self.options
        target = " ".join(self.command) if self.command is not None else f"pid {self.pid}"
        meta = Metadata(
            interval_s=1.0 / o.rate,
            duration_s=round(self.elapsed(), 3),
            sample_count=samples,
            tools={"py-spy": self.version},
        )
        meta.attrs.update(
            {
                "collector": "hotpath record (py-spy)",
                "target": target,
                "rate": str(o.rate),
                "subprocesses": str(o.subprocesses).lower(),
                "gil": str(o.gil).lower(),
                "native": str(o.native).lower(),
                "nonblocking": str(self.nonblocking).lower(),
                "pyspy_priority": self.priority,
                **(
                    {"pyspy_cpu_s": f"{self.pyspy_cpu_s:.2f}"}
                    if self.pyspy_cpu_s is not None
                    else {}
                ),
            }
        )
        if self._site_dirs:
            meta.attrs["site_dirs"] = self._site_dirs
        return meta

    def _build(self, clocks: ClockRecord | None, samples: int) -> Profile:
        meta = self._meta(samples)
        if self.options.gil:
            from hotpath.formats import folded

            with open(self._out, "rb") as f:
                counts = folded.read(f, self._out)
            out = counts.scaled(1.0 / self.options.rate, "seconds")
            out.meta = meta
            meta.unit = "seconds"
            meta.attrs["weights"] = "GIL-holding samples x interval"
            return out
        with open(self._out, "rb") as f:
            spans = list(read_spans(f, self._out))
        if self.nonblocking:
            spans, mended = mend_torn(spans)
            meta.attrs["torn_stacks_mended"] = f"{mended} of {len(spans)} spans"
        first = min((s.start for s in spans), default=0.0)
        anchor = self._line_time if self._line_time is not None else self.started
        origin = anchor - first
        meta.attrs["weights"] = (
            "py-spy spans x per-thread CPU clocks (/proc schedstat; exited threads: process clock)"
        )
        if clocks is not None:
            meta.attrs["clock_sweeps"] = str(clocks.sweeps)
        record = clocks or ClockRecord({}, 0, 0.0, 0.0)
        opts = WeighOptions(origin, self.options.idle, interval_s=1.0 / self.options.rate)
        profile = weigh_spans(spans, record, opts, meta)
        cpu = sum(w for _f, labels, w in profile.iter_samples() if (MEASURE, CPU) in labels)
        if not spans or cpu <= 0:
            who = f"PID {self.pid}" if self.command is None else "the command"
            hint = "" if self.options.subprocesses else (
                "; if its work runs in child processes started later, use --subprocesses"
            )  # fmt: skip
            self.notes.append(f"the profile holds no CPU time: {who} used none while sampled{hint}")
        return profile


def target_site_dirs(pid: int) -> str:
    """The target's site-packages directories (``os.pathsep``-separated), from the shared
    libraries it has mapped (``/proc/PID/maps``): the advisor reads the source of library
    frames there. Empty where /proc is not readable."""
    found: list[str] = []
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                path = line.rstrip("\n").split(None, 5)[-1] if line.count(" ") >= 5 else ""
                for marker in ("/site-packages/", "/dist-packages/"):
                    at = path.find(marker)
                    if at > 0 and (d := path[: at + len(marker) - 1]) not in found:
                        found.append(d)
    except OSError:
        return ""
    return os.pathsep.join(found)


def _preexec(first: Callable[[], None]) -> Callable[[], None]:
    """``first`` (the priority), then the parent-death signal, in the child before exec."""
    die = _die_with_parent()

    def run() -> None:
        first()
        if die is not None:
            die()

    return run


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function that has the kernel SIGKILL the child when hotpath dies (Linux
    PR_SET_PDEATHSIG), so a killed hotpath leaves no py-spy sampling a production process."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # hotpath died before the line above ran
            os._exit(1)

    return preexec


def record(target: int | Sequence[str], options: RecordOptions | None = None) -> RecordResult:
    """Record a PID or a command (argv list) until the duration ends or the target exits."""
    rec = PySpyRecorder(target, options or RecordOptions())
    rec.start()
    try:
        return rec.wait()
    except BaseException:
        rec.stop()
        raise


def current_top(pid: int, exe: str | None = None) -> str | None:
    """The most common leaf function of the active threads right now (for progress lines)."""
    try:
        out = subprocess.run(
            [exe or find_pyspy(), "dump", "--nonblocking", "--pid", str(pid)],
            capture_output=True,
            timeout=5,
            check=False,
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired, CollectionError):
        return None
    leaves: Counter[str] = Counter()
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Thread ") and "(active" in line and i + 1 < len(lines):
            leaf = lines[i + 1].strip()
            if leaf and not leaf.startswith("Thread "):
                leaves[leaf.split(" (", 1)[0]] += 1
    return leaves.most_common(1)[0][0] if leaves else None

"""Chrome trace event JSON: py-spy ``-f chrometrace``, viztracer, and other tracers' files.

The file is a JSON list of events, or an object whose ``traceEvents`` holds that list
(viztracer). Events are read one by one by the live collector's streaming parser
(:func:`hotpath.collect.chrometrace.iter_events`); the file is never held whole.

- ``B``/``E`` (begin/end; py-spy): replayed per (pid, tid); the time between two events of
  a thread goes to the stack open between them.
- ``X`` (complete events with ``dur``; viztracer): nested per thread by time; an event's
  self time is its duration minus its children's. They are kept per thread until the end
  (they arrive in exit order), so memory grows with the number of ``X`` events.
- ``M`` ``thread_name`` / ``process_name`` events name the labels. Other phases (counters,
  instants, flows) carry no stack time and are skipped.

Weights are seconds (timestamps are microseconds). Frames: py-spy puts the file and the
sampled line in ``args`` (``filename``, ``line``) and its ``thread (TID): NAME`` /
``process PID:"cmdline"`` root frames become labels, as in the collector; viztracer names a
function ``qualname (file:LINE)`` with LINE its def line (``first_line``).
"""

from __future__ import annotations

import io
import math
import re
from typing import Any, BinaryIO

from hotpath.collect.chrometrace import _labels_of, iter_events
from hotpath.errors import ProfileParseError
from hotpath.formats.spec import FormatSpec
from hotpath.model import PID, PROCESS, THREAD, THREAD_ID, Frame, Metadata, Profile

_VIZ_NAME = re.compile(r"\A(.+) \((.+):(\d+)\)\Z", re.S)
_KEY_RE = re.compile(rb'"traceEvents"\s*:\s*\[')
_MAX_TS = 2.0**62
_HEAD = 1 << 20


class _Prefixed(io.RawIOBase):
    """A stream that replays ``head`` and then the rest of ``inner``."""

    def __init__(self, head: bytes, inner: BinaryIO) -> None:
        self._head = head
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._inner.read(len(b))
        b[: len(data)] = data
        return len(data)


def _event_list(stream: BinaryIO, path: str) -> BinaryIO:
    """The stream positioned at the event list ('[' first), for either layout."""
    head = stream.read(_HEAD)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        m = _KEY_RE.search(text)
        if m is None:
            raise ProfileParseError(path, "a JSON object without a 'traceEvents' list")
        text = text[m.end() - 1 :]
    return io.BufferedReader(_Prefixed(text, stream), buffer_size=_HEAD)


def _ts(ev: dict[str, Any], key: str, path: str, n: int) -> float:
    v = ev.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise ProfileParseError(path, f"traceEvents[{n}]: '{key}' {str(v)[:30]!r} is not a number")
    if not -_MAX_TS < v < _MAX_TS or (key == "dur" and v < 0):
        raise ProfileParseError(path, f"traceEvents[{n}]: '{key}' {v!r} is out of range")
    return float(v)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.profile = Profile(Metadata(unit="seconds"))
        self.frames: dict[tuple[str, str, int | None, str], Frame] = {}
        self.open: dict[tuple[str, str], list[Frame]] = {}
        self.last: dict[tuple[str, str], float] = {}
        self.complete: dict[tuple[str, str], list[tuple[float, float, Frame]]] = {}
        self.names: dict[tuple[str, str], str] = {}
        self.processes: dict[str, str] = {}
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.cats: set[str] = set()

    def frame(self, ev: dict[str, Any], n: int) -> Frame:
        name = ev.get("name")
        if not isinstance(name, str):
            raise ProfileParseError(self.path, f"traceEvents[{n}]: 'name' must be a string")
        args = ev.get("args")
        file, line = "", None
        if isinstance(args, dict):
            f, ln = args.get("filename"), args.get("line")
            file = f if isinstance(f, str) else ""
            line = ln if isinstance(ln, int) and not isinstance(ln, bool) and ln > 0 else None
        cat = ev.get("cat")
        cat = cat if isinstance(cat, str) else ""
        key = (name, file, line, cat)
        got = self.frames.get(key)
        if got is None:
            m = _VIZ_NAME.match(name) if cat == "fee" and not file else None
            if m is not None:
                got = Frame(m.group(1), m.group(2), None, int(m.group(3)) or None)
            else:
                got = Frame(name, file, line if line is not None and line < 2**31 else None)
            self.frames[key] = got
            self.cats.add(cat[:40])
        return got

    def add(self, thread: tuple[str, str], frames: list[Frame], seconds: float) -> None:
        if not frames or seconds <= 0:
            return
        tid, name, pid, process, n = _labels_of(frames)
        labels: dict[str, str] = {PID: thread[0]} if thread[0] else {}
        if thread[0] in self.processes:
            labels[PROCESS] = self.processes[thread[0]]
        labels[THREAD_ID] = str(tid) if tid is not None else thread[1]
        tname = name if name is not None else self.names.get(thread)
        labels[THREAD] = tname or labels[THREAD_ID]  # as folded names an unnamed thread
        if pid is not None:
            labels[PID] = str(pid)
        if process is not None:
            labels[PROCESS] = process
        p = self.profile
        stack = tuple(p.intern_frame(f) for f in frames[n:])
        p.add(stack, seconds, p.intern_labels(labels))

    def event(self, ev: dict[str, Any], n: int) -> None:
        ph = ev.get("ph")
        if ph not in ("B", "E", "X", "M"):
            return
        thread = (str(ev.get("pid", ""))[:40], str(ev.get("tid", ""))[:40])
        if ph == "M":
            args = ev.get("args")
            name = args.get("name") if isinstance(args, dict) else None
            if isinstance(name, str) and ev.get("name") == "thread_name":
                self.names[thread] = name
            elif isinstance(name, str) and ev.get("name") == "process_name":
                self.processes[thread[0]] = name
            return
        ts = _ts(ev, "ts", self.path, n) / 1e6
        self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        if ph == "X":
            dur = _ts(ev, "dur", self.path, n) / 1e6
            self.last_ts = max(self.last_ts, ts + dur)
            self.complete.setdefault(thread, []).append((ts, dur, self.frame(ev, n)))
            return
        stack = self.open.setdefault(thread, [])
        since = self.last.get(thread)
        if since is not None and ts > since:
            self.add(thread, stack, ts - since)
        self.last[thread] = max(ts, since) if since is not None else ts
        if ph == "B":
            stack.append(self.frame(ev, n))
        elif stack:
            stack.pop()

    def finish_complete(self) -> None:
        """Nest each thread's X events by time and add every event's self time."""
        for thread, events in self.complete.items():
            events.sort(key=lambda e: (e[0], -e[1]))
            self._nest(thread, events)

    def _nest(self, thread: tuple[str, str], events: list[tuple[float, float, Frame]]) -> None:
        # Open events as [end, children's time, duration], with their frames alongside.
        open_: list[list[float]] = []
        frames: list[Frame] = []
        for ts, dur, frame in [*events, (math.inf, 0.0, Frame(""))]:
            while open_ and ts >= open_[-1][0] - 1e-9:
                _end, inner, own_dur = open_.pop()
                self.add(thread, frames, own_dur - inner)
                frames.pop()
                if open_:
                    open_[-1][1] += own_dur
            if ts == math.inf:
                break
            if open_ and ts + dur > open_[-1][0]:
                dur = max(open_[-1][0] - ts, 0.0)  # rounding: clip to the parent
            open_.append([ts + dur, 0.0, dur])
            frames.append(frame)


def read(stream: BinaryIO, path: str) -> Profile:
    r = _Reader(path)
    events = _event_list(stream, path)
    for n, ev in enumerate(iter_events(events, path)):
        r.event(ev, n)
    r.finish_complete()
    if r.last_ts is not None:
        for thread, stack in r.open.items():  # py-spy ends every stack; others may not
            since = r.last.get(thread)
            if stack and since is not None and r.last_ts > since:
                r.add(thread, stack, r.last_ts - since)
    if not r.profile.samples:
        raise ProfileParseError(path, "no stack time in the trace (no B/E or X events)")
    meta = r.profile.meta
    if r.first_ts is not None and r.last_ts is not None:
        meta.duration_s = r.last_ts - r.first_ts
    if "py-spy" in r.cats:
        meta.tools["py-spy"] = "unknown"
    if "fee" in r.cats:
        meta.tools["viztracer"] = "unknown"
    return r.profile


def sniff(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return _KEY_RE.search(text) is not None
    if not text.startswith(b"["):
        return False
    first = text[1:400].lstrip()
    return first.startswith(b"{") and b'"ph"' in first[:400]


SPEC = FormatSpec(
    name="chrometrace",
    description="Chrome trace events (py-spy -f chrometrace, viztracer)",
    extensions=(".json", ".trace"),
    sniff=sniff,
    read=read,
)

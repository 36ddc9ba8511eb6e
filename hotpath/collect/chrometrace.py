"""py-spy's ``--format chrometrace`` output turned into spans of time per thread and stack.

py-spy writes one JSON list of begin (``B``) / end (``E``) events per frame, emitted only when a
thread's stack changes between two samples, with timestamps in microseconds since py-spy
started. Replaying them per thread gives spans: "thread T was in stack S from t0 to t1".
With ``--idle`` every thread is sampled on every tick, so a span covers exactly the samples that
saw that stack. With ``--threads`` (always passed) the root frame ``thread (TID): NAME`` names
the OS thread; with ``--subprocesses`` ``process PID:"cmdline"`` frames sit above it.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from hotpath.errors import ProfileParseError
from hotpath.model import Frame

_THREAD_RE = re.compile(r"thread \((0x[0-9a-fA-F]+|\d+)\)(?:: (.*))?\Z", re.S)
_PROCESS_RE = re.compile(r'process (\d+):"(.*)"\Z', re.S)
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Span:
    """A thread stayed in one stack from ``start`` to ``end`` (seconds since py-spy began)."""

    pid: int
    tid: int | None
    thread_name: str | None
    process: str | None
    stack: tuple[Frame, ...]
    """Python frames root→leaf, without py-spy's thread and process frames."""
    start: float
    end: float


def iter_events(stream: IO[bytes], path: str) -> Iterator[dict[str, Any]]:
    """Yield the events of a JSON list one by one without reading the whole file at once."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buf = ""
    pos = 0
    eof = False
    started = False

    def fill() -> None:
        nonlocal buf, pos, eof
        raw = stream.read(_CHUNK)
        eof = not raw
        buf = buf[pos:] + utf8.decode(raw, final=eof)
        pos = 0

    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(buf) or (len(buf) - pos < _CHUNK // 2 and not eof):
            if eof:
                raise ProfileParseError(path, "py-spy chrometrace output is empty or truncated")
            fill()
            continue
        if not started:
            if buf[pos] != "[":
                raise ProfileParseError(path, "py-spy chrometrace output is not a JSON list")
            pos += 1
            started = True
            continue
        if buf[pos] == "]":
            return
        try:
            event, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if eof:
                raise ProfileParseError(path, f"invalid JSON: {exc.msg}") from exc
            fill()
            continue
        if not isinstance(event, dict):
            raise ProfileParseError(path, "py-spy chrometrace event is not an object")
        pos = end
        yield event


def _labels_of(frames: list[Frame]) -> tuple[int | None, str | None, int | None, str | None, int]:
    """(tid, thread name, pid, process cmdline, number of label frames at the root)."""
    tid: int | None = None
    name: str | None = None
    pid: int | None = None
    process: str | None = None
    n = 0
    for f in frames:
        if f.file:
            break
        m = _THREAD_RE.match(f.name)
        if m:
            tid = int(m.group(1), 0)
            name = m.group(2)
        else:
            mp = _PROCESS_RE.match(f.name)
            if not mp:
                break
            pid, process = int(mp.group(1)), mp.group(2)
        n += 1
    return tid, name, pid, process, n


def read_spans(stream: IO[bytes], path: str) -> Iterator[Span]:
    """Replay the B/E events and yield a span per thread and stack.

    Events are replayed per py-spy key (its ``tid``: the pthread id). Forked processes share
    pthread ids, so with ``--subprocesses`` two workers' main threads share one key and py-spy
    emits their stacks alternately on every tick. Spans are therefore kept per thread identity
    (the pid and OS thread id in the stack's root frames), not per key: a thread's span lasts
    until that thread is seen in another stack.
    """
    stacks: dict[int, list[Frame]] = {}
    pids: dict[int, int] = {}
    frames: dict[tuple[str, str, int | None], Frame] = {}
    current: dict[tuple[int, int | None], tuple[tuple[Frame, ...], float]] = {}
    owner: dict[int, tuple[int, int | None]] = {}
    batch: tuple[int, float] | None = None
    last_ts = 0.0

    def observe(key: int, ts: float) -> Iterator[Span]:
        stack = stacks.get(key)
        if not stack:
            return
        snap = tuple(stack)
        tid, _name, spid, _proc, _n = _labels_of(stack)
        ident = (spid if spid is not None else pids.get(key, 0), tid)
        old = owner.get(key)
        if old is not None and old != ident and old[0] == ident[0] and old in current:
            # One process reuses a pthread id only after the thread that had it ended.
            gone, since = current.pop(old)
            if ts > since:
                yield _span(list(gone), old[0], since, ts)
        owner[key] = ident
        prev = current.get(ident)
        if prev is None:
            current[ident] = (snap, ts)
        elif prev[0] != snap:
            if ts > prev[1]:
                yield _span(list(prev[0]), ident[0], prev[1], ts)
            current[ident] = (snap, ts)

    for ev in iter_events(stream, path):
        ph = ev.get("ph")
        if ph not in ("B", "E"):
            continue
        try:
            key = int(ev["tid"])
            ts = float(ev["ts"]) / 1e6
            args = ev.get("args") or {}
            name = str(ev["name"])
            file = str(args.get("filename") or "")
            line = args.get("line")
            line = int(line) if isinstance(line, int) and line > 0 else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileParseError(path, f"bad py-spy chrometrace event: {exc}") from exc
        if batch is not None and batch != (key, ts):
            yield from observe(*batch)
        batch = (key, ts)
        last_ts = max(last_ts, ts)
        stack = stacks.setdefault(key, [])
        if ph == "B":
            fkey = (name, file, line)
            frame = frames.get(fkey)
            if frame is None:
                frame = frames[fkey] = Frame(name, file, line)
            stack.append(frame)
            pids[key] = int(ev.get("pid") or 0)
        elif stack:
            stack.pop()
    if batch is not None:
        yield from observe(*batch)
    for (pid, _tid), (snap, since) in current.items():
        if last_ts > since:
            yield _span(list(snap), pid, since, last_ts)


def _span(stack: list[Frame], pid: int, start: float, end: float) -> Span:
    tid, name, spid, process, n = _labels_of(stack)
    return Span(spid if spid is not None else pid, tid, name, process, tuple(stack[n:]), start, end)

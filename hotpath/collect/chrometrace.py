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
    """Replay the B/E events per py-spy thread key and yield a span per stack change."""
    stacks: dict[int, list[Frame]] = {}
    since: dict[int, float] = {}
    pids: dict[int, int] = {}
    frames: dict[tuple[str, str, int | None], Frame] = {}
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
        stack = stacks.setdefault(key, [])
        if stack and since.get(key, ts) < ts:
            # The stack is about to change: the previous one lasted until now.
            yield _span(stack, pids.get(key, 0), since[key], ts)
            since[key] = ts
        elif not stack:
            since[key] = ts
        if ph == "B":
            fkey = (name, file, line)
            frame = frames.get(fkey)
            if frame is None:
                frame = frames[fkey] = Frame(name, file, line)
            stack.append(frame)
            pids[key] = int(ev.get("pid") or 0)
        elif stack:
            stack.pop()


def _span(stack: list[Frame], pid: int, start: float, end: float) -> Span:
    tid, name, spid, process, n = _labels_of(stack)
    return Span(spid if spid is not None else pid, tid, name, process, tuple(stack[n:]), start, end)

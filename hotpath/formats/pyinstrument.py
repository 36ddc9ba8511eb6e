"""pyinstrument 5.x session files (``Session.save``, ``pyinstrument -r pyisession``).

The JSON holds ``frame_records``: ``[[identifier, ...], seconds]`` per sample, root first.
An identifier is ``name\\0file\\0firstline`` followed by attributes, each ``\\x01`` plus a
marker: ``c<Class>`` (the method's class), ``l<line>`` (the sampled line), ``h<0|1>``
(``__tracebackhide__``). The first identifier of a stack is a ``Name\\0<thread>\\0ident``
placeholder: it becomes the ``thread``/``tid`` labels, not a frame. Stacks ending in
pyinstrument's synthetic ``[await]`` frame are time spent awaiting: labelled ``state=idle``.

The JSON is parsed here, never by importing pyinstrument, so reading a file runs no code.
"""

from __future__ import annotations

import math
from typing import Any, BinaryIO, NoReturn

from hotpath.errors import ProfileParseError
from hotpath.formats.jsondoc import load_json
from hotpath.formats.spec import FormatSpec
from hotpath.model import IDLE, STATE, THREAD, THREAD_ID, Frame, Metadata, Profile, Stack

_AWAIT = "[await]"
_THREAD_FILE = "<thread>"


def _number(v: object) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def parse_identifier(info: str) -> Frame | tuple[str, str]:
    """A frame, or (thread name, thread ident) for the ``<thread>`` placeholder.

    Raises ValueError when the identifier is not pyinstrument's format.
    """
    ident, _, attrs = info.partition("\x01")
    parts = ident.split("\x00")
    if len(parts) == 1 and ident.startswith("[") and ident.endswith("]"):
        return Frame(ident)  # synthetic frames: [await], [out-of-context]
    if len(parts) != 3:
        raise ValueError(f"identifier {ident[:80]!r} is not 'name\\0file\\0line'")
    name, file, first = parts
    if file == _THREAD_FILE:
        return (name, first)
    if not (first.isdigit() or first == ""):
        raise ValueError(f"first line {first[:20]!r} of {name[:40]!r} is not a number")
    line: int | None = None
    cls = None
    for attr in attrs.split("\x01") if attrs else ():
        marker, value = attr[:1], attr[1:]
        if marker == "l" and value.isdigit():
            line = int(value)
        elif marker == "c" and value:
            cls = value
    first_line = int(first) if first and first != "0" else None
    return Frame(f"{cls}.{name}" if cls else name, file, line, first_line)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.profile = Profile(Metadata(unit="seconds"))
        self.frames: dict[str, int | tuple[str, str]] = {}
        self.stacks: dict[tuple[str, ...], tuple[Stack, int]] = {}

    def fail(self, reason: str) -> NoReturn:
        raise ProfileParseError(self.path, reason)

    def item(self, info: object, where: str) -> int | tuple[str, str]:
        if not isinstance(info, str):
            self.fail(f"{where}: identifiers must be strings")
        got = self.frames.get(info)
        if got is None:
            try:
                parsed = parse_identifier(info)
            except ValueError as exc:
                self.fail(f"{where}: {exc}")
            got = self.profile.intern_frame(parsed) if isinstance(parsed, Frame) else parsed
            self.frames[info] = got
        return got

    def record(self, ids: list[Any], where: str) -> tuple[Stack, int]:
        try:
            key = tuple(ids)
            got = self.stacks.get(key)
        except TypeError:  # a list or object among the identifiers: unhashable
            self.fail(f"{where}: identifiers must be strings")
        if got is not None:
            return got
        labels: dict[str, str] = {}
        stack: list[int] = []
        for info in ids:
            item = self.item(info, where)
            if isinstance(item, tuple):
                labels[THREAD], labels[THREAD_ID] = item
            else:
                stack.append(item)
        if ids and ids[-1] == _AWAIT:
            labels[STATE] = IDLE
        got = (tuple(stack), self.profile.intern_labels(labels))
        self.stacks[key] = got
        return got


def from_document(doc: object, path: str) -> Profile:
    """Build a profile from a parsed pyinstrument session document."""
    if not isinstance(doc, dict) or "frame_records" not in doc:
        raise ProfileParseError(path, "not a pyinstrument session: no 'frame_records'")
    records = doc["frame_records"]
    r = _Reader(path)
    if not isinstance(records, list):
        r.fail("frame_records must be a list")
    add = r.profile.add
    for i, rec in enumerate(records):
        where = f"frame_records[{i}]"
        if not (isinstance(rec, list) and len(rec) == 2 and isinstance(rec[0], list)):
            r.fail(f"{where}: expected [[identifier, ...], seconds]")
        seconds = _number(rec[1])
        if seconds is None or seconds < 0:
            r.fail(f"{where}: time {rec[1]!r} is not a non-negative number")
        stack, lid = r.record(rec[0], where)
        add(stack, seconds, lid)
    if not r.profile.samples:
        r.fail("no samples (frame_records is empty)")
    meta = r.profile.meta
    meta.duration_s = _number(doc.get("duration"))
    count = doc.get("sample_count")
    meta.sample_count = count if isinstance(count, int) and not isinstance(count, bool) else None
    meta.interval_s = _number(doc.get("min_interval"))
    version = doc.get("pyinstrument_version")
    meta.tools["pyinstrument"] = version if isinstance(version, str) else "unknown"
    for key in ("start_time", "cpu_time"):
        value = _number(doc.get(key))
        if value is not None:
            meta.attrs[key] = repr(value)
    if isinstance(doc.get("target_description"), str):
        meta.attrs["target"] = doc["target_description"]
    return r.profile


def read(stream: BinaryIO, path: str) -> Profile:
    return from_document(load_json(stream, path), path)


def sniff(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    return b'"frame_records"' in text or (
        b'"start_call_stack"' in text and b'"sample_count"' in text
    )


SPEC = FormatSpec(
    name="pyinstrument",
    description="pyinstrument session (Session.save, -r pyisession)",
    extensions=(".pyisession",),
    sniff=sniff,
    read=read,
)

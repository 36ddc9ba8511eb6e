"""Austin's output: its text format and its MOJO binary format (``austin -b``).

Text (austin 3): ``# key: value`` metadata lines (``austin``, ``interval``, ``mode``, and at the
end ``duration``), then one sample per line::

    P<pid>;T<iid>:<tid>;<file>:<function>:<line>;... <metrics>

root first; ``<line>`` is the sampled line and ``<function>`` the qualified name (Python
3.11+). The metric is microseconds (``mode: wall`` or ``cpu``, read as seconds) or bytes
(``mode: memory``; only allocations, the positive values, are kept); ``mode: full`` writes
``time,idle,memory`` and hotpath keeps the time, labelling idle samples ``state=idle``. A
sample with no frames is kept as an empty stack. The pid and tid become labels (the tid
also names the thread: austin records no thread names).

MOJO (the format austin-python decodes): ``MOJ`` and a version, then events, each a byte and
its fields, integers as austin's variable-length integers (6 bits and a sign in the first
byte, 7 bits after) and strings NUL-terminated: metadata, a stack header (pid, interpreter,
thread), frames and strings defined once and referenced by key (per process), ``STACK_REPEAT``
(the thread's previous stack is the base of this one), idle/GC markers, and metrics. The
same samples as the text format come out of it. Both are read in blocks, never whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NoReturn

from hotpath.errors import LimitExceeded, ProfileParseError
from hotpath.formats.spec import FormatSpec
from hotpath.model import IDLE, PID, STATE, THREAD, THREAD_ID, Frame, Metadata, Profile

MAX_LINE_BYTES = 256 * 1024**2
_MAX_METRIC = 2**62
_digits = re.compile(r"[0-9]+\Z").match
"""ASCII digits only: str.isdigit() accepts '²', which int() refuses."""


@dataclass
class _Builder:
    """Turns austin samples into a profile, whichever format they came from."""

    path: str
    profile: Profile = field(default_factory=Profile)
    meta: dict[str, str] = field(default_factory=dict)
    frames: dict[tuple[str, str, str], int] = field(default_factory=dict)
    labels: dict[tuple[str, str, bool], int] = field(default_factory=dict)
    samples: int = 0

    def frame(self, file: str, function: str, line: str) -> int:
        key = (file, function, line)
        got = self.frames.get(key)
        if got is None:
            n = int(line) if _digits(line) and len(line) < 10 else 0
            got = self.profile.intern_frame(Frame(function, file, n or None))
            self.frames[key] = got
        return got

    def label(self, pid: str, tid: str, idle: bool) -> int:
        key = (pid, tid, idle)
        got = self.labels.get(key)
        if got is None:
            labels = {PID: pid, THREAD_ID: tid, THREAD: tid}  # austin records no names
            if idle:
                labels[STATE] = IDLE
            got = self.labels[key] = self.profile.intern_labels(labels)
        return got

    def add(self, stack: tuple[int, ...], pid: str, tid: str, metric: int, idle: bool) -> None:
        self.samples += 1
        if self.meta.get("mode") == "memory" and metric <= 0:
            return  # deallocations: the model's weights are never negative
        if metric < 0:
            raise ProfileParseError(self.path, f"negative sample time {metric}")
        self.profile.add(stack, metric, self.label(pid, tid, idle))

    def finish(self) -> Profile:
        p = self.profile
        mode = self.meta.get("mode", "wall")
        if not p.samples and self.samples == 0:
            raise ProfileParseError(self.path, "no austin samples")
        if mode == "memory":
            p.meta.unit = "bytes"
        else:
            p = p.scaled(1e-6, "seconds")
        meta = p.meta
        meta.sample_count = self.samples
        meta.tools["austin"] = self.meta.get("austin", "unknown")[:40]
        interval = self.meta.get("interval", "")
        if _digits(interval) and len(interval) < 12:
            meta.interval_s = int(interval) / 1e6
        duration = self.meta.get("duration", "")
        if _digits(duration) and len(duration) < 15:
            meta.duration_s = int(duration) / 1e6
        meta.attrs["austin_mode"] = mode[:20]
        return p


# -- text -----------------------------------------------------------------------------------
def _text_sample(b: _Builder, line: str, lineno: int) -> None:
    def fail(reason: str) -> NoReturn:
        raise ProfileParseError(b.path, reason, lineno)

    head, sep, metrics = line.rpartition(" ")
    if not sep or not head.startswith("P"):
        fail(f"expected 'P<pid>;T<tid>;frames METRIC', got {line[:60]!r}")
    process, _, rest = head.partition(";")
    thread, _, frames_text = rest.partition(";")
    if not _digits(process[1:]) or not thread.startswith("T"):
        fail(f"expected 'P<pid>;T<tid>' at the start, got {head[:40]!r}")
    tid = thread[1:].rpartition(":")[2] or thread[1:]
    parts = metrics.split(",")
    idle = len(parts) == 3 and parts[1] == "1"
    try:
        metric = int(parts[0])
    except ValueError:
        fail(f"metric {metrics[:30]!r} is not an integer")
    if not -_MAX_METRIC < metric < _MAX_METRIC:
        fail(f"metric {metric} is out of range")
    stack: list[int] = []
    if frames_text:
        for text in frames_text.split(";"):
            pieces = text.rsplit(":", 2)
            if len(pieces) != 3:
                fail(f"frame {text[:60]!r} is not 'file:function:line'")
            stack.append(b.frame(*pieces))
    b.add(tuple(stack), process[1:], tid, metric, idle)


def read_text(stream: BinaryIO, path: str) -> Profile:
    b = _Builder(path, Profile(Metadata(unit="samples")))
    lineno = 0
    for raw in iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""):
        lineno += 1
        if len(raw) > MAX_LINE_BYTES:
            raise LimitExceeded(path, "a line is longer than 256 MiB", lineno)
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise ProfileParseError(path, "not UTF-8 text", lineno) from exc
        if not line:
            continue
        if line.startswith("# "):
            key, _, value = line[2:].strip().partition(": ")
            b.meta[key] = value
            continue
        _text_sample(b, line, lineno)
    return b.finish()


def sniff_text(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"# austin: "):
        return True
    lines = text.split(b"\n", 20)
    first = next((ln for ln in lines[:-1] if ln.strip() and not ln.startswith(b"# ")), b"")
    return re.match(rb"P\d+;T[\d:]+[; ]", first) is not None


# -- MOJO -----------------------------------------------------------------------------------
_METADATA, _STACK, _FRAME, _INVALID, _REF, _KERNEL, _GC, _IDLE = range(1, 9)
_TIME, _MEMORY, _STRING, _STRING_REF, _REPEAT, _TASK, _WAITER, _RUNNING = range(9, 17)
_MAX_STRING = 1 << 20


class _Bytes:
    """Buffered reads of a binary stream with austin's integer and string encodings."""

    def __init__(self, stream: BinaryIO, path: str) -> None:
        self.stream = stream
        self.path = path
        self.buf = b""
        self.pos = 0
        self.offset = 0

    def fail(self, reason: str) -> NoReturn:
        raise ProfileParseError(self.path, f"MOJO byte {self.offset + self.pos}: {reason}")

    def _fill(self) -> bool:
        data = self.stream.read(1 << 20)
        if not data:
            return False
        self.offset += self.pos
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def byte(self) -> int | None:
        if self.pos >= len(self.buf) and not self._fill():
            return None
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def need(self) -> int:
        b = self.byte()
        if b is None:
            self.fail("the file ends inside an event")
        return b

    def int(self) -> int:
        b = self.need()
        n = b & 0x3F
        sign = b & 0x40
        shift = 6
        while b & 0x80:
            b = self.need()
            n |= (b & 0x7F) << shift
            shift += 7
            if shift > 70:
                self.fail("an integer longer than 64 bits")
        return -n if sign else n

    def string(self) -> str:
        while True:
            end = self.buf.find(b"\x00", self.pos)
            if end >= 0:
                raw = self.buf[self.pos : end]
                self.pos = end + 1
                return raw.decode("utf-8", "replace")
            if len(self.buf) - self.pos > _MAX_STRING:
                self.fail("a string longer than 1 MiB")
            if not self._fill():
                self.fail("the file ends inside a string")


@dataclass
class _Sample:
    pid: int
    thread: str
    frames: list[tuple[str, str, str]] = field(default_factory=list)
    time: int = 0
    memory: int | None = None
    idle: bool = False


def _native(frame: tuple[str, str, str]) -> bool:
    name = frame[0]
    return not name.endswith(".py") and not (name.startswith("<") and name.endswith(">"))


def _mojo_samples(r: _Bytes, meta: dict[str, str]) -> Iterator[_Sample]:
    if bytes(r.byte() or 0 for _ in range(3)) != b"MOJ":
        r.fail("not a MOJO file (no 'MOJ' header)")
    version = r.int()
    if not 1 <= version <= 10:
        r.fail(f"unknown MOJO version {version}")
    strings: dict[tuple[int, int], str] = {}
    frames: dict[tuple[int, int], tuple[str, str, str]] = {}
    previous: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
    sample: _Sample | None = None
    task_frames = 0

    def lookup(pid: int, key: int) -> str:
        if key == 0:
            return ""
        if key == 1:
            return "<unknown>"
        got = strings.get((pid, key))
        if got is None:
            r.fail(f"string {key} is used before it is defined")
        return got

    def current() -> _Sample:
        if sample is None:
            r.fail("a sample event before any stack")
        return sample

    while (event := r.byte()) is not None:
        if event == _METADATA:
            name = r.string()
            meta[name] = r.string()
        elif event == _STACK:
            if sample is not None:
                previous[(sample.pid, sample.thread)] = sample.frames
                yield sample
            pid = r.int()
            if version >= 3:
                r.int()  # interpreter id
            sample = _Sample(pid, r.string())
            task_frames = 0
        elif event == _FRAME:
            s = current()
            key, file_key, scope_key, line = r.int(), r.int(), r.int(), r.int()
            if version >= 2:
                r.int(), r.int(), r.int()  # line end, column, column end
            frames[(s.pid, key)] = (lookup(s.pid, file_key), lookup(s.pid, scope_key), str(line))
        elif event == _REF:
            s = current()
            ref = r.int()
            got = frames.get((s.pid, ref))
            if got is None:
                r.fail(f"frame {ref} is used before it is defined")
            if task_frames:
                task_frames -= 1  # an asyncio task's frames: not the thread's stack
            else:
                s.frames.append(got)
        elif event == _KERNEL:
            current().frames.append(("<kernel>", r.string(), ""))
        elif event == _INVALID:
            current().frames.append(("", "INVALID", ""))
        elif event == _GC:
            current()
        elif event == _IDLE:
            current().idle = True
        elif event == _TIME:
            current().time = r.int()
        elif event == _MEMORY:
            current().memory = r.int()
        elif event == _STRING:
            s = current()
            key = r.int()
            strings[(s.pid, key)] = r.string()
        elif event == _STRING_REF:
            r.int()
        elif event == _REPEAT:
            s = current()
            base = list(previous.get((s.pid, s.thread), []))
            while base and _native(base[-1]):
                base.pop()
            s.frames = base + s.frames
        elif event == _TASK:
            current()
            r.int(), r.int()
            task_frames = max(r.int(), 0)
        elif event == _WAITER:
            r.int(), r.int()
        elif event == _RUNNING:
            r.int()
        else:
            r.fail(f"unknown MOJO event {event}")
    if sample is not None:
        yield sample


def read_mojo(stream: BinaryIO, path: str) -> Profile:
    b = _Builder(path, Profile(Metadata(unit="samples")))
    r = _Bytes(stream, path)
    for s in _mojo_samples(r, b.meta):
        stack = tuple(b.frame(*f) for f in s.frames)
        metric = s.memory if b.meta.get("mode") == "memory" and s.memory is not None else s.time
        if not -_MAX_METRIC < metric < _MAX_METRIC:
            r.fail(f"metric {metric} is out of range")
        # The thread is the native id in hex; the text format writes it in decimal.
        tid = (
            str(int(s.thread, 16))
            if s.thread
            and len(s.thread) < 17
            and all(c in "0123456789abcdefABCDEF" for c in s.thread)
            else s.thread[:60]
        )
        b.add(stack, str(s.pid), tid, metric, s.idle)
    return b.finish()


def sniff_mojo(head: bytes) -> bool:
    return head.startswith(b"MOJ") and len(head) > 3 and 1 <= head[3] & 0x3F <= 10


TEXT_SPEC = FormatSpec(
    name="austin",
    description="Austin's text output (austin -o FILE)",
    extensions=(".austin",),
    sniff=sniff_text,
    read=read_text,
)

MOJO_SPEC = FormatSpec(
    name="mojo",
    description="Austin's MOJO binary output (austin -b)",
    extensions=(".mojo",),
    sniff=sniff_mojo,
    read=read_mojo,
)

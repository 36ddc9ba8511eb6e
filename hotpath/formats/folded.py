"""Collapsed ("folded") stacks: py-spy ``--format raw``, flamegraph.pl and inferno.

One line per stack, ``frame;frame;...;frame COUNT``, root first, the count after the **last**
space (names and paths contain spaces). Frames are ``name (file:line)``, ``name (file)``
(py-spy ``--nolineno``) or a bare name. py-spy's root frames ``process PID:"cmdline"``
(``--subprocesses``) and ``thread (TID)`` / ``thread (TID): NAME`` (``--threads``) become the
labels ``pid``/``process`` and ``tid``/``thread`` instead of frames. A line with no stack at
all (py-spy writes `` 2`` for samples taken at start-up or exit) is kept as an empty stack.
"""

from __future__ import annotations

import re
from typing import IO, BinaryIO

from hotpath.errors import LimitExceeded, ProfileParseError
from hotpath.formats import FormatSpec
from hotpath.model import PID, PROCESS, THREAD, THREAD_ID, Frame, Labels, Metadata, Profile

_THREAD_RE = re.compile(r"thread \((0x[0-9a-fA-F]+|\d+)\)(?:: (.*))?\Z", re.S)
_PROCESS_RE = re.compile(r'process (\d+):"(.*)"\Z', re.S)
MAX_LINE_BYTES = 256 * 1024**2
"""Longest stack line accepted: bounds memory on hostile input (e.g. a gzip bomb of one line)."""
_SNIFF_LINE = re.compile(rb"^[^\x00]*\S \d+(\.\d+)?\r?$|^ ?\d+\r?$")


def parse_frame(text: str) -> Frame:
    """Parse ``name (file:line)``, ``name (file)`` or a bare ``name``."""
    if text.endswith(")"):
        i = text.rfind(" (")
        if i > 0:
            inner = text[i + 2 : -1]
            head, sep, tail = inner.rpartition(":")
            if sep and tail.isdigit():
                return Frame(text[:i], head, int(tail))
            return Frame(text[:i], inner)
    return Frame(text)


def format_frame(frame: Frame) -> str:
    """The folded text of a frame (``;`` in names would split the stack: it becomes ``:``)."""
    name = frame.name.replace(";", ":")
    if not frame.file:
        return name
    file = frame.file.replace(";", ":")
    if frame.line is None:
        return f"{name} ({file})"
    return f"{name} ({file}:{frame.line})"


def _label_of_root(text: str) -> Labels | None:
    if text.startswith("thread ("):
        m = _THREAD_RE.match(text)
        if m:
            tid, name = m.group(1), m.group(2)
            return ((THREAD, name if name is not None else tid), (THREAD_ID, tid))
    elif text.startswith("process "):
        m = _PROCESS_RE.match(text)
        if m:
            return ((PID, m.group(1)), (PROCESS, m.group(2)))
    return None


class _FrameCache(dict[bytes, int]):
    """Frame text -> frame id, parsing each distinct frame text once.

    Root frames that are really labels (threads, processes) map to negative ids that index
    ``label_parts``.
    """

    def __init__(self, profile: Profile, path: str) -> None:
        super().__init__()
        self.profile = profile
        self.path = path
        self.lineno = 0
        self.label_parts: list[Labels] = []
        self.label_texts: list[str] = []

    def as_frame(self, fid: int) -> int:
        """A thread/process frame found below the root is just a frame with that name."""
        return self.profile.intern_frame(parse_frame(self.label_texts[-fid - 1]))

    def __missing__(self, raw: bytes) -> int:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProfileParseError(self.path, "not UTF-8 text", self.lineno) from exc
        labels = _label_of_root(text)
        if labels is not None:
            self.label_parts.append(labels)
            self.label_texts.append(text)
            fid = -len(self.label_parts)
        else:
            fid = self.profile.intern_frame(parse_frame(text))
        self[raw] = fid
        return fid


def _parse_count(raw: bytes, path: str, lineno: int) -> float:
    try:
        value: float = int(raw)
    except ValueError:
        try:
            value = float(raw)
        except ValueError:
            shown = raw.decode("utf-8", "replace")[:40]
            raise ProfileParseError(
                path, f"expected 'stack COUNT', but {shown!r} is not a number", lineno
            ) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ProfileParseError(path, "count is not a finite number", lineno) from None
    if value < 0:
        raise ProfileParseError(path, f"negative sample count {raw.decode()!s}", lineno)
    return value


def read(stream: BinaryIO, path: str) -> Profile:
    """Read collapsed stacks; memory grows with distinct frames and stacks, not lines."""
    profile = Profile(Metadata(unit="samples"))
    cache = _FrameCache(profile, path)
    label_ids: dict[tuple[int, ...], int] = {}
    samples = profile.samples
    total_lines = 0
    limit = MAX_LINE_BYTES
    for lineno, line in enumerate(iter(lambda: stream.readline(limit + 1), b""), 1):
        if len(line) > limit:
            raise LimitExceeded(
                path,
                f"line longer than {limit // 1024**2} MiB (limit of the folded reader)",
                lineno,
            )
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        stack_part, sep, count_part = line.rpartition(b" ")
        if not sep:
            if line.isdigit():  # a count with no stack at all
                stack_part, count_part = b"", line
            else:
                raise ProfileParseError(path, "expected 'stack COUNT': no count", lineno)
        cache.lineno = lineno
        count = _parse_count(count_part, path, lineno)
        if stack_part:
            if b"\x00" in stack_part:
                raise ProfileParseError(path, "binary data (NUL byte) in a stack", lineno)
            stack = tuple([cache[f] for f in stack_part.split(b";")])
        else:
            stack = ()
        lid = 0
        if stack and stack[0] < 0:
            n = 0
            while n < len(stack) and stack[n] < 0:
                n += 1
            roots, stack = stack[:n], stack[n:]
            lid = label_ids.get(roots, -1)
            if lid < 0:
                merged: dict[str, str] = {}
                for r in roots:  # outermost process first: the innermost one wins
                    merged.update(cache.label_parts[-r - 1])
                lid = profile.intern_labels(merged)
                label_ids[roots] = lid
        if stack and min(stack) < 0:
            stack = tuple([f if f >= 0 else cache.as_frame(f) for f in stack])
        key = (stack, lid)
        samples[key] = samples.get(key, 0) + count
        total_lines += 1
    if total_lines == 0:
        raise ProfileParseError(path, "no stacks found (empty profile)")
    profile.meta.sample_count = int(sum(samples.values()))
    return profile


def _label_prefix(labels: Labels) -> str:
    d = dict(labels)
    parts = []
    if PID in d:
        parts.append(f'process {d[PID]}:"{d.get(PROCESS, "")}"')
    if THREAD_ID in d:
        name = d.get(THREAD)
        tid = d[THREAD_ID]
        parts.append(f"thread ({tid})" if name in (None, tid) else f"thread ({tid}): {name}")
    return ";".join(parts)


def _format_weight(w: float) -> str:
    if float(w).is_integer():
        return str(int(w))
    return repr(float(w))


def write(profile: Profile, stream: IO[bytes]) -> None:
    """Write collapsed stacks. Labels other than process and thread are not representable
    in this format and are dropped (their weights are kept, summed per stack)."""
    out: dict[str, float] = {}
    texts = [format_frame(f) for f in profile.frames]
    prefixes = [_label_prefix(ls) for ls in profile.label_sets]
    for (stack, lid), w in profile.samples.items():
        body = ";".join(texts[i] for i in stack)
        prefix = prefixes[lid]
        key = f"{prefix};{body}" if prefix and body else prefix or body
        out[key] = out.get(key, 0) + w
    for key, w in out.items():
        stream.write(f"{key} {_format_weight(w)}\n".encode())


def sniff(head: bytes) -> bool:
    lines = [ln for ln in head.split(b"\n")[:-1] or head.split(b"\n") if ln.strip()][:5]
    if not lines or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multibyte char cut at the end of the head is fine
            return False
    return all(_SNIFF_LINE.match(ln) for ln in lines)


SPEC = FormatSpec(
    name="folded",
    description="collapsed stacks: py-spy raw, flamegraph.pl, inferno",
    extensions=(".folded", ".collapsed", ".txt", ".raw", ".stacks"),
    sniff=sniff,
    read=read,
    write=write,
)

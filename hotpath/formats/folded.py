"""Collapsed ("folded") stacks: py-spy ``--format raw``, flamegraph.pl and inferno.

One line per stack, ``frame;frame;...;frame COUNT``, root first, the count after the **last**
space (names and paths contain spaces). Frames are ``name (file:line)``, ``name (file)``
(py-spy ``--nolineno``) or a bare name. py-spy's root frames ``process PID:"cmdline"``
(``--subprocesses``) and ``thread (TID)`` / ``thread (TID): NAME`` (``--threads``) become the
labels ``pid``/``process`` and ``tid``/``thread`` instead of frames. A line with no stack at
all (py-spy writes `` 2`` for samples taken at start-up or exit) is kept as an empty stack.
"""

from __future__ import annotations

import math
import os
import re
from typing import IO, BinaryIO

from hotpath import escape
from hotpath.errors import LimitExceeded, ProfileParseError, UsageError
from hotpath.formats import checks
from hotpath.formats.checks import MAX_VALUE
from hotpath.formats.spec import FormatSpec
from hotpath.model import (
    CPU,
    PID,
    PROCESS,
    THREAD,
    THREAD_ID,
    Frame,
    Labels,
    Metadata,
    Profile,
    measure_view,
)

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
    name = escape.folded_frame(frame.name)
    if not frame.file:
        return name
    file = escape.folded_frame(frame.file)
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
        self.block: tuple[list[bytes], int] | None = None
        """The lines being read and the count of lines before them (for error lines)."""
        self.label_parts: list[Labels] = []
        self.strings: dict[str, str] = {}
        self.label_texts: list[str] = []

    def as_frame(self, fid: int) -> int:
        """A thread/process frame found below the root is just a frame with that name."""
        return self.profile.intern_frame(parse_frame(self.label_texts[-fid - 1]))

    def line_of(self, raw: bytes) -> int | None:
        if self.block is None:
            return None
        lines, before = self.block
        return before + next((i + 1 for i, ln in enumerate(lines) if raw in ln), 0) or None

    def __missing__(self, raw: bytes) -> int:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProfileParseError(self.path, "not UTF-8 text", self.line_of(raw)) from exc
        labels = _label_of_root(text)
        if labels is not None:
            self.label_parts.append(labels)
            self.label_texts.append(text)
            fid = -len(self.label_parts)
        else:
            fr = parse_frame(text)
            # One string object per distinct name and file (a function has many lines).
            intern = self.strings.setdefault
            fr = Frame(intern(fr.name, fr.name), intern(fr.file, fr.file), fr.line)
            fid = self.profile.intern_frame(fr)
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
    return checks.weight(value, path, "sample count", lineno)


FLUSH_BYTES = 4 * 1024**2
"""Distinct stack text held as bytes before it is split into frames (bounds memory)."""
BLOCK_BYTES = 1024**2
"""Read size. 4 MiB blocks were 7% faster on 100 MB (more lines repeat within a block) but
peaked 16 MiB higher; 1 MiB keeps analyze of 100 MB near 43 MiB."""


def read(stream: BinaryIO, path: str) -> Profile:
    """Read collapsed stacks; memory grows with distinct frames and stacks, not lines.

    The file is read in blocks; identical stacks within a block are added up as bytes first
    (one dict operation per line), and only each distinct stack is split into frame ids.
    """
    reader = Accumulator()
    reader.feed(stream, path)
    return reader.finish()


class Accumulator:
    """Reads several folded files into one profile, parsing each distinct frame text once.

    Reading 64 worker files one by one and merging parsed every frame 64 times; here the
    frame cache, the label sets and the stacks are shared.
    """

    def __init__(self) -> None:
        self.profile = Profile(Metadata(unit="samples"))
        self.blocks = _BlockReader(self.profile, "")

    def feed(self, stream: BinaryIO, path: str) -> None:
        """Add the stacks of one file (``path`` names it in errors)."""
        reader = self.blocks
        reader.path = reader.cache.path = path
        before = reader.stack_lines
        limit = max_line_bytes()
        pending: list[bytes] = []  # the start of a line that continues in the next block
        pending_len = 0
        lineno = 0  # lines before the current block
        while True:
            chunk = stream.read(BLOCK_BYTES)
            if not chunk:
                if pending:
                    reader.add_lines([b"".join(pending)], lineno)
                break
            if b"\n" not in chunk:  # inside one long line: join once, not per block
                pending.append(chunk)
                pending_len += len(chunk)
                if pending_len > limit:
                    raise LimitExceeded(path, _too_long(limit), lineno + 1)
                continue
            if pending:
                pending.append(chunk)
                chunk = b"".join(pending)
            lines = chunk.split(b"\n")
            tail = lines.pop()
            pending, pending_len = ([tail], len(tail)) if tail else ([], 0)
            if len(chunk) > limit:  # only then can a whole line in this block be too long
                for i, ln in enumerate(lines):
                    if len(ln) >= limit:
                        raise LimitExceeded(path, _too_long(limit), lineno + i + 1)
            if pending_len > limit:
                raise LimitExceeded(path, _too_long(limit), lineno + len(lines) + 1)
            # A NUL byte is an error: add this block at once so the error can name its line.
            reader.add_lines(lines, lineno, flush=b"\x00" in chunk)
            lineno += len(lines)
        if reader.stack_lines == before:
            raise ProfileParseError(path, "no stacks found (empty profile)")

    def finish(self) -> Profile:
        # Stacks stay pending across files too: worker files repeat each other's stacks.
        self.blocks.flush()
        profile = self.profile
        total = sum(profile.samples.values())
        if not total <= MAX_VALUE:  # many counts in range can add up beyond it
            checks.check_totals(profile, self.blocks.path)
        profile.meta.sample_count = int(total)
        return profile


def max_line_bytes() -> int:
    """:data:`MAX_LINE_BYTES`, or ``HOTPATH_MAX_LINE_MB`` MiB when that is set."""
    env = os.environ.get("HOTPATH_MAX_LINE_MB")
    if not env:
        return MAX_LINE_BYTES
    try:
        mib = float(env)
    except ValueError:
        mib = math.nan
    if not 0 < mib <= 1024**2:  # up to a TiB; inf and nan fail this test too
        raise UsageError(
            f"HOTPATH_MAX_LINE_MB={env[:20]!r} is not a size between 0 and 1048576 MiB"
        )
    return max(1, int(mib * 1024**2))


def _too_long(limit: int) -> str:
    return (
        f"line longer than {limit / 1024**2:g} MiB "
        "(limit of the folded reader; raise it with HOTPATH_MAX_LINE_MB)"
    )


class _BlockReader:
    """Adds blocks of folded lines to a profile (the reader's state between blocks)."""

    def __init__(self, profile: Profile, path: str) -> None:
        self.profile = profile
        self.path = path
        self.cache = _FrameCache(profile, path)
        self.label_ids: dict[tuple[int, ...], int] = {}
        self.stack_lines = 0
        self.pending: dict[bytes, float] = {}
        self.pending_bytes = 0

    def add_lines(self, lines: list[bytes], before: int, flush: bool = False) -> None:
        """Add ``lines`` (without newlines); ``before`` is the number of earlier lines.

        Identical stacks are summed as bytes across blocks, and split into frames when
        their distinct text passes :data:`FLUSH_BYTES` (or on ``flush``).
        """
        agg = self.pending
        get = agg.get
        added = 0
        for line in lines:
            stack, sep, count_text = line.rpartition(b" ")
            try:
                count: float = int(count_text)
            except ValueError:
                count = self._slow_count(line, before + lines.index(line) + 1)
                if count < 0:  # blank line
                    continue
                stack = line.rstrip(b"\r").rpartition(b" ")[0]
            else:
                if count < 0 or count > MAX_VALUE or (not sep and not count_text.strip().isdigit()):
                    self._slow_count(line, before + lines.index(line) + 1)
            old = get(stack)
            if old is None:
                self.pending_bytes += len(stack) + 64
                agg[stack] = count
            else:
                agg[stack] = old + count
            added += 1
        self.stack_lines += added
        if flush or self.pending_bytes > FLUSH_BYTES:
            self.flush(lines, before)

    def flush(self, lines: list[bytes] | None = None, before: int = 0) -> None:
        """Split the pending distinct stacks into frame ids and add them to the profile.

        ``lines`` (the last block) lets errors name their line; stacks from earlier blocks
        are found there only when they repeat in it.
        """
        agg = self.pending
        if not agg:
            return
        self.pending = {}
        self.pending_bytes = 0
        cache = self.cache
        cache.block = (lines, before) if lines is not None else None
        lookup = cache.__getitem__
        samples = self.profile.samples
        stacks: list[tuple[int, ...]] = []  # unlabelled: added in one call
        counts: list[float] = []
        for stack_text, count in agg.items():
            if not stack_text:
                stacks.append(())
                counts.append(count)
                continue
            if b"\x00" in stack_text:
                raise ProfileParseError(
                    self.path, "binary data (NUL byte) in a stack", cache.line_of(stack_text)
                )
            ids = tuple(map(lookup, stack_text.split(b";")))
            if min(ids) >= 0:
                stacks.append(ids)
                counts.append(count)
            else:
                samples.add_many(stacks, counts)  # in order: weights add up as they come
                stacks, counts = [], []
                samples.add(*self._labelled(ids, count))
        samples.add_many(stacks, counts)
        cache.block = None

    def _slow_count(self, line: bytes, lineno: int) -> float:
        """The count of a line the fast path refused: a float, an error, or -1 for a blank."""
        line = line.rstrip(b"\r")
        if not line.strip():
            return -1
        _, sep, count_part = line.rpartition(b" ")
        if not sep and not line.isdigit():
            raise ProfileParseError(self.path, "expected 'stack COUNT': no count", lineno)
        return _parse_count(count_part, self.path, lineno)

    def _labelled(self, stack: tuple[int, ...], count: float) -> tuple[tuple[int, ...], float, int]:
        """Split thread/process root frames (negative ids) off into a label set."""
        cache = self.cache
        lid = 0
        if stack[0] < 0:
            n = 0
            while n < len(stack) and stack[n] < 0:
                n += 1
            roots, stack = stack[:n], stack[n:]
            lid = self.label_ids.get(roots, -1)
            if lid < 0:
                merged: dict[str, str] = {}
                for r in roots:  # outermost process first: the innermost one wins
                    merged.update(cache.label_parts[-r - 1])
                lid = self.profile.intern_labels(merged)
                self.label_ids[roots] = lid
        if stack and min(stack) < 0:
            stack = tuple([f if f >= 0 else cache.as_frame(f) for f in stack])
        return stack, count, lid


def _label_prefix(labels: Labels) -> str:
    d = dict(labels)
    parts = []
    if d.get(PROCESS):  # py-spy's frame holds the command line; none is no frame
        parts.append(f'process {d.get(PID, "")}:"{escape.folded_frame(d[PROCESS])}"')
    if THREAD_ID in d:
        name = d.get(THREAD)
        name = None if name is None else escape.folded_frame(name)
        tid = escape.folded_frame(d[THREAD_ID])
        parts.append(f"thread ({tid})" if name in (None, tid) else f"thread ({tid}): {name}")
    return ";".join(parts)


def count_unit(profile: Profile) -> str:
    """What the counts :func:`write` writes for ``profile`` are: ``samples``,
    ``microseconds`` (profiles in seconds) or ``bytes``."""
    return "microseconds" if profile.meta.unit == "seconds" else profile.meta.unit


def write(profile: Profile, stream: IO[bytes], measure: str = CPU) -> None:
    """Write collapsed stacks of one measure (:func:`~hotpath.model.measure_view`: CPU by
    default, ``"wall"`` for wall-clock time), never the two added together.

    Counts are integers, as flamegraph.pl, inferno and speedscope require: samples, or
    whole microseconds for profiles in seconds (:func:`count_unit`), rounded so that the
    file's total stays within half a unit of the profile's. Labels other than process
    (with a command line) and thread are not representable in this format and are dropped
    (their weights are kept, summed per stack).
    """
    view = measure_view(profile, measure)
    factor = 1e6 if view.meta.unit == "seconds" else 1.0
    out: dict[str, float] = {}
    texts = [format_frame(f) for f in view.frames]
    prefixes = [_label_prefix(ls) for ls in view.label_sets]
    for (stack, lid), w in view.samples.items():
        body = ";".join(texts[i] for i in stack)
        prefix = prefixes[lid]
        key = f"{prefix};{body}" if prefix and body else prefix or body
        out[key] = out.get(key, 0) + w
    exact = 0.0
    written = 0
    for key, w in out.items():
        exact += w * factor
        count = round(exact) - written  # running rounding: the total stays exact
        if count > 0:
            written += count
            stream.write(f"{key} {count}\n".encode())


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
    accumulator=Accumulator,
)

"""Profile file formats: a registry of readers and writers, and content-based detection.

Each format module exposes ``SPEC``, a :class:`FormatSpec`. Readers take a binary stream
(already gunzipped when the file was gzip-compressed) and the name to use in error messages,
and return a :class:`~hotpath.model.Profile`. The file's extension is only a tie-breaker:
the content decides.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from hotpath.errors import LimitExceeded, ProfileParseError, UsageError
from hotpath.formats.checks import check_totals
from hotpath.model import Profile, Source

Reader = Callable[[BinaryIO, str], Profile]


class Accumulator(Protocol):
    """Reads several files of one format into one profile, sharing parsed frames."""

    def feed(self, stream: BinaryIO, path: str) -> None: ...

    def finish(self) -> Profile: ...


Writer = Callable[[Profile, IO[bytes]], None]

SNIFF_BYTES = 64 * 1024
# A gzip bomb must not exhaust memory or disk: decompressed input is capped by default.
DEFAULT_MAX_DECOMPRESSED = 8 * 1024**3


@dataclass(frozen=True)
class FormatSpec:
    """A profile format: how to recognise, read and (optionally) write it."""

    name: str
    description: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    read: Reader
    write: Writer | None = None
    binary: bool = False
    """Whether written files are binary (pstats, pprof) rather than text."""
    accumulator: Callable[[], Accumulator] | None = None
    """For formats read many files at a time (worker files): faster than read + merge."""


def _registry() -> dict[str, FormatSpec]:
    from hotpath.formats import dot, folded, native, pprof, pstats, pyinstrument, speedscope

    specs = [
        native.SPEC,
        pprof.SPEC,
        folded.SPEC,
        speedscope.SPEC,
        pyinstrument.SPEC,
        pstats.SPEC,
        dot.SPEC,
    ]
    return {s.name: s for s in specs}


REGISTRY: dict[str, FormatSpec] = _registry()

# Detection order: the most specific sniffers first; folded accepts almost any text.
_DETECTION_ORDER = [n for n in REGISTRY if n != "folded"] + ["folded"]


def format_names() -> list[str]:
    return list(REGISTRY)


def writable_format_names() -> list[str]:
    return [n for n, s in REGISTRY.items() if s.write is not None]


class _CappedReader(io.RawIOBase):
    """Wraps a decompressing stream and fails once more than ``limit`` bytes came out."""

    def __init__(self, inner: gzip.GzipFile, limit: int, path: str) -> None:
        self._inner = inner
        self._left = limit
        self._limit = limit
        self._path = path

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(min(len(b), self._left + 1))
        except (OSError, EOFError, zlib.error) as exc:
            raise ProfileParseError(self._path, f"corrupt gzip data: {exc}") from exc
        if len(data) > self._left:
            raise LimitExceeded(
                self._path,
                f"decompresses to more than {self._limit // 1024**2} MiB "
                "(limit; raise it with --max-decompressed-mb)",
            )
        self._left -= len(data)
        n = len(data)
        b[:n] = data
        return n


ProgressFn = Callable[[int], None]
"""Called with the number of (compressed) bytes just read from a file."""


class _CountingRaw(io.FileIO):
    """A file that reports every chunk it reads, for progress bars on large inputs."""

    def __init__(self, path: str, on_bytes: ProgressFn) -> None:
        super().__init__(path, "rb")
        self._on_bytes = on_bytes

    def readinto(self, b: Any) -> int | None:
        n = super().readinto(b)
        if n:
            self._on_bytes(n)
        return n


def open_profile(
    path: str | os.PathLike[str],
    max_decompressed: int | None = None,
    on_bytes: ProgressFn | None = None,
) -> BinaryIO:
    """Open a profile file for reading, transparently gunzipping it."""
    display = os.fspath(path)
    try:
        fio = io.FileIO(display, "rb") if on_bytes is None else _CountingRaw(display, on_bytes)
        raw = io.BufferedReader(fio, buffer_size=1024 * 1024)
    except IsADirectoryError as exc:
        raise ProfileParseError(display, "is a directory") from exc
    except OSError as exc:
        raise ProfileParseError(display, exc.strerror or str(exc)) from exc
    return wrap_stream(raw, display, max_decompressed)


def wrap_stream(
    raw: io.BufferedReader[Any], display: str, max_decompressed: int | None = None
) -> BinaryIO:
    """Gunzip ``raw`` when it starts with the gzip magic, capping the decompressed size."""
    if raw.peek(2)[:2] != b"\x1f\x8b":
        return raw
    limit = DEFAULT_MAX_DECOMPRESSED if max_decompressed is None else max_decompressed
    capped = _CappedReader(gzip.GzipFile(fileobj=raw), limit, display)
    return io.BufferedReader(capped, buffer_size=1024 * 1024)


def detect(head: bytes, path: str = "") -> FormatSpec:
    """Pick the format of a file from its first bytes (and its name, to break ties)."""
    matches = [REGISTRY[n] for n in _DETECTION_ORDER if REGISTRY[n].sniff(head)]
    if not matches and _looks_like_plain_text(head):
        # Text that is not JSON: read it as folded stacks, whose reader names the bad line.
        return REGISTRY["folded"]
    if not matches:
        raise ProfileParseError(
            path or None,
            "not a profile format hotpath knows (expected one of: "
            + ", ".join(format_names())
            + ")",
        )
    if len(matches) > 1:
        lowered = path.lower()
        for spec in matches:
            if any(lowered.endswith(ext) for ext in spec.extensions):
                return spec
    return matches[0]


def _looks_like_plain_text(head: bytes) -> bool:
    if b"\x00" in head or head.lstrip()[:1] in (b"{", b"["):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 4
    return True


def _peek(stream: BinaryIO, path: str) -> bytes:
    try:
        if isinstance(stream, io.BufferedReader):
            return stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        pos = stream.tell()
        head = stream.read(SNIFF_BYTES)
        stream.seek(pos)
        return head
    except (OSError, EOFError, zlib.error) as exc:
        raise ProfileParseError(path, f"cannot read: {exc}") from exc


def spec_of_stream(stream: BinaryIO, display: str, fmt: str | None = None) -> FormatSpec:
    """The format of an open stream: ``fmt`` when given, else detected from its first bytes."""
    if fmt is not None and fmt not in REGISTRY:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(format_names())}")
    if fmt is not None:
        return REGISTRY[fmt]
    head = _peek(stream, display)
    if not head.strip():
        raise ProfileParseError(display, "file is empty")
    return detect(head, display)


def read_stream(
    stream: BinaryIO, display: str, fmt: str | None = None
) -> tuple[Profile, FormatSpec]:
    """Read a profile from an open (already gunzipped) binary stream."""
    spec = spec_of_stream(stream, display, fmt)
    try:
        profile = spec.read(stream, display)
    except (OSError, EOFError, zlib.error) as exc:
        # Truncated or corrupt gzip streams surface here, mid-read.
        raise ProfileParseError(display, f"cannot read: {exc}") from exc
    if not profile.meta.sources:
        profile.meta.sources.append(Source(display, spec.name))
    check_totals(profile, display)
    return profile, spec


def read_profile(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    max_decompressed: int | None = None,
    on_bytes: ProgressFn | None = None,
) -> Profile:
    """Read one profile file, detecting its format from its content unless ``fmt`` is given."""
    display = os.fspath(path)
    if fmt is not None and fmt not in REGISTRY:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(format_names())}")
    with open_profile(display, max_decompressed, on_bytes) as stream:
        return read_stream(stream, display, fmt)[0]


def read_bytes(
    data: bytes, name: str = "<bytes>", fmt: str | None = None, max_decompressed: int | None = None
) -> Profile:
    """Read a profile held in memory (same detection and gzip handling as files)."""
    raw = io.BufferedReader(io.BytesIO(data), buffer_size=1024 * 1024)
    with wrap_stream(raw, name, max_decompressed) as stream:
        return read_stream(stream, name, fmt)[0]


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly, plus the regular files inside named directories (sorted)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            children = sorted(
                c for c in path.iterdir() if c.is_file() and not c.name.startswith(".")
            )
            if not children:
                raise ProfileParseError(str(path), "directory holds no profile files")
            out.extend(children)
        else:
            out.append(path)
    return out


def read_profiles(
    paths: Sequence[str | os.PathLike[str]],
    fmt: str | None = None,
    max_decompressed: int | None = None,
    jobs: int = 1,
    on_bytes: ProgressFn | None = None,
) -> Profile:
    """Read and merge several profile files (directories are expanded) into one profile.

    With ``jobs`` > 1, big inputs are read by that many processes (files split by size).
    """
    from hotpath.formats.many import read_many

    files = expand_paths(paths)
    if not files:
        raise UsageError("no profile files given")
    return read_many(files, fmt, max_decompressed, jobs, on_bytes)


def write_profile(profile: Profile, stream: IO[bytes], fmt: str) -> None:
    spec = REGISTRY.get(fmt)
    if spec is None or spec.write is None:
        raise UsageError(
            f"cannot write format {fmt!r}; writable: {', '.join(writable_format_names())}"
        )
    if not profile.samples and profile.function_stats:
        # cProfile/pstats hold per-function totals, not stacks: a stack format would be empty.
        raise UsageError(
            f"cannot write call statistics (cProfile/pstats) as {fmt}: they hold no stacks"
        )
    spec.write(profile, stream)


def format_for_output(path: str, fmt: str | None) -> str:
    """The output format: given explicitly, or from the output file's extension."""
    if fmt is not None:
        return fmt
    lowered = path.lower().removesuffix(".gz")
    for name in writable_format_names():
        if any(lowered.endswith(ext) for ext in REGISTRY[name].extensions):
            return name
    raise UsageError(
        f"cannot tell the output format from {path!r}; pass --to "
        f"({', '.join(writable_format_names())})"
    )

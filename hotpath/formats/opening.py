"""Opening profile files: buffered, gunzipped when compressed, capped against gzip bombs."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from typing import Any, BinaryIO

from hotpath.errors import LimitExceeded, ProfileParseError
from hotpath.formats.spec import ProgressFn

# A gzip bomb must not exhaust memory or disk: decompressed input is capped by default.
DEFAULT_MAX_DECOMPRESSED = 8 * 1024**3
MAX_INFLATION = 256.0
"""Real profiles compress 5-50 times (hotpath files about 5, py-spy speedscope about 20);
gzip bombs a thousand times and more."""
INFLATION_FLOOR = 128 * 1024**2
"""Any file may inflate this far, whatever its ratio (peak memory then stays near 0.5 GiB)."""


def read_at_most(stream: BinaryIO, limit: int, size: int | None = None) -> bytes:
    """Up to ``limit + 1`` bytes of ``stream`` (more than ``limit``: too big), read in pieces.

    ``stream.read(limit + 1)`` allocates ``limit + 1`` bytes before it reads one: 16 MiB
    for each 2 KB source file the analysis looked at, which made its peak. ``size`` (the file's
    size when it was checked) is the first piece; a file that grew since is read on."""
    first = min(limit, size if size is not None else 1024**2) + 1
    data = stream.read(first)
    if len(data) < first:
        return data
    parts = [data]
    got = len(data)
    while got <= limit:
        piece = stream.read(min(limit + 1 - got, 16 * 1024**2))
        if not piece:
            break
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


class _CappedReader(io.RawIOBase):
    """Wraps a decompressing stream and fails once more than ``limit`` bytes came out."""

    def __init__(
        self, inner: gzip.GzipFile, limit: int, path: str, raw: io.BufferedReader[Any]
    ) -> None:
        self._inner = inner
        self._left = limit
        self._limit = limit
        self._path = path
        self._raw = raw
        self._out = 0
        self.explicit = False
        """Whether the limit was given by the user (then no ratio limit is added)."""
        self.max_ratio: float | None = None
        """Set for formats held whole in memory: see :func:`limit_inflation`."""

    def _check_ratio(self) -> None:
        ratio = self.max_ratio
        if ratio is None or self._out <= INFLATION_FLOOR:
            return
        try:
            packed = self._raw.tell()
        except OSError:
            return
        if self._out > ratio * max(packed, 1):
            raise LimitExceeded(
                self._path,
                f"inflates more than {ratio:g} times its {packed:,} compressed bytes "
                "(a gzip bomb? this format is held whole in memory; "
                "give --max-decompressed-mb to read it anyway)",
            )

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
        self._out += len(data)
        self._check_ratio()
        n = len(data)
        b[:n] = data
        return n


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
    if "://" in display:
        from hotpath.formats.remote import is_url, open_url

        if is_url(display):  # through fsspec's filesystem for the scheme
            return wrap_stream(open_url(display), display, max_decompressed)
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
    capped = _CappedReader(gzip.GzipFile(fileobj=raw), limit, display, raw)
    capped.explicit = max_decompressed is not None
    return io.BufferedReader(capped, buffer_size=1024 * 1024)


def limit_inflation(stream: BinaryIO, ratio: float = MAX_INFLATION) -> None:
    """For a format read whole into memory (JSON, protobuf, marshal): refuse gzip input that
    inflates past ``ratio`` times its compressed size (beyond :data:`INFLATION_FLOOR`), so
    memory follows the size of the file, not what it inflates to. Streaming readers (folded)
    need no such limit: their memory follows distinct stacks. An explicit
    ``--max-decompressed-mb`` replaces this limit."""
    capped = getattr(stream, "raw", None)
    if isinstance(capped, _CappedReader) and not capped.explicit:
        capped.max_ratio = ratio
        capped._check_ratio()

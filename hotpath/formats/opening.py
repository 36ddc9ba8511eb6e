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

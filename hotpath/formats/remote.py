"""Profile files behind URLs (``s3://``, ``gs://``, ``file://``, ``memory://`` ...), read
through fsspec's own filesystems.

fsspec is an optional extra (``pip install 'hotpath[remote]'``; S3 and GCS need its
``s3fs``/``gcsfs`` backends too). It is imported only when an input is a URL. A URL names a
file, a directory (its regular files, sorted, dotfiles left out, as for local directories)
or a glob (``s3://bucket/day/*.txt.gz``, ``**`` for subdirectories).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from hotpath.errors import ProfileParseError, UsageError

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB_CHARS = frozenset("*?[")


def is_url(text: str) -> bool:
    """Whether ``text`` is a URL with a scheme (``s3://...``), not a local path."""
    return _URL.match(text) is not None


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _fsspec(url: str) -> Any:
    """fsspec, typed loosely (it ships no type hints)."""
    import importlib

    try:
        fsspec = importlib.import_module("fsspec")
        importlib.import_module("fsspec.core")
    except ImportError as exc:
        raise UsageError(
            f"{url}: reading URLs needs fsspec: pip install 'hotpath[remote]' ({exc})"
        ) from exc
    return fsspec


def _filesystem(url: str) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` and the path within it."""
    fsspec = _fsspec(url)
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # e.g. s3:// without s3fs, an unknown scheme
        raise UsageError(f"{url}: {exc}") from exc
    return fs, path


@dataclass(frozen=True)
class RemoteFile:
    """A file behind a URL: what the readers need of a path (its name, size, ``fspath``)."""

    url: str
    size: int

    def __fspath__(self) -> str:
        return self.url

    def __str__(self) -> str:
        return self.url

    @property
    def name(self) -> str:
        return _base(self.url)

    def is_file(self) -> bool:
        return True

    def stat(self) -> _Size:
        return _Size(self.size)


@dataclass(frozen=True)
class _Size:
    st_size: int


def expand_url(url: str) -> list[RemoteFile]:
    """The files a URL names: one file, a directory's files, or a glob's matches."""
    fs, path = _filesystem(url)
    try:
        if _GLOB_CHARS & set(path):
            found = fs.glob(path, detail=True)
            entries = [(p, info) for p, info in sorted(found.items())]
            if not entries:
                raise ProfileParseError(url, "no files match this pattern")
        elif fs.isdir(path):
            listed = sorted((info["name"], info) for info in fs.ls(path, detail=True))
            entries = [(p, i) for p, i in listed if not _base(p).startswith(".")]
            if not any(i.get("type") == "file" for _p, i in entries):
                raise ProfileParseError(url, "directory holds no profile files")
        else:
            entries = [(path, fs.info(path))]
    except FileNotFoundError as exc:
        raise ProfileParseError(url, "No such file or directory") from exc
    except OSError as exc:
        raise ProfileParseError(url, f"cannot list: {exc}") from exc
    return [
        RemoteFile(fs.unstrip_protocol(p), int(info.get("size") or 0))
        for p, info in entries
        if info.get("type") == "file"
    ]


def open_url(url: str) -> io.BufferedReader[Any]:
    """A buffered binary stream of the file behind ``url``."""
    fs, path = _filesystem(url)
    try:
        f = fs.open(path, "rb")
    except FileNotFoundError as exc:
        raise ProfileParseError(url, "No such file or directory") from exc
    except IsADirectoryError as exc:
        raise ProfileParseError(url, "is a directory") from exc
    except OSError as exc:
        raise ProfileParseError(url, f"cannot open: {exc}") from exc
    return io.BufferedReader(f, buffer_size=1024 * 1024)

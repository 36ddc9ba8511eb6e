"""Writing collected data so that a crash never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike[str], binary: bool = False, mode: int = 0o600
) -> Iterator[IO[Any]]:
    """Write to a temp file beside ``path``, fsync it, then rename it over ``path``.

    Readers see either the old file or the complete new one, never a partial one. On an
    error the temp file is removed and ``path`` is left as it was. New files are created
    readable by the owner only (profiles name code and paths).
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".hotpath-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

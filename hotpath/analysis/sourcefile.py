"""Reading the app's own source files (for def lines, loops, source size), safely.

A path under ``--source-root`` is only a name: it may be a FIFO, a device or a huge file. Only
regular files are read (opened non-blocking, so a FIFO cannot hang the analysis, then checked
with ``fstat``), and only up to :data:`MAX_SOURCE_BYTES`.
"""

from __future__ import annotations

import os
import stat

from hotpath.formats.opening import read_at_most

MAX_SOURCE_BYTES = 16 * 1024**2
"""A larger ``.py`` file is generated code, not something to read for a report."""


def read_source(path: str) -> str | None:
    """The UTF-8 text of the regular file ``path``, or None when it is not one or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SOURCE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = read_at_most(f, MAX_SOURCE_BYTES, info.st_size)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_SOURCE_BYTES:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None

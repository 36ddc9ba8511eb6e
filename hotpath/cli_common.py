"""What every command shares: where output goes, how many processes read input.

Imported by :mod:`hotpath.cli` and :mod:`hotpath.cli_gate`; it imports neither.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

EXIT_ON_BROKEN_PIPE = "hotpath.exit_on_broken_pipe"
"""``ctx.meta`` key: the exit code a command has already decided on (the gate's verdict),
used when stdout closes under it."""


def quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (tests): nothing is flushed at exit


@contextmanager
def output_stream(path: str | None, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, or a file written atomically (temp file + rename) so no half file is left."""
    if path is None or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    from hotpath.collect.store import atomic_writer

    with atomic_writer(path, binary=binary) as f:
        yield f


def read_jobs() -> int:
    """Processes for reading many big files (see formats.many): HOTPATH_JOBS, default 1.

    One by default: on a busy 2-core machine the second process's pickling and merging cost
    more than it saved (python -m benchmarks measures both).
    """
    try:
        return max(1, int(os.environ.get("HOTPATH_JOBS", "1")))
    except ValueError:
        return 1

"""What every command shares: where output goes, how many processes read input.

Imported by :mod:`hotpath.cli` and :mod:`hotpath.cli_gate`; it imports neither.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


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

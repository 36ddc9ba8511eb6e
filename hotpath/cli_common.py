"""What every command shares: where output goes, how many processes read input.

Imported by :mod:`hotpath.cli` and :mod:`hotpath.cli_gate`; it imports neither.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


@contextmanager
def output_stream(path: str | None, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, a stream (device, FIFO) or a file written atomically: see hotpath.output."""
    from hotpath.output import open_output

    with open_output(path, binary) as out:
        yield out


def read_jobs() -> int:
    """Processes for reading many big files (see formats.many): HOTPATH_JOBS, default 1.

    One by default: on a busy 2-core machine the second process's pickling and merging cost
    more than it saved (python -m benchmarks measures both).
    """
    try:
        return max(1, int(os.environ.get("HOTPATH_JOBS", "1")))
    except ValueError:
        return 1

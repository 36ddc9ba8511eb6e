"""A progress bar on stderr while large inputs are read (only on a terminal).

Reading a 1 GB profile takes seconds; a bar that moves says the tool is working. Pipes, CI
logs and small files get no bar: it would only add noise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

MIN_BYTES = 32 * 1024**2
"""Below this total input size no bar is shown (reading takes well under a second)."""


@contextmanager
def _bar(
    total: int, stream: IO[str] | None, label: str, kind: str
) -> Iterator[Callable[[int], None]]:
    """A rich bar over ``total`` units on ``stream`` (stderr by default): bytes with their
    speed (``kind="bytes"``) or files counted (``kind="files"``)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    counted: list[ProgressColumn] = (
        [DownloadColumn(), TransferSpeedColumn()] if kind == "bytes" else [MofNCompleteColumn()]
    )
    console = Console(file=sys.stderr if stream is None else stream, stderr=stream is None)
    with Progress(
        TextColumn(label),
        BarColumn(),
        *counted,
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(kind, total=total)
        yield lambda n: bar.advance(task, n)


def _shown(total: int, least: int, stream: IO[str] | None) -> bool:
    return total >= least and (sys.stderr if stream is None else stream).isatty()


@contextmanager
def read_progress(
    total_bytes: int, stream: IO[str] | None = None, min_bytes: int = MIN_BYTES
) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback that advances a bar by bytes read, or None when no bar is shown."""
    if not _shown(total_bytes, min_bytes, stream):
        yield None
        return
    with _bar(total_bytes, stream, "reading", "bytes") as advance:
        yield advance


MIN_FILES = 50
"""Below this many files no bar over files is shown."""


@contextmanager
def file_progress(
    total_files: int, stream: IO[str] | None = None, min_files: int = MIN_FILES
) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback that advances a bar by files read (Dask reads), or None."""
    if not _shown(total_files, min_files, stream):
        yield None
        return
    with _bar(total_files, stream, "reading files", "files") as advance:
        yield advance

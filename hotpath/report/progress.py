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
def read_progress(
    total_bytes: int, stream: IO[str] | None = None, min_bytes: int = MIN_BYTES
) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback that advances a bar by bytes read, or None when no bar is shown."""
    out = sys.stderr if stream is None else stream
    if total_bytes < min_bytes or not out.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(file=out, stderr=stream is None)
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("read", total=total_bytes)
        yield lambda n: bar.advance(task, n)


MIN_FILES = 50
"""Below this many files no bar over files is shown."""


@contextmanager
def file_progress(
    total_files: int, stream: IO[str] | None = None, min_files: int = MIN_FILES
) -> Iterator[Callable[[int], None] | None]:
    """Yield a callback that advances a bar by files read (Dask reads), or None."""
    out = sys.stderr if stream is None else stream
    if total_files < min_files or not out.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(file=out, stderr=stream is None)
    with Progress(
        TextColumn("reading files"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("files", total=total_files)
        yield lambda n: bar.advance(task, n)

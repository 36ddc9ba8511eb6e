"""What every command shares: where output goes, how many processes read input.

Imported by :mod:`hotpath.cli` and :mod:`hotpath.cli_gate`; it imports neither.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from hotpath.fleet import FleetOptions
    from hotpath.model import Profile

F = TypeVar("F", bound=Callable[..., Any])

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


def fleet_options(f: F) -> F:
    """--workers, --scheduler and --skip-bad: how a command reads many files."""
    import click

    options = [
        click.option(
            "--workers",
            type=click.IntRange(1),
            default=None,
            help="Read the files on a local Dask cluster of N worker processes "
            "(needs hotpath[fleet]).",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="Read the files on an existing Dask cluster (e.g. tcp://10.0.0.5:8786).",
        ),
        click.option(
            "--skip-bad",
            is_flag=True,
            help="Leave out files that cannot be read, and say how many on stderr.",
        ),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def fleet_from(kw: dict[str, Any]) -> FleetOptions:
    """Pop the fleet options from a command's keyword arguments."""
    from hotpath.fleet import FleetOptions

    workers, scheduler = kw.pop("workers", None), kw.pop("scheduler", None)
    if workers is not None and scheduler is not None:
        from hotpath.errors import UsageError

        raise UsageError("give --workers or --scheduler, not both")
    return FleetOptions(workers, scheduler, bool(kw.pop("skip_bad", False)))


def read_inputs(
    paths: Sequence[str],
    fmt: str | None,
    max_decompressed: int | None = None,
    fleet: FleetOptions | None = None,
    progress: bool = True,
) -> Profile:
    """Every command's input: files, directories and globs, merged into one profile.

    Without fleet options this is the single-process reader (HOTPATH_JOBS processes for big
    inputs); with them, a Dask cluster (hotpath.fleet, imported only then). Skipped files
    are counted in one line on stderr.
    """
    from hotpath.errors import UsageError
    from hotpath.report.progress import file_progress, read_progress

    if fleet is not None and fleet.distributed:
        from hotpath.fleet import require_dask

        require_dask()  # before globbing: the missing extra is the error to report
    from hotpath.fleet import expand_inputs

    files = expand_inputs(paths)
    if not files:
        raise UsageError("no profile files given")
    names = [os.fspath(f) for f in files]
    if fleet is not None and fleet.distributed:
        from hotpath.fleet import read_distributed

        with file_progress(len(names) if progress else 0) as on_files:
            result = read_distributed(names, fmt, max_decompressed, fleet, on_files)
    else:
        size = sum(f.stat().st_size for f in files if f.is_file()) if progress else 0
        with read_progress(size) as on_bytes:
            if fleet is not None and fleet.skip_bad:
                from hotpath.fleet import read_local

                result = read_local(names, fmt, max_decompressed, on_bytes)
            else:
                from hotpath.formats.many import read_many

                return read_many(files, fmt, max_decompressed, read_jobs(), on_bytes)
    from hotpath.fleet import skipped_line

    line = skipped_line(result)
    if line is not None:
        sys.stderr.write(line + "\n")
    return result.profile

"""What every command shares: how profile files are read, where output goes.

Every command that reads profiles (``analyze``, ``convert``, ``diff``, ``gate``) takes the
same input options (:func:`input_options`) and reads through :func:`read_inputs`: the same
detection, gzip cap, progress bar, worker processes and merging of many files.
Imported by :mod:`hotpath.cli` and :mod:`hotpath.cli_gate`; it imports neither.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

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


def _readable_formats() -> click.Choice[str]:
    from hotpath.formats.registry import readable_format_names

    return click.Choice(readable_format_names())


def input_options(f: F) -> F:
    """``--input-format`` and ``--max-decompressed-mb``, the same for every reading command."""
    f = click.option(
        "--max-decompressed-mb",
        type=click.IntRange(1),
        default=None,
        help="Refuse gzip input that inflates beyond this many MiB [default: 8192].",
    )(f)
    return click.option(
        "--input-format",
        type=_readable_formats(),
        default=None,
        help="Skip detection and read every file as this format.",
    )(f)


def fleet_options(f: F) -> F:
    """--workers, --scheduler and --skip-bad: how a command reads many files."""
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
            help="Read the files on an existing Dask cluster (e.g. tcp://scheduler.internal:8786).",
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


@dataclass(frozen=True)
class InputOptions:
    """The parsed :func:`input_options`."""

    input_format: str | None = None
    max_decompressed_mb: int | None = None
    fleet: FleetOptions | None = None
    """--workers / --scheduler / --skip-bad (see :func:`fleet_options`)."""

    @property
    def max_decompressed(self) -> int | None:
        mb = self.max_decompressed_mb
        return None if mb is None else mb * 1024**2


def read_inputs(
    sides: Sequence[Sequence[str]], options: InputOptions, per_file: bool = False
) -> list[tuple[Profile, list[Profile]]]:
    """Read each side (files, directories and globs, merged into one profile), one progress bar.

    Returns, per side, the merged profile and, when ``per_file`` is set and the side has
    several files, each file's own profile (the gate estimates its noise from their spread);
    otherwise an empty list, and files of one format share an accumulator (folded).

    With ``options.fleet`` naming a Dask cluster (``--workers``/``--scheduler``) the files
    are read there (:mod:`hotpath.fleet`, imported only then); per-file profiles come back
    from the workers when ``per_file`` is set. Files skipped with ``--skip-bad`` are counted
    in one line on stderr.
    """
    from hotpath.errors import UsageError
    from hotpath.fleet import FleetOptions, FleetResult, expand_inputs, skipped_line
    from hotpath.model import merge
    from hotpath.report.progress import file_progress, read_progress

    fleet = options.fleet or FleetOptions()
    if fleet.distributed:
        from hotpath.fleet import require_dask

        require_dask()  # before globbing: the missing extra is the error to report
    expanded = [expand_inputs(side) for side in sides]
    if not all(expanded):
        raise UsageError("no profile files given")
    fmt, cap, jobs = options.input_format, options.max_decompressed, read_jobs()
    results: list[FleetResult] = []
    if fleet.distributed:
        from hotpath.fleet import read_sides

        names = [[os.fspath(f) for f in files] for files in expanded]
        with file_progress(sum(map(len, names))) as on_files:
            results = read_sides(names, fmt, cap, fleet, on_files, keep_parts=per_file)
    else:
        size = sum(p.stat().st_size for files in expanded for p in files if p.is_file())
        with read_progress(size) as on_bytes:
            for files in expanded:
                if fleet.skip_bad:
                    from hotpath.fleet import read_local

                    paths = [os.fspath(f) for f in files]
                    results.append(read_local(paths, fmt, cap, on_bytes, keep_parts=per_file))
                elif per_file and len(files) > 1:
                    from hotpath.formats.many import read_many

                    parts = [read_many([f], fmt, cap, 1, on_bytes) for f in files]
                    results.append(FleetResult(merge(parts), [], len(files), parts))
                else:
                    from hotpath.formats.many import read_many

                    profile = read_many(files, fmt, cap, jobs, on_bytes)
                    results.append(FleetResult(profile, [], len(files)))
    # Functions are named once, here, whichever way the files were read: from their source
    # where it is on this machine (py-spy's sampled lines -> enclosing defs).
    from hotpath.formats.identity import name_functions
    from hotpath.formats.source import SourceIndex

    index = SourceIndex()
    out: list[tuple[Profile, list[Profile]]] = []
    for r in results:
        line = skipped_line(r)
        if line is not None:
            sys.stderr.write(line + "\n")
        parts = [name_functions(p, index) for p in r.parts] if len(r.parts) > 1 else []
        out.append((name_functions(r.profile, index), parts))
    return out

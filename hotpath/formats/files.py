"""Reading profile files (one, many, or bytes in memory) and writing them."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import IO

from hotpath.errors import UsageError
from hotpath.formats.many import expand_paths, read_many
from hotpath.formats.opening import open_profile, wrap_stream
from hotpath.formats.registry import REGISTRY, format_names, read_stream, writable_format_names
from hotpath.formats.spec import ProgressFn
from hotpath.model import Profile


def _named(profile: Profile, source: bool) -> Profile:
    """Every function named once for all formats (see :mod:`hotpath.formats.identity`)."""
    from hotpath.formats.identity import name_functions
    from hotpath.formats.source import SourceIndex

    return name_functions(profile, SourceIndex() if source else SourceIndex(roots=[], off=True))


def read_profile(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    max_decompressed: int | None = None,
    on_bytes: ProgressFn | None = None,
    source: bool = True,
) -> Profile:
    """Read one profile file, detecting its format from its content unless ``fmt`` is given.

    ``source``: name functions from their source files where they are on this machine
    (qualified names, def lines); False names them from the file alone.
    """
    display = os.fspath(path)
    if fmt is not None and fmt not in REGISTRY:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(format_names())}")
    with open_profile(display, max_decompressed, on_bytes) as stream:
        return _named(read_stream(stream, display, fmt)[0], source)


def read_bytes(
    data: bytes,
    name: str = "<bytes>",
    fmt: str | None = None,
    max_decompressed: int | None = None,
    source: bool = True,
) -> Profile:
    """Read a profile held in memory (same detection, gzip handling and naming as files)."""
    raw = io.BufferedReader(io.BytesIO(data), buffer_size=1024 * 1024)
    with wrap_stream(raw, name, max_decompressed) as stream:
        return _named(read_stream(stream, name, fmt)[0], source)


def read_profiles(
    paths: Sequence[str | os.PathLike[str]],
    fmt: str | None = None,
    max_decompressed: int | None = None,
    jobs: int = 1,
    on_bytes: ProgressFn | None = None,
    source: bool = True,
) -> Profile:
    """Read and merge several profile files (directories are expanded) into one profile.

    With ``jobs`` > 1, big inputs are read by that many processes (files split by size).
    ``source`` as for :func:`read_profile`.
    """
    files = expand_paths(paths)
    if not files:
        raise UsageError("no profile files given")
    return _named(read_many(files, fmt, max_decompressed, jobs, on_bytes), source)


def write_profile(profile: Profile, stream: IO[bytes], fmt: str) -> None:
    spec = REGISTRY.get(fmt)
    if spec is None or spec.write is None:
        raise UsageError(
            f"cannot write format {fmt!r}; writable: {', '.join(writable_format_names())}"
        )
    if not profile.samples and profile.function_stats and not spec.call_stats:
        # cProfile/pstats hold per-function totals, not stacks: a stack format would be empty.
        raise UsageError(
            f"cannot write call statistics (cProfile/pstats) as {fmt}: they hold no stacks"
        )
    spec.write(profile, stream)

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


def read_profile(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    max_decompressed: int | None = None,
    on_bytes: ProgressFn | None = None,
) -> Profile:
    """Read one profile file, detecting its format from its content unless ``fmt`` is given."""
    display = os.fspath(path)
    if fmt is not None and fmt not in REGISTRY:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(format_names())}")
    with open_profile(display, max_decompressed, on_bytes) as stream:
        return read_stream(stream, display, fmt)[0]


def read_bytes(
    data: bytes, name: str = "<bytes>", fmt: str | None = None, max_decompressed: int | None = None
) -> Profile:
    """Read a profile held in memory (same detection and gzip handling as files)."""
    raw = io.BufferedReader(io.BytesIO(data), buffer_size=1024 * 1024)
    with wrap_stream(raw, name, max_decompressed) as stream:
        return read_stream(stream, name, fmt)[0]


def read_profiles(
    paths: Sequence[str | os.PathLike[str]],
    fmt: str | None = None,
    max_decompressed: int | None = None,
    jobs: int = 1,
    on_bytes: ProgressFn | None = None,
) -> Profile:
    """Read and merge several profile files (directories are expanded) into one profile.

    With ``jobs`` > 1, big inputs are read by that many processes (files split by size).
    """
    files = expand_paths(paths)
    if not files:
        raise UsageError("no profile files given")
    return read_many(files, fmt, max_decompressed, jobs, on_bytes)


def write_profile(profile: Profile, stream: IO[bytes], fmt: str) -> None:
    spec = REGISTRY.get(fmt)
    if spec is None or spec.write is None:
        raise UsageError(
            f"cannot write format {fmt!r}; writable: {', '.join(writable_format_names())}"
        )
    if not profile.samples and profile.function_stats:
        # cProfile/pstats hold per-function totals, not stacks: a stack format would be empty.
        raise UsageError(
            f"cannot write call statistics (cProfile/pstats) as {fmt}: they hold no stacks"
        )
    spec.write(profile, stream)


def format_for_output(path: str, fmt: str | None) -> str:
    """The output format: given explicitly, or from the output file's extension."""
    if fmt is not None:
        return fmt
    lowered = path.lower().removesuffix(".gz")
    for name in writable_format_names():
        if any(lowered.endswith(ext) for ext in REGISTRY[name].extensions):
            return name
    raise UsageError(
        f"cannot tell the output format from {path!r}; pass --to "
        f"({', '.join(writable_format_names())})"
    )

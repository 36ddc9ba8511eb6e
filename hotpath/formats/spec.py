"""What a format module declares: its :class:`FormatSpec` (name, sniffer, reader, writer).

Every format module imports this and nothing of the registry, so the registry
(:mod:`hotpath.formats.registry`) can import every format module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, BinaryIO, Protocol

from hotpath.model import Profile

Reader = Callable[[BinaryIO, str], Profile]


class Accumulator(Protocol):
    """Reads several files of one format into one profile, sharing parsed frames."""

    def feed(self, stream: BinaryIO, path: str) -> None: ...

    def finish(self) -> Profile: ...


Writer = Callable[[Profile, IO[bytes]], None]

ProgressFn = Callable[[int], None]
"""Called with the number of (compressed) bytes just read from a file."""


@dataclass(frozen=True)
class FormatSpec:
    """A profile format: how to recognise, read and write it (either may be missing)."""

    name: str
    description: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    read: Reader | None
    """None: hotpath writes this format but cannot read it (DOT)."""
    write: Writer | None = None
    binary: bool = False
    """Whether written files are binary (pstats, pprof) rather than text."""
    accumulator: Callable[[], Accumulator] | None = None
    """For formats read many files at a time (worker files): faster than read + merge."""
    call_stats: bool = False
    """Whether written files keep exact call statistics (cProfile/pstats) without stacks."""

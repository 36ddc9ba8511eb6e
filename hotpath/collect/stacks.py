"""Turn one pyinstrument request session into weighted stacks for the middleware.

Each ``frame_records`` entry is ``[identifiers root→leaf, seconds]`` where an identifier is
``name\\0file\\0first_line`` plus ``\\x01c<Class>`` / ``\\x01l<line>`` attributes, and the
first identifier is a ``<thread>`` placeholder. This module is deliberately tiny: the
general converter lives in ``hotpath.formats.pyinstrument`` (branch ``formats``) and should
replace :func:`parse_identifier` once merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotpath.model import Frame

# pyinstrument's synthetic leaves for time spent outside the request's own code.
AWAIT = "[await]"
OUT_OF_CONTEXT = "[out-of-context]"

# Leaf C functions that block the thread without using the CPU (waiting, not working).
# Only a hint for the idle/active split of wall time: CPU weights are calibrated against
# the request's measured CPU clock, so a miss here moves CPU between stacks of one request
# but never changes a request's total.
IDLE_LEAVES = frozenset(
    {
        "sleep",
        "select",
        "poll",
        "epoll.poll",
        "kqueue.control",
        "devpoll.poll",
        "socket.recv",
        "socket.recv_into",
        "socket.recvfrom",
        "socket.accept",
        "lock.acquire",
        "RLock.acquire",
        "waitpid",
        "wait",
        AWAIT,
        OUT_OF_CONTEXT,
    }
)


@dataclass(frozen=True, slots=True)
class WeightedStack:
    frames: tuple[Frame, ...]
    seconds: float
    idle: bool


def parse_identifier(identifier: str) -> Frame:
    """A pyinstrument frame identifier as a :class:`Frame` (qualified with its class)."""
    ident, _, attrs = identifier.partition("\x01")
    parts = ident.split("\x00")
    if len(parts) != 3:
        return Frame(ident, "")
    name, file, first = parts
    line: int | None = None
    for attr in attrs.split("\x01") if attrs else ():
        if attr.startswith("c") and attr[1:]:
            name = f"{attr[1:]}.{name}"
        elif attr.startswith("l") and attr[1:].isdigit():
            line = int(attr[1:])
    if file == "<built-in>":
        return Frame(name, "")  # native: no file, like py-spy's C frames
    return Frame(name, file, line, int(first) if first.isdigit() and first != "0" else None)


def session_stacks(
    records: Iterable[tuple[Sequence[str], float]],
    own_files: frozenset[str],
    cache: dict[str, Frame],
) -> list[WeightedStack]:
    """Weighted stacks of one request, each cut below the middleware's own frames.

    Frames down to the last one from ``own_files`` (the middleware's modules) are the
    server's and hotpath's; the rest is the app serving the request.
    """
    out = []
    for identifiers, seconds in records:
        frames = []
        for ident in identifiers[1:]:  # [0] is the <thread> placeholder
            frame = cache.get(ident)
            if frame is None:
                if ident in (AWAIT, OUT_OF_CONTEXT):
                    frame = Frame(ident, "")
                else:
                    frame = parse_identifier(ident)
                if len(cache) < 100_000:
                    cache[ident] = frame
            frames.append(frame)
        cut = 0
        for i, f in enumerate(frames):
            if f.file in own_files:
                cut = i + 1
        kept = tuple(frames[cut:])
        idle = bool(kept) and kept[-1].name in IDLE_LEAVES and kept[-1].file == ""
        out.append(WeightedStack(kept, float(seconds), idle))
    return out

"""Turn one pyinstrument request session into weighted stacks for the middleware.

Each ``frame_records`` entry is ``[identifiers root→leaf, seconds]`` where an identifier is
``name\\0file\\0first_line`` plus ``\\x01c<Class>`` / ``\\x01l<line>`` attributes, and the
first identifier is a ``<thread>`` placeholder. Identifiers are parsed by the session
reader's :func:`hotpath.formats.pyinstrument.parse_identifier`; this module only cuts the
server's frames off and marks waiting stacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotpath.formats.pyinstrument import parse_identifier
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


_NATIVE_FILES = frozenset({"", "<built-in>"})


@dataclass(frozen=True, slots=True)
class WeightedStack:
    frames: tuple[Frame, ...]
    seconds: float
    idle: bool


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
        for ident in identifiers:
            frame = cache.get(ident)
            if frame is None:
                try:
                    parsed = parse_identifier(ident)
                except ValueError:
                    continue
                if not isinstance(parsed, Frame):
                    continue  # the <thread> placeholder
                frame = parsed
                if len(cache) < 100_000:
                    cache[ident] = frame
            frames.append(frame)
        cut = 0
        for i, f in enumerate(frames):
            if f.file in own_files:
                cut = i + 1
        kept = tuple(frames[cut:])
        if cut and all(f.file in _NATIVE_FILES for f in kept):
            continue  # hotpath's own clock reads and profiler start/stop, not the app's
        idle = bool(kept) and kept[-1].name in IDLE_LEAVES and kept[-1].file in _NATIVE_FILES
        out.append(WeightedStack(kept, float(seconds), idle))
    return out

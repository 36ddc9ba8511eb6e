"""How many requests the middleware profiles at once: a bound on its own work and memory.

Every running pyinstrument profiler is called on every sampled event of the process, so the
cost of N profilers in flight grows with N squared: at ``sample_fraction=1.0`` and 150
concurrent ASGI requests a server spent its time in pyinstrument and timed requests out.
:class:`ProfileSlots` admits at most ``limit`` profiled requests at a time; the others are
still timed and counted, only their stacks are not taken.
"""

from __future__ import annotations

import threading


class ProfileSlots:
    """A non-blocking counting gate: :meth:`take` never waits, it says yes or no."""

    __slots__ = ("_busy", "_lock", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._busy = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._busy >= self.limit:
                return False
            self._busy += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._busy = max(0, self._busy - 1)

    @property
    def busy(self) -> int:
        return self._busy

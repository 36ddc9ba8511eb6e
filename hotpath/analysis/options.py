"""What an analysis is asked for: the options of ``hotpath analyze`` and of its advisor."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RUST_SPEEDUP = 10.0
"""Assumed speed-up of interpreted Python rewritten in Rust (CPU-bound loops, plain data)."""


@dataclass(frozen=True)
class MeasuredSpeedup:
    """A replacement's per-call speed-up measured by ``hotpath replay`` (``analyze --replay``).

    For the candidate of that function, the saving uses it as k in place of ``rust_speedup``
    (its spread gives the interval), applied to the function's whole share: the replacement
    stands in for the whole call, its C parts too. Only a replay with every replayed call
    equal is used; otherwise the candidate says why not."""

    function: str
    """``module:qualname`` as captured."""
    file: str
    """The function's source file where it was captured."""
    low: float
    median: float
    high: float
    all_equal: bool
    summary: str
    """E.g. "all 1,000 replayed calls equal; 38x faster per call (36-41x, 7 rounds)"."""

    def matches(self, name: str, file: str) -> bool:
        """True for the profile's function ``name`` in ``file`` (paths as each format
        writes them: absolute, shortened, relative)."""
        qual = self.function.partition(":")[2]
        if name != qual and name.split(":", 1)[0] != qual:
            return False
        if not file or not self.file or file == self.file:
            return True
        a, b = file.replace("\\", "/"), self.file.replace("\\", "/")
        return a.endswith("/" + b.lstrip("/")) or b.endswith("/" + a.lstrip("/"))


@dataclass(frozen=True)
class ObservedParam:
    """One argument (or the result, named ``return``) as a capture saw it."""

    name: str
    types: tuple[tuple[str, int], ...]
    """Python types seen (``str``, ``list[int]``) with how many recorded calls had each."""
    sizes: tuple[int, int, int] | None = None
    """(min, median, max) length of the strings, bytes or containers seen."""
    min_int: int | None = None
    """Smallest integer seen when every value was an int (a usize when >= 0)."""


@dataclass(frozen=True)
class ObservedBoundary:
    """A function's boundary as ``hotpath capture`` observed it (``analyze --capture``)."""

    function: str
    file: str
    params: tuple[ObservedParam, ...]
    result: ObservedParam
    records: int
    calls: int
    calls_per_request: float | None
    call_rate: float | None
    """Calls per second while capturing."""
    bytes_in: int
    """Median bytes of the arguments as plain JSON (what a service would be sent)."""
    bytes_out: int
    cpu_per_call_s: float | None
    raised: tuple[tuple[str, int], ...] = ()

    def matches(self, name: str, file: str) -> bool:
        return MeasuredSpeedup(self.function, self.file, 1, 1, 1, False, "").matches(name, file)


@dataclass(frozen=True)
class AdvisorOptions:
    """What the advisor assumes (``hotpath analyze --rust-speedup/--cores/--core-hour-price``)."""

    rust_speedup: float = DEFAULT_RUST_SPEEDUP
    cores: float | None = None
    """Cores the service uses at the observed load; None: measured from the profile if it can."""
    core_hour_price: float | None = None
    min_share: float = 0.02
    """A candidate whose share's lower bound is below this is too small to act on."""
    min_samples: int = 30
    list_share: float = 0.01
    """Functions below this inclusive share are not listed at all."""
    hop_cost_s: float = 1e-4
    """Cost of one loopback network round trip; a microservice call should be >= 10x this."""
    native_call_s: float = 5e-6
    """cProfile builtin calls cheaper than this per call count as interpreter work."""
    z: float = 1.96
    """Normal quantile of the intervals (1.96: 95%)."""
    measured: tuple[MeasuredSpeedup, ...] = ()
    """Speed-ups measured by replaying captured calls (``hotpath analyze --replay``)."""

    boundaries: tuple[ObservedBoundary, ...] = ()
    """Boundaries observed by captures (``hotpath analyze --capture``), for the briefs."""

    def measured_for(self, name: str, file: str) -> MeasuredSpeedup | None:
        return next((s for s in self.measured if s.matches(name, file)), None)

    def boundary_for(self, name: str, file: str) -> ObservedBoundary | None:
        return next((b for b in self.boundaries if b.matches(name, file)), None)


@dataclass(frozen=True)
class AnalyzeOptions:
    """What ``hotpath analyze`` was asked for."""

    source_root: str | None = None
    """Directory of the app's own code; None: everything not stdlib/library/native is app."""
    top: int = 20
    advisor: AdvisorOptions | None = None
    """Options of the advisor (Rust speed-up, cores, price); None: its defaults."""
    max_functions: int = 500_000
    """Refuse profiles with more distinct functions (``--max-functions``): a million take
    about a minute and 2 GB to analyse; real services have thousands to tens of thousands."""
    flame: bool = True
    """Build the call tree for a flame graph (only the HTML report draws one; building it
    for a 100 MB profile costs 0.4 s and 60 MiB, so ``hotpath analyze`` asks only for HTML)."""

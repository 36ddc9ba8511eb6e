"""What an analysis is asked for: the options of ``hotpath analyze`` and of its advisor."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RUST_SPEEDUP = 10.0
"""Assumed speed-up of interpreted Python rewritten in Rust (CPU-bound loops, plain data)."""


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

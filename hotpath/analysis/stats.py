"""Small statistics for comparing sampled profiles: two-proportion z-test, p-value corrections.

Pure functions on floats; no numpy/scipy needed for these closed forms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

Correction = Literal["holm", "bh", "none"]


def two_proportion_z(x1: float, n1: float, x2: float, n2: float, dispersion: float = 1.0) -> float:
    """z statistic of p2 - p1 for x1 of n1 vs x2 of n2 (pooled variance times ``dispersion``).

    ``dispersion`` > 1 inflates the variance: samples of a profiler are correlated in time,
    so they carry less information than as many independent draws.
    """
    if n1 <= 0 or n2 <= 0:
        return 0.0
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2) * dispersion
    if var <= 0.0:
        return 0.0
    return (p2 - p1) / math.sqrt(var)


def two_sided_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def adjust_p(pvalues: Sequence[float], method: Correction) -> list[float]:
    """Adjusted p-values: Holm (family-wise error) or Benjamini-Hochberg (false discovery)."""
    m = len(pvalues)
    if m == 0 or method == "none":
        return list(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    if method == "holm":
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * pvalues[i]))
            adjusted[i] = running
        return adjusted
    if method == "bh":
        running = 1.0
        for rank in range(m - 1, -1, -1):
            i = order[rank]
            running = min(running, pvalues[i] * m / (rank + 1))
            adjusted[i] = min(1.0, running)
        return adjusted
    raise ValueError(f"unknown correction {method!r}")


def detectable_delta(share: float, n: float, z_needed: float, dispersion: float = 1.0) -> float:
    """Smallest share increase (fraction) a test with ``n`` samples per side detects at
    ``z_needed`` standard errors, for a function whose base share is ``share``."""
    if n <= 0:
        return math.inf
    return z_needed * math.sqrt(2.0 * share * (1.0 - share) * dispersion / n)


def z_for_p(p: float) -> float:
    """The two-sided critical value: |z| above which the p-value is below ``p``."""
    lo, hi = 0.0, 40.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if two_sided_p(mid) > p:
            lo = mid
        else:
            hi = mid
    return hi

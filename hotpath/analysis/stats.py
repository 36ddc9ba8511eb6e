"""Small statistics for comparing sampled profiles: two-proportion z-test, p-value corrections.

Pure functions on floats; no numpy/scipy needed for these closed forms.
"""

from __future__ import annotations

import bisect
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


def upper_p(z: float) -> float:
    """One-sided p-value: the chance of a standard normal statistic at least ``z``."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def adjust_thresholded(
    pvalues: Sequence[float], reach: Sequence[float], method: Correction
) -> list[float]:
    """Family-wise adjusted one-sided p-values when row ``j`` can only be flagged once its
    statistic passes a practical threshold, which under "no change" it does with probability
    ``reach[j]`` at most.

    Row ``i`` is flagged when its adjusted value is below alpha and its threshold is passed;
    its statistic is then beyond both its own critical value and its threshold, so the chance
    of any false flag is at most ``sum_j min(p, reach[j])`` (a union bound): a row that can
    hardly pass its threshold costs the others almost nothing, where Bonferroni would charge
    it a full share. ``holm`` steps down over the rows not yet rejected (Holm's argument with
    these weights), ``bh`` is Benjamini-Hochberg's step-up with the same weights, ``none``
    returns the p-values unchanged. O(m log m).
    """
    m = len(pvalues)
    if m == 0 or method == "none":
        return list(pvalues)
    if method not in ("holm", "bh"):
        raise ValueError(f"unknown correction {method!r}")
    order = sorted(range(m), key=lambda i: pvalues[i])
    by_reach = sorted(range(m), key=lambda j: reach[j])
    sorted_reach = [reach[j] for j in by_reach]
    slot = {j: k for k, j in enumerate(by_reach)}
    count, total = _Fenwick(m), _Fenwick(m)
    for k, r in enumerate(sorted_reach):
        count.add(k, 1.0)
        total.add(k, r)

    def cost(p: float) -> float:
        """sum over the rows still in the family of min(p, reach)."""
        below = bisect.bisect_left(sorted_reach, p)
        return total.prefix(below) + p * (count.prefix(m) - count.prefix(below))

    adjusted = [0.0] * m
    if method == "holm":
        running = 0.0
        for i in order:
            running = max(running, min(1.0, cost(pvalues[i])))
            adjusted[i] = running
            count.add(slot[i], -1.0)  # rejected in this step: out of the family
            total.add(slot[i], -reach[i])
        return adjusted
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, cost(pvalues[i]) / (rank + 1))
        adjusted[i] = min(1.0, running)
    return adjusted


class _Fenwick:
    """Prefix sums with point updates (a binary indexed tree)."""

    def __init__(self, n: int) -> None:
        self.tree = [0.0] * (n + 1)

    def add(self, i: int, value: float) -> None:
        i += 1
        while i < len(self.tree):
            self.tree[i] += value
            i += i & -i

    def prefix(self, n: int) -> float:
        """Sum of the first ``n`` entries."""
        out = 0.0
        while n > 0:
            out += self.tree[n]
            n -= n & -n
        return out


def upper_p_t(t: float, df: float) -> float:
    """One-sided p-value of Student's t with ``df`` degrees of freedom: P(T >= t).

    ``df`` of ``math.inf`` is the standard normal (:func:`upper_p`). Used when a test's
    variance is itself estimated from a handful of cells, whose uncertainty the wider tails
    of t account for.
    """
    if math.isinf(df):
        return upper_p(t)
    if df <= 0 or math.isnan(t):
        return 1.0
    tail = 0.5 * _betai(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def _betai(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h

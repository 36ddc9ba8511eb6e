"""Shared helpers for the format tests: fixture paths and independent per-function counts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "fixtures" / "unit"
SPEEDSCOPE_REF = ROOT / "fixtures" / "external" / "speedscope"


def count_stacks(
    stacks: Iterable[tuple[list[tuple[str, str]], float]],
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float], float]:
    """Self and inclusive weight per (name, file), each function once per stack, and total.

    Deliberately plain: the truth the readers and the call graph are compared with.
    """
    self_w: dict[tuple[str, str], float] = {}
    incl_w: dict[tuple[str, str], float] = {}
    total = 0.0
    for stack, w in stacks:
        total += w
        if not stack:
            continue
        self_w[stack[-1]] = self_w.get(stack[-1], 0.0) + w
        for key in set(stack):
            incl_w[key] = incl_w.get(key, 0.0) + w
    return self_w, incl_w, total

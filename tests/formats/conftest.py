"""Shared helpers for the format tests: fixture paths and independent per-function counts."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from hotpath.analysis.callgraph import build_callgraph
from hotpath.formats.identity import bare_name
from hotpath.model import Profile

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "fixtures" / "unit"
SPEEDSCOPE_REF = ROOT / "fixtures" / "external" / "speedscope"


def count_stacks(
    stacks: Iterable[tuple[list[Any], float]],
) -> tuple[dict[Any, float], dict[Any, float], float]:
    """Self and inclusive weight per (name, file), each function once per stack, and total.

    Deliberately plain: the truth the readers and the call graph are compared with.
    """
    self_w: dict[Hashable, float] = {}
    incl_w: dict[Hashable, float] = {}
    total = 0.0
    for stack, w in stacks:
        total += w
        if not stack:
            continue
        self_w[stack[-1]] = self_w.get(stack[-1], 0.0) + w
        for key in set(stack):
            incl_w[key] = incl_w.get(key, 0.0) + w
    return self_w, incl_w, total


def totals_by_code(profile: Profile) -> tuple[dict[Any, float], dict[Any, float]]:
    """Self (non-zero) and inclusive weight per function as (own name, file, def line): the
    identity tools record, whatever display name hotpath gives the function."""
    cg = build_callgraph(profile)
    self_w: dict[Any, float] = {}
    incl_w: dict[Any, float] = {}
    for k, f in cg.functions.items():
        code = (bare_name(k.name, f.first_line), k.file, f.first_line)
        assert code not in incl_w, f"two functions with one identity: {code}"
        incl_w[code] = f.inclusive
        if f.self:
            self_w[code] = f.self
    return self_w, incl_w

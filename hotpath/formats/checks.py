"""Range checks for numbers and text where they enter from a file, shared by every reader.

A profile's numbers are counts and durations. Each one, and each profile's total, must be a
finite non-negative number of at most :data:`MAX_VALUE` (2**53, about 9.0e15: the largest
range in which a float holds every integer). Within that range every sum, share, integer
conversion and 64-bit JSON integer downstream is safe; beyond it lie only hostile or corrupt
files (9e15 samples at 1 kHz would take 285,000 years). Timestamps (speedscope's ``at``) may
be absolute, so their magnitude is bounded by :data:`MAX_TIMESTAMP` instead; the durations
computed from them are then checked like any other weight.

Text from a file may hold lone UTF-16 surrogates (a JSON ``"\\ud800"`` escape, a marshal
string): :func:`clean_text` writes them as the escape text, so every output can encode them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from hotpath.errors import ProfileParseError

if TYPE_CHECKING:
    from hotpath.model import Profile

MAX_VALUE = 2**53
"""Largest count, weight or total a profile may hold."""
MAX_TIMESTAMP = 2.0**63
"""Largest magnitude of an absolute timestamp (nanoseconds since 1970 fit)."""

MIN_INTERVAL_S = 1e-9
MAX_INTERVAL_S = 86_400.0
"""A sampling interval outside a nanosecond to a day is not a sampling interval."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def out_of_range(value: object) -> str | None:
    """Why ``value`` is not a valid count or weight, or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "is not a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    if value < 0:
        return "is negative"
    if value > MAX_VALUE:
        return f"is larger than {MAX_VALUE:.2g}, the largest value hotpath accepts"
    return None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} characters)"


def weight(value: object, path: str, what: str, line: int | None = None) -> float:
    """``value`` as a float when it is a valid weight; else ProfileParseError naming it."""
    why = out_of_range(value)
    if why is not None:
        raise ProfileParseError(path, f"{what} {_shown(value)} {why}", line)
    return float(value)  # type: ignore[arg-type]


def count(value: object, path: str, what: str, line: int | None = None) -> int:
    """``value`` when it is a valid integer count; else ProfileParseError naming it."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProfileParseError(path, f"{what} {_shown(value)} is not an integer", line)
    why = out_of_range(value)
    if why is not None:
        raise ProfileParseError(path, f"{what} {_shown(value)} {why}", line)
    return value


def timestamp(value: object, path: str, what: str, line: int | None = None) -> float:
    """``value`` as a float when it is a finite time of magnitude at most MAX_TIMESTAMP."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileParseError(path, f"{what} {_shown(value)} is not a number", line)
    if not (isinstance(value, int) or math.isfinite(value)) or abs(value) > MAX_TIMESTAMP:
        raise ProfileParseError(
            path, f"{what} {_shown(value)} is not a time hotpath accepts (|t| <= 2**63)", line
        )
    return float(value)


def clean_text(text: str) -> str:
    """``text`` with lone surrogates written as their escape (``\\ud800``)."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def check_totals(profile: Profile, path: str) -> None:
    """Refuse a profile whose totals leave the safe range (many in-range values can)."""
    meta = profile.meta
    problems: list[tuple[str, object]] = [
        ("the sample weights add up to", _sum(profile.samples.values())),
        ("sample_count", meta.sample_count or 0),
        ("duration_s", meta.duration_s or 0),
    ]
    if profile.requests:
        reqs = profile.requests.values()
        problems.append(("the request counts add up to", sum(r.count for r in reqs)))
        problems.append(("the request wall_s add up to", _sum(r.wall_s for r in reqs)))
        problems.append(("the request cpu_s add up to", _sum(r.cpu_s for r in reqs)))
    if profile.function_stats:
        stats = profile.function_stats.values()
        problems.append(("the call counts add up to", sum(s.calls for s in stats)))
        problems.append(("the function times add up to", _sum(s.self for s in stats)))
    for what, value in problems:
        why = out_of_range(value)
        if why is not None:
            raise ProfileParseError(path, f"{what} {_shown(value)}, which {why}")
    interval = meta.interval_s
    if interval is not None and not (MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S):
        raise ProfileParseError(
            path,
            f"sampling interval {_shown(interval)} s is outside "
            f"{MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g} s",
        )


def _sum(values: Iterable[float]) -> float:
    try:
        return math.fsum(values)
    except OverflowError:  # finite values whose sum is not
        return math.inf

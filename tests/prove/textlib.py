"""Small functions for the capture and replay tests (captured where they are looked up)."""

from __future__ import annotations

from typing import Any


def distance(a: str, b: str) -> int:
    """Levenshtein distance, plain Python."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def distance_fast(a: str, b: str) -> int:
    """The same answers by jellyfish (Rust)."""
    import jellyfish

    return int(jellyfish.levenshtein_distance(a, b))


def distance_wrong(a: str, b: str) -> int:
    """Wrong whenever the strings differ in length."""
    return sum(x != y for x, y in zip(a, b, strict=False))


def distance_raises(a: str, b: str) -> int:
    if "z" in a:
        raise ValueError("no z please")
    return distance(a, b)


def fails(x: int) -> int:
    if x % 3 == 0:
        raise KeyError(x)
    return x


def echo(*args: Any, **kwargs: Any) -> Any:
    return args, kwargs

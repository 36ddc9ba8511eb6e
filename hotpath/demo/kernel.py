"""The pure-Python CPU kernel behind ``GET /kernel``: fuzzy ranking by edit distance.

Deliberately interpreted Python end to end (no C helpers on the hot loop), coarse-grained
(one call per request, milliseconds of CPU) and isolated (strings in, scores out), so it is
the textbook candidate to move to Rust. ``HOTPATH_DEMO_STUB_KERNEL=1`` makes
:func:`rank_candidates` near-free so that what removing the kernel saves can be measured.
"""

from __future__ import annotations

import os

STUB_ENV = "HOTPATH_DEMO_STUB_KERNEL"


def kernel_stubbed() -> bool:
    """True when the environment asks for the near-zero-cost kernel."""
    return os.environ.get(STUB_ENV, "") not in ("", "0")


def edit_distance(a: str, b: str, rows: tuple[list[int], list[int]] | None = None) -> int:
    """Levenshtein distance by the classic two-row dynamic programme.

    Written without builtin calls in the inner loop (no ``min``, no ``append``) so that its
    time is interpreted bytecode, not C: the part a Rust rewrite really speeds up. ``rows``
    are scratch lists of length > ``min(len(a), len(b))`` to reuse between calls.
    """
    if len(a) < len(b):
        a, b = b, a
    n = len(b)
    if rows is None or len(rows[0]) <= n:
        rows = ([0] * (n + 1), [0] * (n + 1))
    previous, current = rows
    for j in range(n + 1):
        previous[j] = j
    for i, ca in enumerate(a, 1):
        current[0] = i
        j = 1
        while j <= n:
            best = previous[j] + 1
            insert = current[j - 1] + 1
            if insert < best:
                best = insert
            substitute = previous[j - 1] + (ca != b[j - 1])
            if substitute < best:
                best = substitute
            current[j] = best
            j += 1
        previous, current = current, previous
    return previous[n]


def rank_candidates(query: str, candidates: list[str], top: int = 10) -> list[tuple[str, int]]:
    """The ``top`` candidates closest to ``query``, as (candidate, distance), best first."""
    if kernel_stubbed():
        # Same shape of answer, none of the work: the "after the rewrite" baseline.
        return [(c, 0) for c in candidates[:top]]
    # Scratch rows reused across candidates and plain int results: the kernel allocates
    # almost no container objects, so it does not drive the garbage collector, whose
    # pauses would be billed to whichever request happens to trigger them.
    width = max([len(query), *map(len, candidates)]) + 1
    rows, distance = ([0] * width, [0] * width), _distance()
    distances = [distance(query, c, rows) for c in candidates]
    order = sorted(range(len(candidates)), key=distances.__getitem__)[:top]
    return [(candidates[k], distances[k]) for k in order]


# Below the kernel, so that its functions keep the lines the committed fixtures name.
from collections.abc import Callable  # noqa: E402

RUST_ENV = "HOTPATH_DEMO_RUST_KERNEL"
"""``HOTPATH_DEMO_RUST_KERNEL=1`` swaps :func:`edit_distance` for its Rust-backed equivalent
(:mod:`hotpath.demo.kernel_rust`, jellyfish) so that what the rewrite saves can be measured."""


def kernel_in_rust() -> bool:
    """True when the environment asks for jellyfish's edit distance in the kernel."""
    return os.environ.get(RUST_ENV, "") not in ("", "0")


def _distance() -> Callable[..., int]:
    """The edit distance the kernel uses: this module's (looked up on every call, so a
    capture's wrapper is seen) or, with ``HOTPATH_DEMO_RUST_KERNEL=1``, jellyfish's."""
    if kernel_in_rust():
        from hotpath.demo.kernel_rust import edit_distance as rust

        return rust
    return edit_distance

"""The kernel's edit distance in Rust: ``jellyfish.levenshtein_distance`` (pip install jellyfish).

Same signature as :func:`hotpath.demo.kernel.edit_distance` (``rows``, the pure-Python
version's scratch space, is not needed), so ``hotpath replay`` calls it on the recorded inputs
as they are, and ``HOTPATH_DEMO_RUST_KERNEL=1`` swaps it into the running monolith.
"""

from __future__ import annotations

import jellyfish


def edit_distance(a: str, b: str, rows: tuple[list[int], list[int]] | None = None) -> int:
    """Levenshtein distance of ``a`` and ``b``, computed by jellyfish's Rust code."""
    return int(jellyfish.levenshtein_distance(a, b))

"""A profile's stacks as flat arrays, for the passes that visit every frame of every stack.

A stack is a tuple of frame ids; a table lays the distinct stacks end to end in one int
array (``flat``) with each stack's start and end, so numpy's loops visit the 2 million
frames of a 100 MB py-spy file instead of Python's. The passes walk the table in chunks of
about :data:`CHUNK_SLOTS` frames, so their temporary arrays stay a few MiB whatever the
profile's size (numbers: benchmarks/README.md, "Unique-line py-spy files").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain

import numpy as np

from hotpath.model import Profile, Samples, Stack, StackStore

CHUNK_SLOTS = 1 << 16
"""Frames per chunk: 64 Ki slots, 512 KiB per temporary int64 array."""


class StackTable:
    """Stacks with their weights: ``flat[starts[i]:ends[i]]`` is stack ``i``, root first."""

    __slots__ = ("_flat", "_gather", "ends", "first", "n", "slots", "starts", "weights")

    def __init__(
        self, stacks: list[Stack], weights: list[float], first: int = 0, frames: int = 1 << 31
    ) -> None:
        """``frames``: a bound on the frame ids (the profile's frame count): below 65,536
        a frame id takes two bytes, not four."""
        self.n = len(stacks)
        self.first = first
        """The index of this table's first stack in the table it is a chunk of."""
        self.weights = np.asarray(weights, dtype=np.float64)
        lengths = np.fromiter(map(len, stacks), dtype=np.int64, count=len(stacks))
        self.ends = np.cumsum(lengths)
        self.starts = self.ends - lengths
        self.slots = int(self.ends[-1]) if len(stacks) else 0
        width = np.uint16 if frames <= 1 << 16 else np.int32
        self._flat: np.ndarray | None = np.fromiter(
            chain.from_iterable(stacks), dtype=width, count=self.slots
        )
        self._gather: tuple[np.ndarray, np.ndarray] | None = None
        """Where the frames of a table of some of a store's stacks are: the store's array
        and each stack's start in it (they are copied chunk by chunk, as a pass reads them)."""

    @property
    def flat(self) -> np.ndarray:
        """Every frame id of every stack (one slot per frame)."""
        if self._flat is None:
            self._flat = self._gathered(0, self.n)
        return self._flat

    def _gathered(self, lo: int, hi: int) -> np.ndarray:
        """The frames of stacks ``lo:hi`` copied from the store, in runs of stacks of about
        CHUNK_SLOTS frames (the gather index is 8 bytes a slot)."""
        assert self._gather is not None
        flat, src = self._gather
        base = int(self.starts[lo]) if hi > lo else 0
        out = np.empty(int(self.ends[hi - 1]) - base if hi > lo else 0, dtype=flat.dtype)
        while lo < hi:
            top = int(np.searchsorted(self.ends, self.starts[lo] + CHUNK_SLOTS, side="right"))
            top = min(max(top, lo + 1), hi)
            at = int(self.starts[lo])
            span = int(self.ends[top - 1]) - at
            starts = self.starts[lo:top]
            shift = np.repeat(src[lo:top] - starts, self.ends[lo:top] - starts)
            where = np.arange(at, at + span, dtype=np.int64) + shift
            out[at - base : at - base + span] = flat[where]
            lo = top
        return out

    @classmethod
    def of(cls, samples: Iterable[tuple[Stack, float]]) -> StackTable:
        stacks: list[Stack] = []
        weights: list[float] = []
        for stack, w in samples:
            stacks.append(stack)
            weights.append(w)
        return cls(stacks, weights)

    @classmethod
    def of_rows(cls, store: StackStore, rows: np.ndarray, weights: np.ndarray) -> StackTable:
        """The store's stacks ``rows`` (in that order) with ``weights``: a view of the
        store's array when the rows are all of its stacks in order, else a copy of theirs."""
        flat, store_starts, store_ends = store_arrays(store)
        table = cls.__new__(cls)
        table.n = len(rows)
        table.first = 0
        table.weights = np.asarray(weights, dtype=np.float64)
        table._gather = None
        if len(rows) == len(store_ends) and (rows == np.arange(len(rows))).all():
            table.ends = store_ends
            table.starts = store_starts
            table.slots = int(store_ends[-1]) if len(rows) else 0
            table._flat = flat[: table.slots]
            return table
        src = store_starts[rows]
        lengths = store_ends[rows] - src
        table.ends = np.cumsum(lengths)
        table.starts = table.ends - lengths
        table.slots = int(table.ends[-1]) if len(rows) else 0
        # Not copied here: a pass copies a chunk at a time (4 MiB of frames for an endpoint
        # holding most of the 100 MB unique-line benchmark file's stacks).
        table._flat = None
        table._gather = (flat, src)
        return table

    def tuples(self) -> list[Stack]:
        """The stacks as tuples (for tests and small tables)."""
        flat = self.flat.tolist()
        return [
            tuple(flat[b:e]) for b, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)
        ]

    def sid(self) -> np.ndarray:
        """Per slot, the index (in this table) of its stack."""
        return np.repeat(np.arange(self.n, dtype=np.int64), self.ends - self.starts)

    def chunks(self, slots: int | None = None) -> Iterator[StackTable]:
        """Consecutive runs of whole stacks of about ``slots`` (:data:`CHUNK_SLOTS`) frames
        each (a longer stack is a chunk of its own), as tables sharing this one's arrays."""
        slots = CHUNK_SLOTS if slots is None else slots
        if self.slots <= slots:
            yield self
            return
        lo = 0
        n = self.n
        while lo < n:
            hi = int(np.searchsorted(self.ends, self.starts[lo] + slots, side="right"))
            hi = max(hi, lo + 1)
            yield self._part(lo, hi)
            lo = hi

    def _part(self, lo: int, hi: int) -> StackTable:
        part = StackTable.__new__(StackTable)
        base = int(self.starts[lo])
        part.n = hi - lo
        part.first = self.first + lo
        part.weights = self.weights[lo:hi]
        part.starts = self.starts[lo:hi] - base
        part.ends = self.ends[lo:hi] - base
        part.slots = int(part.ends[-1]) if hi > lo else 0
        part._gather = None
        part._flat = (
            self._gathered(lo, hi) if self._flat is None else self._flat[base : base + part.slots]
        )
        return part


_WIDTH = {"H": np.uint16, "i": np.int32}


def store_arrays(store: StackStore) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The store's frame ids (a view of its sealed array) and each stack's start and end."""
    sealed = store.sealed()
    ends = np.frombuffer(store.ends, dtype=np.int64).copy()
    starts = np.concatenate([[0], ends[:-1]]) if len(ends) else ends
    return np.frombuffer(sealed, dtype=_WIDTH[sealed.typecode]), starts, ends


def entries(samples: Samples) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per entry of ``samples``, in order: its stack's row in the store, its label set id
    and its weight (copies: the arrays may still grow)."""
    return (
        np.frombuffer(samples.rows, dtype=np.int32).astype(np.int64),
        np.frombuffer(samples.lids, dtype=np.int32).astype(np.int64),
        np.frombuffer(samples.weights, dtype=np.float64).copy(),
    )


def distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``rows`` in the order they first come, and each entry's index among
    them."""
    if not len(rows):
        return rows, rows
    firsts = first_of_each(rows)
    distinct = rows[firsts]
    rank = np.zeros(int(rows.max()) + 1, dtype=np.int64)
    rank[distinct] = np.arange(len(distinct), dtype=np.int64)
    return distinct, rank[rows]


def by_stack(profile: Profile) -> StackTable:
    """The profile's distinct stacks, labels ignored: a stack's weights added up in sample
    order (a speedscope file from py-spy holds the same stack once per thread)."""
    samples = profile.samples
    rows, _lids, weights = entries(samples)
    if len(profile.label_sets) <= 1:  # one entry per stack
        return StackTable.of_rows(samples.store, rows, weights)
    distinct, inverse = distinct_rows(rows)
    sums = np.zeros(len(distinct), dtype=np.float64)
    np.add.at(sums, inverse, weights)  # in entry order, as a loop adds them
    return StackTable.of_rows(samples.store, distinct, sums)


def stable_order(values: np.ndarray) -> np.ndarray:
    """The positions of non-negative int ``values`` sorted by (value, position): a stable
    argsort, computed as one plain sort of ``value * len + position`` when that fits an
    int64 (a third of the time of numpy's stable argsort on 2 million ints)."""
    n = len(values)
    if n and int(values.min()) >= 0 and int(values.max()) < (1 << 62) // n:
        key = values.astype(np.int64) * n + np.arange(n, dtype=np.int64)
        key.sort()
        return key % n
    return np.argsort(values, kind="stable")


def dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and each value's index among them (``np.unique`` with
    ``return_inverse``, by one sort: numpy 2's hashing unique took 2.9 s on 2 million ints)."""
    if not len(values):
        return values, np.zeros(0, dtype=np.int64)
    order = stable_order(values)
    ranked = values[order]
    head = np.ones(len(ranked), dtype=bool)
    head[1:] = ranked[1:] != ranked[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(head) - 1
    return ranked[head], inverse


def first_of_each(codes: np.ndarray) -> np.ndarray:
    """The positions of the first occurrence of each distinct code, in position order."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    order = stable_order(codes)
    ranked = codes[order]
    head = np.ones(len(order), dtype=bool)
    head[1:] = ranked[1:] != ranked[:-1]
    return np.sort(order[head])


class CodeSums:
    """Weights per int code, added chunk by chunk: each code's weights are added in the
    order they come (``np.add.at``), and codes are listed in the order first seen."""

    __slots__ = ("codes", "first", "seen", "sums")

    def __init__(self) -> None:
        self.codes = np.zeros(0, dtype=np.int64)
        """The codes seen so far, sorted."""
        self.sums = np.zeros(0, dtype=np.float64)
        self.first = np.zeros(0, dtype=np.int64)
        """Per code, the position (over everything added) where it was first seen."""
        self.seen = 0

    def add(self, codes: np.ndarray, weights: np.ndarray) -> None:
        if not len(codes):
            return
        distinct, inverse = dense(codes.astype(np.int64))  # sorted: searched in one sweep
        known = self.codes
        at = np.searchsorted(known, distinct)
        hit = at < len(known)
        hit[hit] = known[at[hit]] == distinct[hit]
        if not hit.all():
            firsts = np.full(len(distinct), len(codes), dtype=np.int64)
            np.minimum.at(firsts, inverse, np.arange(len(codes), dtype=np.int64))
            merged = np.concatenate([known, distinct[~hit]])
            order = np.argsort(merged, kind="stable")
            self.codes = merged[order]
            self.sums = np.concatenate([self.sums, np.zeros(int((~hit).sum()))])[order]
            self.first = np.concatenate([self.first, self.seen + firsts[~hit]])[order]
            at = np.searchsorted(self.codes, distinct)
        np.add.at(self.sums, at[inverse], weights)
        self.seen += len(codes)

    def items(self) -> Iterator[tuple[int, float]]:
        """(code, summed weight) in the order the codes were first seen, made as they are
        read: a list of all was 10 MiB for the advisor's 91,000 (library, owner) codes."""
        codes, sums = self.ordered()
        for lo in range(0, len(codes), 8192):
            yield from zip(
                codes[lo : lo + 8192].tolist(), sums[lo : lo + 8192].tolist(), strict=True
            )

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        """The codes and their summed weights, in the order the codes were first seen."""
        order = np.argsort(self.first, kind="stable")
        return self.codes[order], self.sums[order]


def last_slot(marked: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per stack, the last of the ``marked`` slots (sorted) inside it, or -1."""
    if not len(marked):
        return np.full(len(starts), -1, dtype=np.int64)
    at = np.searchsorted(marked, ends, side="left") - 1
    got = marked[np.maximum(at, 0)]
    return np.where((at >= 0) & (got >= starts), got, -1)

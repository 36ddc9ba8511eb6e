"""The one profile model every reader produces and every analysis reads.

A :class:`Profile` is flat: interned :class:`Frame` objects, stacks as tuples of frame ids
(root first), and a weight per (stack, label set). Call trees and call graphs are views built
from it by functions in :mod:`hotpath.analysis`; they are never stored here.

Deterministic profilers (cProfile) do not record stacks. Their exact per-function totals and
caller→callee edges live in :attr:`Profile.function_stats` and :attr:`Profile.call_edges`.
"""

from __future__ import annotations

from array import array
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
    ValuesView,
)
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

from hotpath.errors import MergeError

Unit = Literal["samples", "seconds", "bytes"]
Stack = tuple[int, ...]
Labels = tuple[tuple[str, str], ...]
"""A label set: sorted (key, value) pairs, e.g. (("endpoint", "GET /x"), ("thread", "w1"))."""

# Label keys with a meaning shared by readers, collectors and analysis.
THREAD = "thread"
THREAD_ID = "tid"
PROCESS = "process"
PID = "pid"
ENDPOINT = "endpoint"
STATE = "state"  # "active" or "idle"
ACTIVE = "active"
IDLE = "idle"
MEASURE = "measure"
"""Which quantity a sample's weight measures, when a collector records two (see cpu_view)."""
CPU = "cpu"
"""measure=cpu: on-CPU seconds attributed to the stack (e.g. from per-thread CPU clocks)."""
WALL = "wall"
"""measure=wall: wall-clock weight of every sample, active and idle."""


MAX_SOURCE_LINE = 2**31 - 1
"""The largest line number a code object holds (a C int); frames keep lines from 0 up to it."""


class FunctionKey(NamedTuple):
    """A function's identity: its name and file.

    A function is its code, (file, first line of its def, name); readers name it so that
    the name alone tells functions of one file apart (its qualified name, with a ``:LINE``
    suffix when two definitions share it: see :mod:`hotpath.formats.identity`), so the key
    needs no line and matches across formats that do not record def lines.

    A named tuple, not a dataclass: the analysis hashes keys millions of times on big
    profiles, and a tuple hashes in C (a dataclass's ``__hash__`` is Python code, a quarter
    of the analysis time of a 200,000-function profile). Orders by (name, file).
    """

    name: str
    file: str

    def __str__(self) -> str:
        return f"{self.name} ({self.file})" if self.file else self.name


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a stack.

    ``line`` is the line being executed when the sample was taken (None when the format does
    not say); ``first_line`` is the line of the ``def`` where the format records it. A line
    outside 0 to a C int's maximum (a code object's line is a C int, never negative:
    :data:`MAX_SOURCE_LINE`) is None: a file's ``"line": 1.1e41`` was read as that integer,
    and no 64-bit output (pprof, JSON) could write it; a ``-1`` is some format's "unknown".
    So no frame read from a file has a negative line, which leaves them free for markers
    that must never equal a real frame (:func:`unchecked_frame`).
    """

    name: str
    file: str = ""
    line: int | None = None
    first_line: int | None = None

    def __post_init__(self) -> None:
        line, first = self.line, self.first_line
        if line is not None and not 0 <= line <= MAX_SOURCE_LINE:
            object.__setattr__(self, "line", None)
        if first is not None and not 0 <= first <= MAX_SOURCE_LINE:
            object.__setattr__(self, "first_line", None)

    @property
    def function(self) -> FunctionKey:
        return FunctionKey(self.name, self.file)


def unchecked_frame(name: str, file: str, line: int | None, first_line: int | None) -> Frame:
    """A Frame with these fields as given, without :class:`Frame`'s range check: for a
    marker line no file can give (the plan's rewritten leaves), and for frames that were
    checked when first made (unpickling)."""
    frame = object.__new__(Frame)
    setattr_ = object.__setattr__
    setattr_(frame, "name", name)
    setattr_(frame, "file", file)
    setattr_(frame, "line", line)
    setattr_(frame, "first_line", first_line)
    return frame


@dataclass(frozen=True, slots=True)
class FunctionStats:
    """Exact per-function totals from a deterministic profiler (cProfile)."""

    self: float
    inclusive: float
    calls: int
    primitive_calls: int
    first_line: int | None = None

    def __add__(self, other: FunctionStats) -> FunctionStats:
        return FunctionStats(
            self.self + other.self,
            self.inclusive + other.inclusive,
            self.calls + other.calls,
            self.primitive_calls + other.primitive_calls,
            self.first_line if self.first_line is not None else other.first_line,
        )


@dataclass(frozen=True, slots=True)
class EdgeStats:
    """Exact caller→callee totals from a deterministic profiler."""

    self: float
    inclusive: float
    calls: int

    def __add__(self, other: EdgeStats) -> EdgeStats:
        return EdgeStats(
            self.self + other.self, self.inclusive + other.inclusive, self.calls + other.calls
        )


@dataclass(frozen=True, slots=True)
class Source:
    """A file a profile was read from and the format it was read as."""

    path: str
    format: str


# Latency histogram buckets (upper bounds, milliseconds): about 10% resolution, mergeable.
LATENCY_BUCKETS_MS: tuple[float, ...] = tuple(round(0.01 * 1.1**i, 6) for i in range(0, 200))


@dataclass(slots=True)
class RequestStats:
    """Per-endpoint request statistics recorded by the middleware (every request)."""

    count: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    status: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[int, int] = field(default_factory=dict)
    """Histogram: bucket index into :data:`LATENCY_BUCKETS_MS` -> request count."""

    def merge(self, other: RequestStats) -> RequestStats:
        status = dict(self.status)
        for k, v in other.status.items():
            status[k] = status.get(k, 0) + v
        latency = dict(self.latency_ms)
        for b, n in other.latency_ms.items():
            latency[b] = latency.get(b, 0) + n
        return RequestStats(
            self.count + other.count,
            self.wall_s + other.wall_s,
            self.cpu_s + other.cpu_s,
            status,
            latency,
        )


@dataclass(slots=True)
class Metadata:
    """What is known about how a profile was taken."""

    unit: Unit = "samples"
    sources: list[Source] = field(default_factory=list)
    interval_s: float | None = None
    duration_s: float | None = None
    sample_count: int | None = None
    tools: dict[str, str] = field(default_factory=dict)
    """Tool name -> version (e.g. {"py-spy": "0.4.3"})."""
    attrs: dict[str, str] = field(default_factory=dict)
    """Free-form facts worth keeping (command line, host, rate)."""


def make_labels(labels: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Labels:
    """Normalise a mapping or pairs into the sorted tuple form used as a key."""
    if not labels:
        return ()
    items = labels.items() if isinstance(labels, Mapping) else labels
    return tuple(sorted((str(k), str(v)) for k, v in items))


class StackStore:
    """Distinct stacks laid end to end in one array of frame ids (two bytes a frame while
    every id is below 65,536, else four): stack ``i`` is ``flat[ends[i - 1]:ends[i]]``.

    A 100 MB py-spy file holds 50,000 distinct stacks of 40 frames: as tuples of ints they
    were 17 MiB of the profile's 37, as an array of two-byte ids 4 MiB. The store only
    grows, so profiles derived from one another (filtered, labelled, a plan's steps) share
    it; each :class:`Samples` says which of its stacks it uses. Stacks come out as tuples
    (:meth:`stack`), made when asked for; the analysis reads the array (:meth:`sealed`).
    Stacks are found by an open-addressing table of rows keyed by the tuple's hash, in
    arrays: a dict of 50,000 hashes to rows was 6 MiB of int objects.
    """

    __slots__ = ("_hashes", "_head", "_table", "_tail", "ends")

    def __init__(self) -> None:
        self._head = array("H")
        """The stacks up to the last :meth:`sealed`: never resized (numpy may view it)."""
        self._tail = array("H")
        """The stacks added since, appended in place."""
        self.ends = array("q")
        """Per stack, where it ends in the whole (head then tail)."""
        self._hashes: array[int] | None = array("q")
        """Per stack, its hash (None: not computed yet)."""
        self._table: array[int] | None = None
        """Slots of rows (-1: empty), a power of two at most half full; built when needed."""

    def __len__(self) -> int:
        return len(self.ends)

    def stack(self, row: int) -> Stack:
        ends = self.ends
        lo = ends[row - 1] if row else 0
        head = len(self._head)
        if lo < head:
            return tuple(self._head[lo : ends[row]])
        return tuple(self._tail[lo - head : ends[row] - head])

    def leaf(self, row: int) -> int:
        """The frame id of stack ``row``'s leaf, or -1 for the empty stack."""
        ends = self.ends
        end = ends[row]
        if end == (ends[row - 1] if row else 0):
            return -1
        head = len(self._head)
        return self._head[end - 1] if end <= head else self._tail[end - 1 - head]

    def length(self, row: int) -> int:
        ends = self.ends
        return ends[row] - (ends[row - 1] if row else 0)

    def _probe(self, stack: Stack, h: int) -> tuple[int, int]:
        """(row of ``stack`` or -1, its slot or the empty slot where it would go)."""
        table = self._table if self._table is not None else self._build_table()
        mask = len(table) - 1
        hashes = self._hashes
        assert hashes is not None
        slot = h & mask
        while True:
            row = table[slot]
            if row < 0 or (hashes[row] == h and self.stack(row) == stack):
                return row, slot
            slot = (slot + 1) & mask

    def find(self, stack: Stack) -> int:
        """The row of ``stack``, or -1."""
        return self._probe(stack, hash(stack))[0]

    def intern(self, stack: Stack) -> int:
        """The row of ``stack``, added when new."""
        h = hash(stack)
        row, slot = self._probe(stack, h)
        if row >= 0:
            return row
        row = self._append(stack, h)
        table = self._table
        assert table is not None
        table[slot] = row
        if 2 * len(self.ends) > len(table):
            self._build_table()
        return row

    def intern_many(self, stacks: Iterable[Stack]) -> list[int]:
        """:meth:`intern` of each stack, in one loop (a reader adds 50,000 stacks: the
        method calls per stack were a fifth of reading a 100 MB py-spy file)."""
        out: list[int] = []
        append_row = out.append
        table = self._table if self._table is not None else self._build_table()
        hashes = self._hashes
        assert hashes is not None
        ends, tail = self.ends, self._tail
        head = len(self._head)
        stack_of = self.stack
        mask = len(table) - 1
        for stack in stacks:
            h = hash(stack)
            slot = h & mask
            while True:
                row = table[slot]
                if row < 0:
                    break
                if hashes[row] == h and stack_of(row) == stack:
                    break
                slot = (slot + 1) & mask
            if row >= 0:
                append_row(row)
                continue
            n = len(tail)
            try:
                tail.extend(stack)
            except (OverflowError, TypeError):
                del tail[n:]
                row = self.intern(stack)  # widens the store, or says what is wrong
                table = self._table if self._table is not None else self._build_table()
                tail, head, mask = self._tail, len(self._head), len(table) - 1
                append_row(row)
                continue
            row = len(ends)
            ends.append(head + len(tail))
            hashes.append(h)
            table[slot] = row
            append_row(row)
            if 2 * row + 2 > len(table):
                table = self._build_table()
                mask = len(table) - 1
        return out

    def _append(self, stack: Stack, h: int) -> int:
        tail = self._tail
        n = len(tail)
        try:
            tail.extend(stack)
        except OverflowError:  # a frame id of 65,536 or more (or a negative one)
            del tail[n:]
            if tail.typecode == "i" or min(stack, default=0) < 0:
                raise ValueError(f"frame ids must be 0 to 2**31-1, not {stack!r:.80}") from None
            self._head = array("i", self._head)
            tail = self._tail = array("i", tail)
            tail.extend(stack)
        except TypeError:
            del tail[n:]
            raise
        self.ends.append(len(self._head) + len(tail))
        assert self._hashes is not None  # _probe built them
        self._hashes.append(h)
        return len(self.ends) - 1

    def _build_table(self) -> array[int]:
        hashes = self._hashes
        if hashes is None:
            hashes = self._hashes = array("q", map(hash, map(self.stack, range(len(self)))))
        size = 8
        while size < 2 * len(self.ends) + 2:
            size *= 2
        table = array("i", [-1]) * size
        mask = size - 1
        for row, h in enumerate(hashes):
            slot = h & mask
            while table[slot] >= 0:
                slot = (slot + 1) & mask
            table[slot] = row
        self._table = table
        return table

    def drop_index(self) -> None:
        """Free the lookup table (rebuilt if a stack is added or looked up again)."""
        self._table = None

    def remapped(self, remap: Sequence[int]) -> tuple[StackStore, list[int] | None]:
        """A new store with frame id ``f`` replaced by ``remap[f]`` in every stack, and,
        when that made some stacks equal, each row's row among the distinct ones (the
        equal ones stay in the store, unused)."""
        flat = self.sealed()
        injective = len(set(remap)) == len(remap)
        top = max(remap, default=-1)
        foreign = max(flat, default=-1) + 1 - len(remap)
        if foreign > 0:  # another profile's frames, in stacks this one does not use
            remap = [*remap, *range(top + 1, top + 1 + foreign)]
            top += foreign
        out = StackStore()
        out._head = array("H" if top < 1 << 16 else "i", map(remap.__getitem__, flat))
        out._tail = array(out._head.typecode)
        out.ends = array("q", self.ends)
        out._hashes = None  # made when a stack is looked up
        if injective:  # no two frames merged: no two stacks either
            return out, None
        table = out._build_table()  # finds the first of equal stacks
        mask = len(table) - 1
        hashes = out._hashes
        assert hashes is not None
        canonical = []
        for row, h in enumerate(hashes):
            slot = h & mask
            while True:
                first = table[slot]
                if hashes[first] == h and out.stack(first) == out.stack(row):
                    break
                slot = (slot + 1) & mask
            canonical.append(first)
        return out, canonical

    def sealed(self) -> array[int]:
        """Every stack so far as one array that is never resized again, so numpy can view
        it while stacks are still being added (they go to a new tail)."""
        if self._tail and not self._head:  # everything in the tail: it becomes the head
            self._head, self._tail = self._tail, array(self._tail.typecode)
        elif self._tail:
            head = array(self._tail.typecode, self._head)
            head.extend(self._tail)
            self._head, self._tail = head, array(head.typecode)
        return self._head

    def __getstate__(self) -> tuple[str, bytes, bytes, bytes]:
        flat = self.sealed()
        hashes = self._hashes.tobytes() if self._hashes is not None else b""
        return flat.typecode, flat.tobytes(), self.ends.tobytes(), hashes

    def __setstate__(self, state: tuple[str, bytes, bytes, bytes]) -> None:
        code, flat, ends, hashes = state
        self._head = array(code)
        self._head.frombytes(flat)
        self._tail = array(code)
        self.ends = array("q")
        self.ends.frombytes(ends)
        self._hashes = array("q")
        self._hashes.frombytes(hashes)
        if len(self._hashes) != len(self.ends):
            self._hashes = None
        self._table = None


class Samples(MutableMapping[tuple[Stack, int], float]):
    """A profile's weights: (stack of frame ids root→leaf, label set id) -> weight.

    A mapping, as readers and exports use it; stored as parallel arrays over a
    :class:`StackStore` (per entry: the stack's row, the label set id, the weight), in the
    order entries were first added. Keys come out as tuples, made when asked for; the
    analysis's passes read the arrays (:meth:`entries`, :meth:`StackStore.sealed`).
    """

    __slots__ = ("_first", "_more", "lids", "rows", "store", "weights")

    def __init__(self, store: StackStore | None = None) -> None:
        self.store = store if store is not None else StackStore()
        self.rows = array("i")
        self.lids = array("i")
        self.weights = array("d")
        self._first: array[int] | None = None
        """Per store row, its first entry (-1: none); built when first needed."""
        self._more: dict[int, int] = {}
        """(row << 32 | label set id) -> entry, for a row's entries after its first."""

    @classmethod
    def of(cls, items: Iterable[tuple[tuple[Stack, int], float]]) -> Samples:
        out = cls()
        add = out.add
        for (stack, lid), w in items:
            add(stack, w, lid)
        return out

    def _index(self) -> array[int]:
        first = self._first
        if first is None:
            first = self._first = array("i", [-1]) * len(self.store)
            more = self._more = {}
            lids = self.lids
            for i, row in enumerate(self.rows):
                at = first[row]
                if at < 0:
                    first[row] = i
                elif lids[at] != lids[i] and (row << 32 | lids[i]) not in more:
                    more[row << 32 | lids[i]] = i
                else:
                    more[-1] = -1  # the same key twice: not an index of distinct keys
        return first

    def _find(self, row: int, lid: int) -> int:
        first = self._index()
        if row >= len(first):
            return -1
        at = first[row]
        if at < 0 or self.lids[at] == lid:
            return at
        return self._more.get(row << 32 | lid, -1)

    def add(self, stack: Stack, weight: float, lid: int = 0) -> None:
        """Add ``weight`` to (stack, lid)."""
        self.add_row(self.store.intern(stack), weight, lid)

    def add_many(self, stacks: Sequence[Stack], weights: Sequence[float], lid: int = 0) -> None:
        """:meth:`add` of each (stack, weight) with label set ``lid``, in order."""
        rows = self.store.intern_many(stacks)
        first = self._first if self._first is not None else self._index()
        top = max(rows, default=-1)
        if top >= len(first):
            first.extend(array("i", [-1]) * (top + 1 - len(first) + len(first) // 8 + 64))
        entries = len(self.weights)
        own_rows, own_lids, own_weights = self.rows, self.lids, self.weights
        for row, weight in zip(rows, weights, strict=True):
            at = first[row]
            if at < 0:
                first[row] = entries
            elif own_lids[at] == lid:
                own_weights[at] += weight
                continue
            else:
                at = self._more.get(row << 32 | lid, -1)
                if at >= 0:
                    own_weights[at] += weight
                    continue
                self._more[row << 32 | lid] = entries
            own_rows.append(row)
            own_lids.append(lid)
            own_weights.append(weight)
            entries += 1

    def add_row(self, row: int, weight: float, lid: int) -> None:
        """Add ``weight`` to (the store's stack ``row``, lid)."""
        at = self._find(row, lid)
        if at >= 0:
            self.weights[at] += weight
            return
        first = self._first
        assert first is not None
        if row >= len(first):  # grown by an eighth or more: not one slot per new stack
            grow = max(len(self.store), len(first) + (len(first) >> 3) + 64) - len(first)
            first.extend(array("i", [-1]) * grow)
        at = len(self.weights)
        if first[row] < 0:
            first[row] = at
        else:
            self._more[row << 32 | lid] = at
        self.rows.append(row)
        self.lids.append(lid)
        self.weights.append(weight)

    def _at(self, key: tuple[Stack, int]) -> int:
        stack, lid = key
        row = self.store.find(stack)
        return -1 if row < 0 else self._find(row, lid)

    def __getitem__(self, key: tuple[Stack, int]) -> float:
        at = self._at(key)
        if at < 0:
            raise KeyError(key)
        return self.weights[at]

    def __setitem__(self, key: tuple[Stack, int], weight: float) -> None:
        at = self._at(key)
        if at < 0:
            self.add(key[0], weight, key[1])
        else:
            self.weights[at] = weight

    def __delitem__(self, key: tuple[Stack, int]) -> None:
        at = self._at(key)
        if at < 0:
            raise KeyError(key)
        del self.rows[at], self.lids[at], self.weights[at]
        self._first = None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and self._at(key) >= 0

    def __len__(self) -> int:
        return len(self.weights)

    def __bool__(self) -> bool:
        return bool(self.weights)

    def __iter__(self) -> Iterator[tuple[Stack, int]]:
        stack = self.store.stack
        for row, lid in zip(self.rows, self.lids, strict=True):
            yield stack(row), lid

    def items(self) -> _SampleItems:
        return _SampleItems(self)

    def values(self) -> _SampleValues:
        return _SampleValues(self)

    def copy(self) -> Samples:
        """The same entries over the same store."""
        out = Samples(self.store)
        out.rows, out.lids, out.weights = (
            array("i", self.rows),
            array("i", self.lids),
            array("d", self.weights),
        )
        return out

    def with_entries(
        self, rows: Iterable[int], lids: Iterable[int], weights: Iterable[float]
    ) -> Samples:
        """Entries over this one's store; entries with the same (row, lid) add up, in order."""
        out = Samples(self.store)
        out.rows, out.lids, out.weights = array("i", rows), array("i", lids), array("d", weights)
        out._index()
        if -1 in out._more:  # some (row, lid) comes twice
            merged = Samples(self.store)
            for row, lid, w in zip(out.rows, out.lids, out.weights, strict=True):
                merged.add_row(row, w, lid)
            return merged
        return out

    def remapped(self, remap: Sequence[int]) -> Samples:
        """These entries with frame id ``f`` replaced by ``remap[f]`` (a new store);
        entries whose stacks became equal add up, in entry order."""
        store, canonical = self.store.remapped(remap)
        rows = self.rows if canonical is None else map(canonical.__getitem__, self.rows)
        return Samples(store).with_entries(rows, self.lids, self.weights)

    def drop_index(self) -> None:
        """Free the lookup tables (rebuilt when a key is looked up or added again)."""
        self._first, self._more = None, {}
        self.store.drop_index()

    def __getstate__(self) -> tuple[StackStore, bytes, bytes, bytes]:
        return self.store, self.rows.tobytes(), self.lids.tobytes(), self.weights.tobytes()

    def __setstate__(self, state: tuple[StackStore, bytes, bytes, bytes]) -> None:
        self.store = state[0]
        self.rows, self.lids, self.weights = array("i"), array("i"), array("d")
        self.rows.frombytes(state[1])
        self.lids.frombytes(state[2])
        self.weights.frombytes(state[3])
        self._first, self._more = None, {}

    def __repr__(self) -> str:
        return f"<Samples {len(self)} entries over {len(self.store)} stacks>"


class _SampleItems(ItemsView[tuple[Stack, int], float]):
    _mapping: Samples

    def __iter__(self) -> Iterator[tuple[tuple[Stack, int], float]]:
        s = self._mapping
        stack = s.store.stack
        for row, lid, w in zip(s.rows, s.lids, s.weights, strict=True):
            yield (stack(row), lid), w


class _SampleValues(ValuesView[float]):
    _mapping: Samples

    def __iter__(self) -> Iterator[float]:
        return iter(self._mapping.weights)


class Profile:
    """Weighted stacks with labels, plus exact call statistics where a profiler gives them.

    Readers build a profile with :meth:`intern_frame`, :meth:`intern_labels` and :meth:`add`;
    everything downstream treats it as read-only. ``a + b`` merges (new profile).
    """

    __slots__ = (
        "_frame_ids",
        "_label_ids",
        "_samples",
        "call_edges",
        "frames",
        "function_stats",
        "label_sets",
        "meta",
        "requests",
    )

    def __init__(self, meta: Metadata | None = None) -> None:
        self.frames: list[Frame] = []
        self._frame_ids: dict[Frame, int] | None = {}
        """Frame -> id; None in a derived or unpickled profile until a frame is interned into it (it
        is rebuilt from ``frames`` then: a copy per filtered view held 1.25 MiB on a 100 MB
        py-spy file, and filtered views only read their frames)."""
        self.label_sets: list[Labels] = [()]
        self._label_ids: dict[Labels, int] = {(): 0}
        self._samples = Samples()
        self.function_stats: dict[FunctionKey, FunctionStats] = {}
        self.call_edges: dict[tuple[FunctionKey, FunctionKey], EdgeStats] = {}
        self.requests: dict[str, RequestStats] = {}
        """Endpoint -> request statistics (middleware recordings)."""
        self.meta = meta if meta is not None else Metadata()

    @property
    def samples(self) -> Samples:
        """(stack of frame ids root→leaf, label set id) -> weight in ``meta.unit``."""
        return self._samples

    @samples.setter
    def samples(self, value: Mapping[tuple[Stack, int], float]) -> None:
        self._samples = value if isinstance(value, Samples) else Samples.of(value.items())

    # -- building -----------------------------------------------------------------------
    def intern_frame(self, frame: Frame) -> int:
        ids = self._frame_ids
        if ids is None:
            ids = self._frame_ids = {f: i for i, f in enumerate(self.frames)}
        fid = ids.get(frame)
        if fid is None:
            fid = len(self.frames)
            self.frames.append(frame)
            ids[frame] = fid
        return fid

    def intern_labels(self, labels: Mapping[str, str] | Labels | None) -> int:
        key = labels if isinstance(labels, tuple) else make_labels(labels)
        lid = self._label_ids.get(key)
        if lid is None:
            lid = len(self.label_sets)
            self.label_sets.append(key)
            self._label_ids[key] = lid
        return lid

    def add(self, stack: Stack, weight: float, labels: int = 0) -> None:
        """Add ``weight`` to a stack (tuple of interned frame ids, root first)."""
        self._samples.add(stack, weight, labels)

    def add_frames(
        self, frames: Sequence[Frame], weight: float, labels: Mapping[str, str] | None = None
    ) -> None:
        """Convenience for tests and small readers: add a stack given as frames."""
        self.add(tuple(self.intern_frame(f) for f in frames), weight, self.intern_labels(labels))

    def replace_frames(self, frames: Sequence[Frame]) -> None:
        """Replace frame ``i`` by ``frames[i]`` for every i (for readers that rename
        functions); frames that become equal merge, and so do their stacks."""
        if len(frames) != len(self.frames):
            raise ValueError("replace_frames needs one new frame per frame")
        self.frames = []
        self._frame_ids = {}
        remap = [self.intern_frame(f) for f in frames]
        if remap == list(range(len(remap))):
            return
        self._samples = self._samples.remapped(remap)

    # -- reading ------------------------------------------------------------------------
    @property
    def total(self) -> float:
        """Total weight: the sum of all samples, or of all self time for call statistics."""
        if self.samples:
            return float(sum(self.samples.values()))
        return float(sum(s.self for s in self.function_stats.values()))

    @property
    def has_stacks(self) -> bool:
        return bool(self.samples)

    def stack_frames(self, stack: Stack) -> tuple[Frame, ...]:
        frames = self.frames
        return tuple(frames[i] for i in stack)

    def iter_samples(self) -> Iterator[tuple[tuple[Frame, ...], Labels, float]]:
        """Yield (frames root→leaf, labels, weight) for every stack and label set."""
        for (stack, lid), w in self.samples.items():
            yield self.stack_frames(stack), self.label_sets[lid], w

    def label_values(self, key: str) -> set[str]:
        return {v for labels in self.label_sets for k, v in labels if k == key}

    def filter(self, keep: Callable[[Labels], bool]) -> Profile:
        """A new profile with only the samples whose label set satisfies ``keep``."""
        out = Profile(replace(self.meta, sources=list(self.meta.sources)))
        out.frames = list(self.frames)
        out._frame_ids = None
        # The entries kept share this profile's stacks. Label sets are interned in the
        # order their first kept entry comes, as adding the entries one by one did.
        s = self._samples
        label_sets = self.label_sets
        ok = [keep(labels) for labels in label_sets]
        new_lid = [-1] * len(label_sets)
        picked: list[int] = []
        lids: list[int] = []
        for i, lid in enumerate(s.lids):
            if ok[lid]:
                n = new_lid[lid]
                if n < 0:
                    n = new_lid[lid] = out.intern_labels(label_sets[lid])
                picked.append(i)
                lids.append(n)
        if len(picked) == len(s.weights):
            out._samples = s.with_entries(s.rows, lids, s.weights)
        else:
            rows, weights = s.rows, s.weights
            out._samples = s.with_entries(
                [rows[i] for i in picked], lids, [weights[i] for i in picked]
            )
        out.function_stats = dict(self.function_stats)
        out.call_edges = dict(self.call_edges)
        out.requests = dict(self.requests)
        return out

    def scaled(self, factor: float, unit: Unit) -> Profile:
        """A copy with every weight multiplied by ``factor`` and expressed in ``unit``."""
        out = self.filter(lambda _labels: True)
        s = out._samples
        out._samples = s.with_entries(s.rows, s.lids, [w * factor for w in s.weights])
        out.meta.unit = unit
        return out

    # -- pickling (partial profiles travel between Dask workers) ----------------------
    def __getstate__(self) -> tuple[object, ...]:
        """The tables without their reverse indexes (rebuilt on load: half the bytes)."""
        # Frames as plain tuples: pickling a slotted dataclass runs Python code per object
        # (a quarter of a second for 16,000 frames); tuples pickle in C.
        frames = [(f.name, f.file, f.line, f.first_line) for f in self.frames]
        return (
            frames,
            self.label_sets,
            self._samples,
            self.function_stats,
            self.call_edges,
            self.requests,
            self.meta,
        )

    def __setstate__(self, state: tuple[object, ...]) -> None:
        frames: list[tuple[str, str, int | None, int | None]]
        (
            frames,
            self.label_sets,
            self._samples,
            self.function_stats,
            self.call_edges,
            self.requests,
            self.meta,
        ) = state  # type: ignore[assignment]
        self.frames = [unchecked_frame(*f) for f in frames]  # checked when first made
        self._frame_ids = None  # intern_frame builds it from the frames when first needed
        self._label_ids = {ls: i for i, ls in enumerate(self.label_sets)}

    # -- merging ------------------------------------------------------------------------
    def __add__(self, other: Profile) -> Profile:
        return merge([self, other])

    def __repr__(self) -> str:
        return (
            f"<Profile unit={self.meta.unit} stacks={len(self.samples)} "
            f"functions={len(self.function_stats)} total={self.total:g}>"
        )


def _common_unit(profiles: Sequence[Profile]) -> list[Profile]:
    """Bring profiles to one unit: samples become seconds when their interval is known."""
    units = {p.meta.unit for p in profiles}
    if len(units) <= 1:
        return list(profiles)
    if units == {"samples", "seconds"}:
        out = []
        for p in profiles:
            if p.meta.unit == "samples":
                if p.meta.interval_s is None:
                    name = p.meta.sources[0].path if p.meta.sources else "a profile"
                    raise MergeError(
                        f"cannot merge {name} (samples, unknown sampling interval) with "
                        "profiles measured in seconds"
                    )
                p = p.scaled(p.meta.interval_s, "seconds")
            out.append(p)
        return out
    raise MergeError(f"cannot merge profiles with different units: {', '.join(sorted(units))}")


def merge(profiles: Sequence[Profile]) -> Profile:
    """Merge profiles into a new one (many workers or hosts into one view).

    Weights of identical stacks with identical labels add; call statistics add like
    ``pstats.Stats.add``; metadata keeps every source.
    """
    if not profiles:
        return Profile()
    if len(profiles) == 1:
        return profiles[0]
    stacked = [p for p in profiles if p.samples]
    stats_only = [p for p in profiles if not p.samples and p.function_stats]
    if stacked and stats_only:
        raise MergeError(
            "cannot merge call-count profiles (cProfile/pstats) with sampled stacks; "
            "analyse them separately"
        )
    profiles = _common_unit(profiles)
    first = profiles[0].meta
    meta = Metadata(unit=first.unit)
    out = Profile(meta)
    intervals = {p.meta.interval_s for p in profiles}
    meta.interval_s = intervals.pop() if len(intervals) == 1 else None
    durations = [p.meta.duration_s for p in profiles]
    meta.duration_s = (
        max(d for d in durations if d is not None)
        if any(d is not None for d in durations)
        else None
    )
    counts = [p.meta.sample_count for p in profiles]
    meta.sample_count = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    for n, p in enumerate(profiles):
        meta.sources.extend(p.meta.sources)
        meta.tools.update(p.meta.tools)
        for k, v in p.meta.attrs.items():
            meta.attrs.setdefault(k, v)
        if n == 0:
            # The first profile's ids stay valid: copy its tables whole (C-level copies).
            out.frames = list(p.frames)
            out._frame_ids = None  # built from frames if a later profile adds one
            out.label_sets = list(p.label_sets)
            out._label_ids = dict(p._label_ids)
            out._samples = p._samples.copy()
        else:
            fmap = [out.intern_frame(f) for f in p.frames]
            lmap = [out.intern_labels(ls) for ls in p.label_sets]
            remap = fmap.__getitem__
            add = out._samples.add
            for (stack, lid), w in p._samples.items():
                add(tuple(map(remap, stack)), w, lmap[lid])
        for key, st in p.function_stats.items():
            prev = out.function_stats.get(key)
            out.function_stats[key] = st if prev is None else prev + st
        for ekey, est in p.call_edges.items():
            eprev = out.call_edges.get(ekey)
            out.call_edges[ekey] = est if eprev is None else eprev + est
        for ep, rs in p.requests.items():
            rprev = out.requests.get(ep)
            out.requests[ep] = rs if rprev is None else rprev.merge(rs)
    return out


def _has_label(profile: Profile, key: str, value: str) -> bool:
    return any((key, value) in labels for labels in profile.label_sets)


def cpu_view(profile: Profile) -> Profile:
    """The samples that measure CPU use.

    A collector that can tell on-CPU time apart records each stack twice: once with
    ``measure=cpu`` (weights: CPU seconds really used) and once with ``measure=wall`` (every
    sample, idle included). Then this is the ``measure=cpu`` part; otherwise it is every
    sample not labelled ``state=idle``.
    """
    if _has_label(profile, MEASURE, CPU):
        return profile.filter(lambda labels: (MEASURE, CPU) in labels)
    if _has_label(profile, STATE, IDLE):
        return profile.filter(lambda labels: (STATE, IDLE) not in labels)
    return profile


def wall_view(profile: Profile) -> Profile:
    """The samples that measure wall time: ``measure=wall`` when recorded, else everything."""
    if _has_label(profile, MEASURE, WALL):
        return profile.filter(lambda labels: (MEASURE, WALL) in labels)
    if _has_label(profile, MEASURE, CPU):
        return profile.filter(lambda labels: (MEASURE, CPU) not in labels)
    return profile


def measure_view(profile: Profile, measure: str) -> Profile:
    """:func:`cpu_view` for ``"cpu"``, :func:`wall_view` for ``"wall"``: what a one-measure
    export (folded, speedscope, DOT) shows, so CPU and wall weights are never added."""
    if measure == CPU:
        return cpu_view(profile)
    if measure == WALL:
        return wall_view(profile)
    raise ValueError(f"unknown measure {measure!r} (expected {CPU!r} or {WALL!r})")

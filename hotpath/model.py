"""The one profile model every reader produces and every analysis reads.

A :class:`Profile` is flat: interned :class:`Frame` objects, stacks as tuples of frame ids
(root first), and a weight per (stack, label set). Call trees and call graphs are views built
from it by functions in :mod:`hotpath.analysis`; they are never stored here.

Deterministic profilers (cProfile) do not record stacks. Their exact per-function totals and
caller→callee edges live in :attr:`Profile.function_stats` and :attr:`Profile.call_edges`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


class Profile:
    """Weighted stacks with labels, plus exact call statistics where a profiler gives them.

    Readers build a profile with :meth:`intern_frame`, :meth:`intern_labels` and :meth:`add`;
    everything downstream treats it as read-only. ``a + b`` merges (new profile).
    """

    __slots__ = (
        "_frame_ids",
        "_label_ids",
        "call_edges",
        "frames",
        "function_stats",
        "label_sets",
        "meta",
        "requests",
        "samples",
    )

    def __init__(self, meta: Metadata | None = None) -> None:
        self.frames: list[Frame] = []
        self._frame_ids: dict[Frame, int] = {}
        self.label_sets: list[Labels] = [()]
        self._label_ids: dict[Labels, int] = {(): 0}
        self.samples: dict[tuple[Stack, int], float] = {}
        """(stack of frame ids root→leaf, label set id) -> weight in ``meta.unit``."""
        self.function_stats: dict[FunctionKey, FunctionStats] = {}
        self.call_edges: dict[tuple[FunctionKey, FunctionKey], EdgeStats] = {}
        self.requests: dict[str, RequestStats] = {}
        """Endpoint -> request statistics (middleware recordings)."""
        self.meta = meta if meta is not None else Metadata()

    # -- building -----------------------------------------------------------------------
    def intern_frame(self, frame: Frame) -> int:
        fid = self._frame_ids.get(frame)
        if fid is None:
            fid = len(self.frames)
            self.frames.append(frame)
            self._frame_ids[frame] = fid
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
        key = (stack, labels)
        samples = self.samples
        samples[key] = samples.get(key, 0) + weight

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
        at = remap.__getitem__
        samples: dict[tuple[Stack, int], float] = {}
        for (stack, lid), w in self.samples.items():
            key = (tuple(map(at, stack)), lid)
            samples[key] = samples.get(key, 0) + w
        self.samples = samples

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
        out._frame_ids = dict(self._frame_ids)
        kept = {lid for lid, labels in enumerate(self.label_sets) if keep(labels)}
        for (stack, lid), w in self.samples.items():
            if lid in kept:
                out.add(stack, w, out.intern_labels(self.label_sets[lid]))
        out.function_stats = dict(self.function_stats)
        out.call_edges = dict(self.call_edges)
        out.requests = dict(self.requests)
        return out

    def scaled(self, factor: float, unit: Unit) -> Profile:
        """A copy with every weight multiplied by ``factor`` and expressed in ``unit``."""
        out = self.filter(lambda _labels: True)
        out.samples = {k: w * factor for k, w in out.samples.items()}
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
            self.samples,
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
            self.samples,
            self.function_stats,
            self.call_edges,
            self.requests,
            self.meta,
        ) = state  # type: ignore[assignment]
        self.frames = [unchecked_frame(*f) for f in frames]  # checked when first made
        self._frame_ids = {f: i for i, f in enumerate(self.frames)}
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
            out._frame_ids = dict(p._frame_ids)
            out.label_sets = list(p.label_sets)
            out._label_ids = dict(p._label_ids)
            out.samples = dict(p.samples)
        else:
            fmap = [out.intern_frame(f) for f in p.frames]
            lmap = [out.intern_labels(ls) for ls in p.label_sets]
            remap = fmap.__getitem__
            samples = out.samples
            for (stack, lid), w in p.samples.items():
                skey = (tuple(map(remap, stack)), lmap[lid])
                samples[skey] = samples.get(skey, 0) + w
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

"""pprof: gzip-compressed ``perftools.profiles.Profile`` protobuf (go tool pprof, Pyroscope, Parca).

Encoded and decoded with the ``protobuf`` package and classes generated from the schema in
``pprof_proto/profile.proto`` (never a hand-written encoder). Writing: one Function per
function, one Location per (function, line), samples leaf first, every label kept as a
string label. Sample types (see :func:`columns`): ``samples/count`` for sampled profiles,
``cpu/nanoseconds`` (idle samples left out) and ``wall/nanoseconds`` (everything) when idle
time was recorded; a profile holding ``measure=cpu`` and ``measure=wall`` copies of its
stacks is written as one sample per stack with a ``cpu`` and a ``wall`` value, never their
sum. Reading takes ``cpu`` and ``wall`` time columns back as those two measures; otherwise
the default sample type (else a ``count`` one, else the last). Time units are those of
google/pprof (``ns``, ``us``, ``µs``, ``ms``, ``s`` and the long names). Inlined lines
expand into frames; string and numeric labels become labels.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, BinaryIO, NamedTuple

from hotpath.errors import ProfileParseError, UsageError
from hotpath.formats.spec import FormatSpec
from hotpath.model import (
    ACTIVE,
    CPU,
    IDLE,
    MEASURE,
    STATE,
    WALL,
    Frame,
    FunctionKey,
    Labels,
    Metadata,
    Profile,
    Stack,
    Unit,
)

_TIME_UNITS = {
    # google/pprof's measurement table: long names, abbreviations, both micro signs.
    **dict.fromkeys(("nanoseconds", "nanosecond", "ns"), 1e-9),
    **dict.fromkeys(("microseconds", "microsecond", "us", "\u00b5s", "\u03bcs"), 1e-6),
    **dict.fromkeys(("milliseconds", "millisecond", "ms"), 1e-3),
    **dict.fromkeys(("seconds", "second", "s", "sec"), 1.0),
    **dict.fromkeys(("minutes", "minute", "m"), 60.0),
    **dict.fromkeys(("hours", "hour", "h"), 3600.0),
}


class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = [""]
        self.ids: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.table)
            self.table.append(s)
        return i


if TYPE_CHECKING:
    from hotpath.formats.pprof_proto import profile_pb2 as pb


def _new_profile() -> pb.Profile:
    """An empty ``perftools.profiles.Profile``; the generated module (and protobuf, 15 ms and
    9 MiB) is imported on first use, not at every start of hotpath."""
    from hotpath.formats.pprof_proto import profile_pb2

    msg: pb.Profile = profile_pb2.Profile()
    return msg


class _Column(NamedTuple):
    """One sample type: its name and unit, the factor from the model's weights, and which
    label sets it counts (a CPU column leaves idle and wall-clock samples out)."""

    type: str
    unit: str
    factor: float
    counts: Callable[[Labels], bool]


def _every(_labels: Labels) -> bool:
    return True


def _is_measure(measure: str) -> Callable[[Labels], bool]:
    return lambda labels: (MEASURE, measure) in labels


def _not_idle(labels: Labels) -> bool:
    return (STATE, IDLE) not in labels


def columns(profile: Profile) -> list[_Column]:
    """The sample types a profile is written with, the default (CPU) first.

    A profile holding ``measure=cpu`` and ``measure=wall`` copies of its stacks gets one
    ``cpu`` and one ``wall`` column, each counting only its own copies; a profile with idle
    samples gets a ``wall`` column beside a ``cpu`` column that leaves them out. Time is in
    nanoseconds; samples also as ``samples/count``.
    """
    meta = profile.meta
    labels_seen = {kv for ls in profile.label_sets for kv in ls}
    interval = meta.interval_s or 0.0
    if meta.unit == "bytes":
        return [_Column("space", "bytes", 1.0, _every)]
    per_ns = 1e9 if meta.unit == "seconds" else interval * 1e9
    if (MEASURE, CPU) in labels_seen or (MEASURE, WALL) in labels_seen:
        if per_ns:
            return [
                _Column("cpu", "nanoseconds", per_ns, _is_measure(CPU)),
                _Column("wall", "nanoseconds", per_ns, _is_measure(WALL)),
            ]
        return [
            _Column("cpu", "count", 1.0, _is_measure(CPU)),
            _Column("wall", "count", 1.0, _is_measure(WALL)),
        ]
    idle = (STATE, IDLE) in labels_seen
    out = [_Column("samples", "count", 1.0, _every)] if meta.unit == "samples" else []
    if per_ns:
        out.append(_Column("cpu", "nanoseconds", per_ns, _not_idle if idle else _every))
        if idle:
            out.append(_Column("wall", "nanoseconds", per_ns, _every))
    return out


def to_proto(profile: Profile) -> pb.Profile:
    """Build the protobuf message of a profile with stacks."""
    if not profile.samples and profile.function_stats:
        raise UsageError(
            "pprof needs stacks; this profile has call statistics only (cProfile/pstats)"
        )
    st = _Strings()
    out = _new_profile()
    meta = profile.meta
    interval_ns = round(meta.interval_s * 1e9) if meta.interval_s else 0
    cols = columns(profile)
    for col in cols:
        out.sample_type.add(type=st(col.type), unit=st(col.unit))
    out.default_sample_type = out.sample_type[0].type
    if interval_ns:
        out.period_type.type = st("cpu")
        out.period_type.unit = st("nanoseconds")
        out.period = interval_ns
    if meta.duration_s:
        out.duration_nanos = round(meta.duration_s * 1e9)
    # One Function per function: frames of one function at other lines share its def line.
    first_of: dict[FunctionKey, int | None] = {}
    for fr in profile.frames:
        if first_of.get(fr.function) is None:
            first_of[fr.function] = fr.first_line
    fn_of_key: dict[FunctionKey, int] = {}
    for fkey, first in first_of.items():
        fid = fn_of_key[fkey] = len(fn_of_key) + 1
        out.function.add(
            id=fid,
            name=st(fkey.name),
            system_name=st(fkey.name),
            filename=st(fkey.file),
            start_line=first or 0,
        )
    loc_ids: dict[tuple[int, int], int] = {}
    loc_of_frame: list[int] = []
    for fr in profile.frames:
        lk = (fn_of_key[fr.function], fr.line or 0)
        lid = loc_ids.get(lk)
        if lid is None:
            lid = loc_ids[lk] = len(loc_ids) + 1
            loc = out.location.add(id=lid)
            loc.line.add(function_id=lk[0], line=lk[1])
        loc_of_frame.append(lid)
    # The measure label says which column a weight goes to; the rest stay labels. A stack's
    # CPU and wall copies become one sample: state=active (implied where a stack has CPU
    # time) would keep them apart.
    measured = any(c.type == WALL for c in cols) and any(
        k == MEASURE for ls in profile.label_sets for k, _v in ls
    )
    drop = {(STATE, ACTIVE)} if measured else set()
    kept = [
        tuple(kv for kv in ls if kv[0] != MEASURE and kv not in drop) for ls in profile.label_sets
    ]
    wanted = [[col.counts(ls) for col in cols] for ls in profile.label_sets]
    rows: dict[tuple[Stack, Labels], list[float]] = {}
    for (stack, lid), w in profile.samples.items():
        rkey = (stack, kept[lid])
        row = rows.get(rkey)
        if row is None:
            row = rows[rkey] = [0.0] * len(cols)
        for i, col in enumerate(cols):
            if wanted[lid][i]:
                row[i] += w * col.factor
    for (stack, labels), values in rows.items():
        sample = out.sample.add()
        sample.location_id.extend(loc_of_frame[f] for f in reversed(stack))
        sample.value.extend(round(v) for v in values)
        for k, v in labels:
            sample.label.add(key=st(k), str=st(v))
    for src in meta.sources:
        out.comment.append(st(f"hotpath: from {src.path} ({src.format})"))
    out.string_table.extend(st.table)
    return out


def write(profile: Profile, stream: IO[bytes]) -> None:
    data = to_proto(profile).SerializeToString()
    # mtime=0: the same profile gives the same bytes (reproducible files, stable tests).
    stream.write(gzip.compress(data, compresslevel=6, mtime=0))


def _pick_values(
    msg: pb.Profile, s: Callable[[int, str], str]
) -> tuple[list[tuple[int, float, dict[str, str]]], Unit]:
    """Which sample values to read: (index, factor to the model's unit, extra labels) each,
    and the unit. ``cpu`` and ``wall`` time columns (as hotpath writes them) are both read,
    as ``measure=cpu`` and ``measure=wall`` samples; otherwise the default sample type (else
    a ``count`` one, else the last)."""
    types = [(s(t.type, "sample type"), s(t.unit, "sample unit")) for t in msg.sample_type]
    timed = {t: i for i, (t, u) in enumerate(types) if u in _TIME_UNITS}
    if CPU in timed and WALL in timed:
        return [
            (timed[m], _TIME_UNITS[types[timed[m]][1]], {MEASURE: m}) for m in (CPU, WALL)
        ], "seconds"
    index = len(types) - 1
    if msg.default_sample_type:
        wanted = s(msg.default_sample_type, "default sample type")
        index = next((i for i, (t, _u) in enumerate(types) if t == wanted), index)
    else:
        index = next((i for i, (t, u) in enumerate(types) if u == "count"), index)
    unit = types[index][1]
    if unit in _TIME_UNITS:
        return [(index, _TIME_UNITS[unit], {})], "seconds"
    if unit == "bytes":
        return [(index, 1.0, {})], "bytes"
    return [(index, 1.0, {})], "samples"


def from_proto(msg: pb.Profile, path: str) -> Profile:
    strings = list(msg.string_table)
    n = len(strings)

    def s(i: int, what: str) -> str:
        if not 0 <= i < n:
            raise ProfileParseError(path, f"{what} refers to string {i}; table has {n}")
        return strings[i]

    if not msg.sample_type:
        raise ProfileParseError(path, "pprof profile has no sample_type")
    picks, unit = _pick_values(msg, s)
    meta = Metadata(unit=unit)
    if msg.period and msg.period_type.unit and s(msg.period_type.unit, "period") in _TIME_UNITS:
        meta.interval_s = msg.period * _TIME_UNITS[strings[msg.period_type.unit]]
    if msg.duration_nanos:
        meta.duration_s = msg.duration_nanos / 1e9
    profile = Profile(meta)
    functions = {
        f.id: (s(f.name, "function name"), s(f.filename, "file name"), f.start_line or None)
        for f in msg.function
    }
    loc_frames: dict[int, tuple[int, ...]] = {}
    for loc in msg.location:
        frames = []
        for line in reversed(loc.line):  # caller last in pprof; root first here
            fn = functions.get(line.function_id)
            if fn is None:
                raise ProfileParseError(path, f"location {loc.id}: no function {line.function_id}")
            frames.append(Frame(fn[0], fn[1], line.line or None, fn[2]))
        if not frames:
            frames.append(Frame(f"0x{loc.address:x}"))
        loc_frames[loc.id] = tuple(profile.intern_frame(f) for f in frames)
    count = 0
    need = max(i for i, _f, _l in picks)
    for sample in msg.sample:
        if need >= len(sample.value):
            raise ProfileParseError(path, "a sample has fewer values than sample types")
        stack: list[int] = []
        for lid in reversed(sample.location_id):
            ids = loc_frames.get(lid)
            if ids is None:
                raise ProfileParseError(path, f"a sample refers to missing location {lid}")
            stack.extend(ids)
        labels = {
            s(lb.key, "label"): s(lb.str, "label") if lb.str else str(lb.num) for lb in sample.label
        }
        for index, factor, extra in picks:
            v = sample.value[index]
            if v < 0:
                raise ProfileParseError(path, f"negative sample value {v}")
            if extra and not v:
                continue  # a stack with no CPU time still has its wall time, and vice versa
            count += v
            lid = profile.intern_labels({**labels, **extra} if extra else labels)
            profile.add(tuple(stack), v * factor, lid)
    if unit == "samples":
        meta.sample_count = count
    return profile


def read(stream: BinaryIO, path: str) -> Profile:
    from google.protobuf.message import DecodeError

    msg = _new_profile()
    try:
        msg.ParseFromString(stream.read())
    except DecodeError as exc:
        raise ProfileParseError(path, f"not a valid pprof protobuf: {exc}") from exc
    return from_proto(msg, path)


def sniff(head: bytes) -> bool:
    """Profile messages start with sample_type (field 1) holding a ValueType (field 1 or 2)."""
    if len(head) < 3 or head[0] != 0x0A:
        return False
    i, length, shift = 1, 0, 0
    while i < len(head) and i < 6:
        b = head[i]
        length |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            break
    return 0 < length < 64 and i < len(head) and head[i] in (0x08, 0x10)


SPEC = FormatSpec(
    name="pprof",
    description="pprof profile.proto (gzip), as read by go tool pprof, Pyroscope and Parca",
    extensions=(".pprof", ".pb", ".pb.gz", ".pprof.gz"),
    sniff=sniff,
    read=read,
    write=write,
    binary=True,
)

"""pprof: gzip-compressed ``perftools.profiles.Profile`` protobuf (go tool pprof, Pyroscope, Parca).

Encoded and decoded with the ``protobuf`` package and classes generated from the schema in
``pprof_proto/profile.proto`` (never a hand-written encoder). Writing: one Function per
(name, file), one Location per (function, line), samples leaf first, every label kept as a
string label. Weights in samples are written as ``samples/count`` (plus ``cpu/nanoseconds``
when the sampling interval is known); weights in seconds as ``cpu/nanoseconds``.
Reading takes the default sample type (else a ``samples/count`` one, else the last), expands
inlined lines into frames, and turns string and numeric labels into labels.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, BinaryIO

from hotpath.errors import ProfileParseError, UsageError
from hotpath.formats.spec import FormatSpec
from hotpath.model import Frame, FunctionKey, Metadata, Profile, Unit

_TIME_UNITS = {"nanoseconds": 1e-9, "microseconds": 1e-6, "milliseconds": 1e-3, "seconds": 1.0}


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
    if meta.unit == "samples":
        types = [("samples", "count", 1.0)]
        if interval_ns:
            types.append(("cpu", "nanoseconds", float(interval_ns)))
    elif meta.unit == "seconds":
        types = [("cpu", "nanoseconds", 1e9)]
    else:
        types = [("space", "bytes", 1.0)]
    for name, unit, _f in types:
        out.sample_type.add(type=st(name), unit=st(unit))
    out.default_sample_type = out.sample_type[0].type
    if interval_ns:
        out.period_type.type = st("cpu")
        out.period_type.unit = st("nanoseconds")
        out.period = interval_ns
    if meta.duration_s:
        out.duration_nanos = round(meta.duration_s * 1e9)
    fn_ids: dict[FunctionKey, int] = {}
    first_lines: dict[FunctionKey, int | None] = {}
    for fr in profile.frames:
        key = fr.function
        if key not in fn_ids:
            fn_ids[key] = len(fn_ids) + 1
            first_lines[key] = fr.first_line
        elif first_lines[key] is None:
            first_lines[key] = fr.first_line
    for key, fid in fn_ids.items():
        out.function.add(
            id=fid,
            name=st(key.name),
            system_name=st(key.name),
            filename=st(key.file),
            start_line=first_lines[key] or 0,
        )
    loc_ids: dict[tuple[int, int], int] = {}
    loc_of_frame: list[int] = []
    for fr in profile.frames:
        lk = (fn_ids[fr.function], fr.line or 0)
        lid = loc_ids.get(lk)
        if lid is None:
            lid = loc_ids[lk] = len(loc_ids) + 1
            loc = out.location.add(id=lid)
            loc.line.add(function_id=lk[0], line=lk[1])
        loc_of_frame.append(lid)
    label_msgs = [[(st(k), st(v)) for k, v in labels] for labels in profile.label_sets]
    for (stack, lid), w in profile.samples.items():
        sample = out.sample.add()
        sample.location_id.extend(loc_of_frame[f] for f in reversed(stack))
        sample.value.extend(round(w * factor) for _n, _u, factor in types)
        for k, v in label_msgs[lid]:
            sample.label.add(key=k, str=v)
    for src in meta.sources:
        out.comment.append(st(f"hotpath: from {src.path} ({src.format})"))
    out.string_table.extend(st.table)
    return out


def write(profile: Profile, stream: IO[bytes]) -> None:
    data = to_proto(profile).SerializeToString()
    # mtime=0: the same profile gives the same bytes (reproducible files, stable tests).
    stream.write(gzip.compress(data, compresslevel=6, mtime=0))


def _pick_value(msg: pb.Profile, s: Callable[[int, str], str]) -> tuple[int, Unit, float]:
    """Index of the sample value to read, its unit in the model, and the factor to it."""
    types = [(s(t.type, "sample type"), s(t.unit, "sample unit")) for t in msg.sample_type]
    index = len(types) - 1
    if msg.default_sample_type:
        wanted = s(msg.default_sample_type, "default sample type")
        index = next((i for i, (t, _u) in enumerate(types) if t == wanted), index)
    else:
        index = next((i for i, (t, u) in enumerate(types) if u == "count"), index)
    unit = types[index][1]
    if unit == "count" or unit == "":
        return index, "samples", 1.0
    if unit in _TIME_UNITS:
        return index, "seconds", _TIME_UNITS[unit]
    if unit == "bytes":
        return index, "bytes", 1.0
    return index, "samples", 1.0


def from_proto(msg: pb.Profile, path: str) -> Profile:
    strings = list(msg.string_table)
    n = len(strings)

    def s(i: int, what: str) -> str:
        if not 0 <= i < n:
            raise ProfileParseError(path, f"{what} refers to string {i}; table has {n}")
        return strings[i]

    if not msg.sample_type:
        raise ProfileParseError(path, "pprof profile has no sample_type")
    index, unit, factor = _pick_value(msg, s)
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
    for sample in msg.sample:
        if index >= len(sample.value):
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
        v = sample.value[index]
        count += v
        profile.add(tuple(stack), v * factor, profile.intern_labels(labels))
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

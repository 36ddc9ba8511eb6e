"""speedscope JSON (https://www.speedscope.app/file-format-schema.json).

A file holds shared frames and several profiles, each *sampled* (stacks root first, one
weight each; py-spy writes one per thread) or *evented* (open/close events on a timeline;
pyinstrument writes these). Each profile's ``name`` becomes the ``thread`` label. Time units
are normalised to seconds, ``none`` becomes samples, ``bytes`` stays bytes.

A frame's ``line`` is the sampled line for py-spy, but the ``def`` line for pyinstrument
(told apart by the file's ``exporter``). hotpath's writer adds keys speedscope ignores:
``firstLine`` on frames, ``hotpathLabels`` on profiles and ``hotpathMeta`` (interval,
duration, sample count, tools) on the file, so its own files read back whole.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import IO, Any, BinaryIO, NoReturn

from hotpath.errors import ProfileParseError, UsageError
from hotpath.formats.jsondoc import dump_json, load_json
from hotpath.formats.spec import FormatSpec
from hotpath.formats.speedscope_stream import Originals, load_streamed
from hotpath.model import CPU, THREAD, Frame, Labels, Metadata, Profile, Stack, Unit, measure_view

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
_TIME_FACTORS = {"nanoseconds": 1e-9, "microseconds": 1e-6, "milliseconds": 1e-3, "seconds": 1.0}
_UNIT_OF: dict[str, Unit] = {**dict.fromkeys(_TIME_FACTORS, "seconds"), "none": "samples"}
_UNIT_OF["bytes"] = "bytes"
_UNIT_NAME: dict[str, str] = {"seconds": "seconds", "samples": "none", "bytes": "bytes"}


def _hashable(x: object) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _is_number(v: object) -> bool:
    return _number(v) is not None


def _number(v: object) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _index(v: object) -> int | None:
    """A JSON number that is an integer (speedscope types indices and lines as number)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


class _Reader:
    """State for reading one speedscope document: frames resolved lazily, errors with place."""

    def __init__(self, doc: dict[str, Any], path: str) -> None:
        self.path = path
        self.profile = Profile(Metadata())
        frames = doc["shared"].get("frames")
        if not isinstance(frames, list):
            self.fail("shared.frames must be a list")
        self.raw_frames: list[Any] = frames
        exporter = doc.get("exporter")
        self.exporter = exporter if isinstance(exporter, str) else ""
        # pyinstrument writes the def line as `line`; py-spy the sampled line.
        self.line_is_def = self.exporter.startswith("pyinstrument")
        self.fids: dict[int, int] = {}
        self.stacks: dict[tuple[Any, ...], Stack] = {}

    def fail(self, reason: str) -> NoReturn:
        raise ProfileParseError(self.path, reason)

    def fid(self, index: object, where: str) -> int:
        i = _index(index)
        if i is None or not 0 <= i < len(self.raw_frames):
            self.fail(
                f"{where}: frame index {index!r} out of range "
                f"(shared.frames has {len(self.raw_frames)} frames)"
            )
        fid = self.fids.get(i)
        if fid is None:
            fid = self.profile.intern_frame(self.frame(i))
            self.fids[i] = fid
        return fid

    def frame(self, i: int) -> Frame:
        raw = self.raw_frames[i]
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            self.fail(f"shared.frames[{i}]: expected an object with a string 'name'")
        file = raw.get("file")
        file = file if isinstance(file, str) else ""
        line = _index(raw.get("line"))
        first = _index(raw.get("firstLine"))
        if self.line_is_def:
            line, first = None, line
        return Frame(raw["name"], file, line, first)

    def stack(self, key: tuple[Any, ...], where: str) -> Stack:
        stack = self.stacks.get(key)
        if stack is None:
            stack = tuple([self.fid(i, where) for i in key])
            self.stacks[key] = stack
        return stack

    def sampled(self, p: dict[str, Any], where: str, factor: float, lid: int) -> int:
        samples, weights = p.get("samples"), p.get("weights")
        if not isinstance(samples, list) or not isinstance(weights, list):
            self.fail(f"{where}: a sampled profile needs 'samples' and 'weights' lists")
        if len(samples) != len(weights):
            self.fail(f"{where}: {len(samples)} samples but {len(weights)} weights (must be equal)")
        self.check_weights(weights, where)
        # Hot loop (py-spy files hold one entry per sample): sum weights per distinct sample
        # first, then validate and intern each distinct stack once.
        acc: dict[tuple[Any, ...], float] = {}
        if not all(type(sample) is list for sample in samples):
            j = next(j for j, s in enumerate(samples) if type(s) is not list)
            self.fail(f"{where}.samples[{j}]: a sample must be a list of frame indices")
        distinct = set(weights)
        try:
            if len(distinct) == 1:  # py-spy: every sample weighs 1/rate; count at C speed
                w0 = distinct.pop()
                acc = {key: n * w0 for key, n in Counter(map(tuple, samples)).items()}
            else:
                get = acc.get
                for sample, w in zip(samples, weights, strict=True):
                    key = tuple(sample)
                    acc[key] = get(key, 0) + w
        except TypeError:  # a list or object inside a sample: unhashable
            j = next(j for j, s in enumerate(samples) if not all(_hashable(i) for i in s))
            self.fail(f"{where}.samples[{j}]: a sample must be a list of frame indices")
        add = self.profile.add
        for key, w in acc.items():
            add(self.stack(key, f"{where}.samples"), w * factor, lid)
        return len(samples)

    def check_weights(self, weights: list[Any], where: str) -> None:
        """Every weight a finite non-negative number (checked at C speed, then located)."""
        try:
            ok = math.isfinite(math.fsum(weights)) and (not weights or min(weights) >= 0)
        except TypeError:
            ok = False
        if not ok:
            j, w = next((j, w) for j, w in enumerate(weights) if not _is_number(w) or w < 0)
            self.fail(f"{where}.weights[{j}]: {w!r} is not a non-negative number")

    def evented(self, p: dict[str, Any], where: str, factor: float, lid: int) -> None:
        events = p.get("events")
        if not isinstance(events, list):
            self.fail(f"{where}: an evented profile needs an 'events' list")
        open_ids: list[int] = []  # indices into shared.frames
        open_fids: list[int] = []
        last = p.get("startValue") if _is_number(p.get("startValue")) else None
        add = self.profile.add
        for j, ev in enumerate(events):
            at_where = f"{where}.events[{j}]"
            if not isinstance(ev, dict) or ev.get("type") not in ("O", "C"):
                self.fail(f"{at_where}: expected an event with type 'O' or 'C'")
            at = ev.get("at")
            if not _is_number(at):
                self.fail(f"{at_where}: 'at' must be a number")
            if last is not None and at < last:
                self.fail(f"{at_where}: event at {at} is earlier than the one before ({last})")
            if open_fids and last is not None and at > last:
                add(tuple(open_fids), (at - last) * factor, lid)
            last = at
            fid = self.fid(ev.get("frame"), at_where)
            index = _index(ev.get("frame"))
            if ev["type"] == "O":
                open_ids.append(index)  # type: ignore[arg-type]
                open_fids.append(fid)
            elif not open_ids or open_ids[-1] != index:
                top = open_ids[-1] if open_ids else None
                self.fail(
                    f"{at_where}: close of frame {index} out of order "
                    f"(the innermost open frame is {top})"
                )
            else:
                open_ids.pop()
                open_fids.pop()
        if open_ids:
            self.fail(f"{where}: frame {open_ids[-1]} opened but never closed")


def _labels_of(p: dict[str, Any]) -> dict[str, str]:
    labels = p.get("hotpathLabels")
    if isinstance(labels, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        return labels
    name = p.get("name")
    return {THREAD: name} if isinstance(name, str) and name else {}


def from_document(doc: object, path: str) -> Profile:
    """Build a profile from a parsed speedscope document (validating it on the way)."""
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("shared"), dict)
        or not isinstance(doc.get("profiles"), list)
    ):
        raise ProfileParseError(
            path, "not a speedscope file: expected an object with 'shared' and 'profiles'"
        )
    r = _Reader(doc, path)
    units: set[Unit] = set()
    weights_seen: set[float] = set()
    sample_count: int | None = 0
    duration: float | None = None
    for k, p in enumerate(doc["profiles"]):
        where = f"profiles[{k}]"
        if not isinstance(p, dict):
            r.fail(f"{where}: expected an object")
        unit_name = p.get("unit")
        if not isinstance(unit_name, str) or unit_name not in _UNIT_OF:
            r.fail(f"{where}: unknown unit {unit_name!r} (expected one of {sorted(_UNIT_OF)})")
        units.add(_UNIT_OF[unit_name])
        factor = _TIME_FACTORS.get(unit_name, 1.0)
        lid = r.profile.intern_labels(_labels_of(p))
        kind = p.get("type")
        if kind == "sampled":
            n: int | None = r.sampled(p, where, factor, lid)
            distinct = set(p["weights"])
            if len(distinct) > 1:  # aggregated stacks: entries are not samples
                integral = unit_name == "none" and all(float(w).is_integer() for w in distinct)
                n = int(math.fsum(p["weights"])) if integral else None
            sample_count = None if sample_count is None or n is None else sample_count + n
            weights_seen.update(w * factor for w in distinct)
        elif kind == "evented":
            r.evented(p, where, factor, lid)
            sample_count = None
        else:
            r.fail(f"{where}: unknown profile type {kind!r} (expected 'sampled' or 'evented')")
        start, end = _number(p.get("startValue")), _number(p.get("endValue"))
        # Only an evented profile's range is a timeline; py-spy sets a sampled profile's
        # endValue to that thread's summed weights, which is not the recording's duration.
        timed = kind == "evented" and unit_name in _TIME_FACTORS
        if timed and start is not None and end is not None:
            duration = max(duration or 0.0, (end - start) * factor)
    if len(units) > 1:
        r.fail(f"profiles mix units that cannot be added: {', '.join(sorted(units))}")
    if not r.profile.samples:
        r.fail("no samples in any profile (empty profile)")
    meta = r.profile.meta
    meta.unit = units.pop()
    meta.sample_count = sample_count
    meta.duration_s = duration
    if meta.unit == "seconds" and sample_count and len(weights_seen) == 1:
        meta.interval_s = weights_seen.pop()  # py-spy: every sample weighs 1/rate seconds
    if r.exporter:
        tool, _, version = r.exporter.partition("@")
        meta.tools[tool] = version
    if isinstance(doc.get("name"), str):
        meta.attrs["name"] = doc["name"]
    _read_hotpath_meta(doc.get("hotpathMeta"), meta)
    return r.profile


def _read_hotpath_meta(extra: object, meta: Metadata) -> None:
    """Metadata hotpath's writer keeps in an extra key (speedscope ignores it)."""
    if not isinstance(extra, dict):
        return
    for key in ("interval_s", "duration_s"):
        if key in extra:
            setattr(meta, key, _number(extra[key]))
    count = extra.get("sample_count", meta.sample_count)
    meta.sample_count = count if type(count) is int else None
    for key in ("tools", "attrs"):
        values = extra.get(key)
        if isinstance(values, dict):
            getattr(meta, key).update(
                {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, str)}
            )


def _write_hotpath_meta(meta: Metadata) -> dict[str, Any]:
    return {
        "interval_s": meta.interval_s,
        "duration_s": meta.duration_s,
        "sample_count": meta.sample_count,
        "tools": meta.tools,
        "attrs": meta.attrs,
    }


def read(stream: BinaryIO, path: str) -> Profile:
    """Read a speedscope file, streaming its samples and weights (a 320 MB py-spy file
    parsed whole took 3.9 GiB; see :mod:`hotpath.formats.speedscope_stream`)."""
    start = stream.tell() if stream.seekable() else None
    try:
        doc, originals = load_streamed(stream, path)
    except ProfileParseError:
        if start is None:
            raise
        # Odd or invalid: the whole-document reader gives the exact error (or copes).
        stream.seek(start)
        return from_document(load_json(stream, path), path)
    profile = from_document(doc, path)
    if isinstance(doc, dict) and "hotpathMeta" not in doc:
        _fix_meta(profile, doc, originals)
    return profile


def _fix_meta(profile: Profile, doc: dict[str, Any], originals: Originals) -> None:
    """Sample count and interval as the whole-document reader computes them."""
    sample_count: int | None = 0
    weights_seen: set[float] = set()
    for k, p in enumerate(doc["profiles"]):
        if k not in originals:
            sample_count = None  # evented: not samples
            continue
        count, distinct = originals[k]
        n: int | None = count
        unit_name = p.get("unit")
        if len(distinct) > 1:  # aggregated stacks: entries are not samples
            integral = unit_name == "none" and all(float(w).is_integer() for w in distinct)
            n = int(math.fsum(p["weights"])) if integral else None
        sample_count = None if sample_count is None or n is None else sample_count + n
        factor = _TIME_FACTORS.get(unit_name, 1.0) if isinstance(unit_name, str) else 1.0
        weights_seen.update(w * factor for w in distinct)
    meta = profile.meta
    meta.sample_count = sample_count
    meta.interval_s = None
    if meta.unit == "seconds" and sample_count and len(weights_seen) == 1:
        meta.interval_s = weights_seen.pop()


def _is_plain_thread(labels: Labels) -> bool:
    """Labels that are just a (non-empty) thread name, which the profile name carries."""
    return len(labels) == 1 and labels[0][0] == THREAD and bool(labels[0][1])


def _profile_name(labels: Labels) -> str:
    if _is_plain_thread(labels):
        return labels[0][1]
    return ", ".join(f"{k}={v}" for k, v in labels) or "all samples"


def _frame_json(f: Frame) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name}
    if f.file:
        out["file"] = f.file
    if f.line is not None:
        out["line"] = f.line
    if f.first_line is not None:
        out["firstLine"] = f.first_line
    return out


def to_document(profile: Profile, measure: str = CPU) -> dict[str, Any]:
    """The speedscope document of one measure of a profile (CPU by default, ``"wall"``:
    see :func:`~hotpath.model.measure_view`): one sampled profile per label set."""
    if not profile.samples and profile.function_stats:
        raise UsageError(
            "this profile has call statistics (cProfile/pstats) but no stacks; "
            "it cannot be written as speedscope"
        )
    profile = measure_view(profile, measure)
    from hotpath._version import __version__

    index: dict[int, int] = {}
    shared: list[dict[str, Any]] = []
    by_labels: dict[int, tuple[list[list[int]], list[float]]] = {}
    for (stack, lid), w in profile.samples.items():
        sample = []
        for fid in stack:
            i = index.get(fid)
            if i is None:
                i = index[fid] = len(shared)
                shared.append(_frame_json(profile.frames[fid]))
            sample.append(i)
        samples, weights = by_labels.setdefault(lid, ([], []))
        samples.append(sample)
        weights.append(w)
    unit = _UNIT_NAME[profile.meta.unit]
    profiles = []
    for lid, (samples, weights) in sorted(by_labels.items()):
        labels = profile.label_sets[lid]
        entry: dict[str, Any] = {
            "type": "sampled",
            "name": _profile_name(labels),
            "unit": unit,
            "startValue": 0,
            "endValue": sum(weights),
            "samples": samples,
            "weights": weights,
        }
        if not _is_plain_thread(labels):
            entry["hotpathLabels"] = dict(labels)
        profiles.append(entry)
    return {
        "$schema": SCHEMA_URL,
        "name": profile.meta.attrs.get("name", "hotpath profile"),
        "activeProfileIndex": 0,
        "exporter": f"hotpath@{__version__}",
        "shared": {"frames": shared},
        "profiles": profiles,
        "hotpathMeta": _write_hotpath_meta(profile.meta),
    }


def write(profile: Profile, stream: IO[bytes], measure: str = CPU) -> None:
    """Write the speedscope JSON of one measure of ``profile`` (see :func:`to_document`)."""
    stream.write(dump_json(to_document(profile, measure)))
    stream.write(b"\n")


def sniff(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    if b"speedscope.app/file-format-schema" in text:
        return True
    return b'"profiles"' in text and b'"shared"' in text


SPEC = FormatSpec(
    name="speedscope",
    description="speedscope JSON: py-spy -f speedscope, pyinstrument -r speedscope",
    extensions=(".speedscope.json", ".speedscope", ".json"),
    sniff=sniff,
    read=read,
    write=write,
)

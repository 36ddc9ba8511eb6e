"""hotpath's own profile file: gzip-compressed JSON, ``"format": "hotpath.profile/1"``.

It keeps everything the model holds, so nothing a collector saw is lost: interned frames
(name, file, line, first line), label sets, weighted stacks, exact call statistics, request
statistics per endpoint, and metadata. Layout (documented in docs/formats.md)::

    {"format": "hotpath.profile/1",
     "meta": {"unit", "interval_s", "duration_s", "sample_count", "tools", "attrs", "sources"},
     "frames": [[name, file, line|null, first_line|null], ...],
     "labels": [[[key, value], ...], ...],          # label set 0 is always []
     "samples": [[[frame ids root→leaf], label set id, weight], ...],
     "function_stats": [[name, file, self, inclusive, calls, primitive_calls, first_line]],
     "call_edges": [[caller name, caller file, callee name, callee file, self, inclusive, calls]],
     "requests": {endpoint: {"count", "wall_s", "cpu_s", "status": {}, "latency_ms": {}}}}
"""

from __future__ import annotations

import gzip
import json
import math
from typing import IO, Any, BinaryIO

from hotpath.errors import ProfileParseError
from hotpath.formats.spec import FormatSpec
from hotpath.model import (
    LATENCY_BUCKETS_MS,
    EdgeStats,
    Frame,
    FunctionKey,
    FunctionStats,
    Metadata,
    Profile,
    RequestStats,
    Source,
)

FORMAT_ID = "hotpath.profile/1"
_UNITS = ("samples", "seconds", "bytes")


def to_dict(profile: Profile) -> dict[str, Any]:
    """The JSON-ready form of a profile (the ``format`` key first, for sniffing)."""
    m = profile.meta
    return {
        "format": FORMAT_ID,
        "meta": {
            "unit": m.unit,
            "interval_s": m.interval_s,
            "duration_s": m.duration_s,
            "sample_count": m.sample_count,
            "tools": m.tools,
            "attrs": m.attrs,
            "sources": [[s.path, s.format] for s in m.sources],
        },
        "frames": [[f.name, f.file, f.line, f.first_line] for f in profile.frames],
        "labels": [[list(kv) for kv in ls] for ls in profile.label_sets],
        "samples": [[list(stack), lid, w] for (stack, lid), w in profile.samples.items()],
        "function_stats": [
            [k.name, k.file, s.self, s.inclusive, s.calls, s.primitive_calls, s.first_line]
            for k, s in profile.function_stats.items()
        ],
        "call_edges": [
            [a.name, a.file, b.name, b.file, e.self, e.inclusive, e.calls]
            for (a, b), e in profile.call_edges.items()
        ],
        "requests": {
            ep: {
                "count": r.count,
                "wall_s": r.wall_s,
                "cpu_s": r.cpu_s,
                "status": r.status,
                "latency_ms": {str(b): n for b, n in r.latency_ms.items()},
            }
            for ep, r in profile.requests.items()
        },
    }


def write(profile: Profile, stream: IO[bytes]) -> None:
    """Write gzip-compressed JSON (``mtime=0`` so equal profiles give equal bytes)."""
    data = json.dumps(to_dict(profile), separators=(",", ":"), ensure_ascii=False)
    with gzip.GzipFile(fileobj=stream, mode="wb", mtime=0, compresslevel=6) as gz:
        gz.write(data.encode("utf-8"))


class _Checker:
    """Validates the decoded JSON, raising ProfileParseError naming the bad part."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, what: str) -> ProfileParseError:
        return ProfileParseError(self.path, f"invalid hotpath profile: {what}")

    def list_(self, v: object, what: str) -> list[Any]:
        if not isinstance(v, list):
            raise self.fail(f"{what} must be a list")
        return v

    def str_(self, v: object, what: str) -> str:
        if not isinstance(v, str):
            raise self.fail(f"{what} must be a string")
        return v

    def opt_int(self, v: object, what: str) -> int | None:
        if v is None:
            return None
        if not isinstance(v, int) or isinstance(v, bool):
            raise self.fail(f"{what} must be an integer or null")
        return v

    def int_(self, v: object, what: str) -> int:
        n = self.opt_int(v, what)
        if n is None or n < 0:
            raise self.fail(f"{what} must be a non-negative integer")
        return n

    def num(self, v: object, what: str) -> float:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise self.fail(f"{what} must be a finite number")
        if v < 0:
            raise self.fail(f"{what} must not be negative")
        return float(v)

    def opt_num(self, v: object, what: str) -> float | None:
        return None if v is None else self.num(v, what)

    def str_dict(self, v: object, what: str) -> dict[str, str]:
        if not isinstance(v, dict) or not all(
            isinstance(k, str) and isinstance(x, str) for k, x in v.items()
        ):
            raise self.fail(f"{what} must map strings to strings")
        return dict(v)


def _read_meta(c: _Checker, raw: object) -> Metadata:
    if not isinstance(raw, dict):
        raise c.fail("meta must be an object")
    unit = raw.get("unit", "samples")
    if unit not in _UNITS:
        raise c.fail(f"unknown unit {unit!r}")
    sources = []
    for i, s in enumerate(c.list_(raw.get("sources", []), "meta.sources")):
        pair = c.list_(s, f"meta.sources[{i}]")
        if len(pair) != 2:
            raise c.fail(f"meta.sources[{i}] must be [path, format]")
        sources.append(Source(c.str_(pair[0], "source path"), c.str_(pair[1], "source format")))
    return Metadata(
        unit=unit,
        sources=sources,
        interval_s=c.opt_num(raw.get("interval_s"), "meta.interval_s"),
        duration_s=c.opt_num(raw.get("duration_s"), "meta.duration_s"),
        sample_count=c.opt_int(raw.get("sample_count"), "meta.sample_count"),
        tools=c.str_dict(raw.get("tools", {}), "meta.tools"),
        attrs=c.str_dict(raw.get("attrs", {}), "meta.attrs"),
    )


def _read_requests(c: _Checker, raw: object) -> dict[str, RequestStats]:
    if not isinstance(raw, dict):
        raise c.fail("requests must be an object")
    out: dict[str, RequestStats] = {}
    for ep, r in raw.items():
        if not isinstance(r, dict):
            raise c.fail(f"requests[{ep!r}] must be an object")
        status = r.get("status", {})
        if not isinstance(status, dict):
            raise c.fail(f"requests[{ep!r}].status must be an object")
        latency: dict[int, int] = {}
        lat = r.get("latency_ms", {})
        if not isinstance(lat, dict):
            raise c.fail(f"requests[{ep!r}].latency_ms must be an object")
        for b, n in lat.items():
            if not (isinstance(b, str) and b.isdigit() and int(b) < len(LATENCY_BUCKETS_MS)):
                raise c.fail(f"requests[{ep!r}]: bad latency bucket {b!r}")
            latency[int(b)] = c.int_(n, "latency count")
        out[ep] = RequestStats(
            count=c.int_(r.get("count", 0), "request count"),
            wall_s=c.num(r.get("wall_s", 0.0), "wall_s"),
            cpu_s=c.num(r.get("cpu_s", 0.0), "cpu_s"),
            status={str(k): c.int_(v, "status count") for k, v in status.items()},
            latency_ms=latency,
        )
    return out


def from_dict(doc: object, path: str) -> Profile:
    c = _Checker(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_ID:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise c.fail(f"expected format {FORMAT_ID!r}, found {found!r}")
    profile = Profile(_read_meta(c, doc.get("meta", {})))
    for i, fr in enumerate(c.list_(doc.get("frames", []), "frames")):
        f = c.list_(fr, f"frames[{i}]")
        if len(f) != 4:
            raise c.fail(f"frames[{i}] must be [name, file, line, first_line]")
        frame = Frame(
            c.str_(f[0], f"frames[{i}] name"),
            c.str_(f[1], f"frames[{i}] file"),
            c.opt_int(f[2], f"frames[{i}] line"),
            c.opt_int(f[3], f"frames[{i}] first_line"),
        )
        if profile.intern_frame(frame) != i:
            raise c.fail(f"frames[{i}] repeats an earlier frame")
    for i, ls in enumerate(c.list_(doc.get("labels", [[]]), "labels")):
        pairs = []
        for kv in c.list_(ls, f"labels[{i}]"):
            pair = c.list_(kv, f"labels[{i}] entry")
            if len(pair) != 2:
                raise c.fail(f"labels[{i}] entries must be [key, value]")
            pairs.append((c.str_(pair[0], "label key"), c.str_(pair[1], "label value")))
        if i == 0 and pairs:
            raise c.fail("label set 0 must be empty")
        if i > 0 and profile.intern_labels(tuple(sorted(pairs))) != i:
            raise c.fail(f"labels[{i}] repeats an earlier label set")
    nframes, nlabels = len(profile.frames), len(profile.label_sets)
    for i, s in enumerate(c.list_(doc.get("samples", []), "samples")):
        entry = c.list_(s, f"samples[{i}]")
        if len(entry) != 3:
            raise c.fail(f"samples[{i}] must be [stack, label set, weight]")
        stack = tuple(c.list_(entry[0], f"samples[{i}] stack"))
        if not all(isinstance(x, int) and 0 <= x < nframes for x in stack):
            raise c.fail(f"samples[{i}]: frame id out of range")
        lid = c.int_(entry[1], f"samples[{i}] label set")
        if lid >= nlabels:
            raise c.fail(f"samples[{i}]: label set {lid} out of range")
        profile.add(stack, c.num(entry[2], f"samples[{i}] weight"), lid)
    for i, st in enumerate(c.list_(doc.get("function_stats", []), "function_stats")):
        e = c.list_(st, f"function_stats[{i}]")
        if len(e) != 7:
            raise c.fail(f"function_stats[{i}] must have 7 fields")
        key = FunctionKey(c.str_(e[0], "name"), c.str_(e[1], "file"))
        profile.function_stats[key] = FunctionStats(
            c.num(e[2], "self"), c.num(e[3], "inclusive"), c.int_(e[4], "calls"),
            c.int_(e[5], "primitive calls"), c.opt_int(e[6], "first_line"),
        )  # fmt: skip
    for i, ed in enumerate(c.list_(doc.get("call_edges", []), "call_edges")):
        e = c.list_(ed, f"call_edges[{i}]")
        if len(e) != 7:
            raise c.fail(f"call_edges[{i}] must have 7 fields")
        a = FunctionKey(c.str_(e[0], "caller name"), c.str_(e[1], "caller file"))
        b = FunctionKey(c.str_(e[2], "callee name"), c.str_(e[3], "callee file"))
        profile.call_edges[(a, b)] = EdgeStats(
            c.num(e[4], "self"), c.num(e[5], "inclusive"), c.int_(e[6], "calls")
        )
    profile.requests = _read_requests(c, doc.get("requests", {}))
    return profile


def read(stream: BinaryIO, path: str) -> Profile:
    try:
        doc = json.load(stream)
    except json.JSONDecodeError as exc:
        raise ProfileParseError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    except UnicodeDecodeError as exc:
        raise ProfileParseError(path, "not UTF-8 text") from exc
    except RecursionError as exc:
        raise ProfileParseError(path, "JSON nested too deeply") from exc
    return from_dict(doc, path)


def sniff(head: bytes) -> bool:
    start = head.lstrip()[:200]
    return start.startswith(b"{") and b'"format"' in start and FORMAT_ID.encode() in start


SPEC = FormatSpec(
    name="hotpath",
    description="hotpath's own profile file (gzip JSON): stacks, labels, requests, metadata",
    extensions=(".hotpath", ".hotpath.json.gz", ".hotpath.gz"),
    sniff=sniff,
    read=read,
    write=write,
    binary=True,
    call_stats=True,
)

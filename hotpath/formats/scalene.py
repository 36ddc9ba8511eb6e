"""Scalene's JSON profile (``scalene run -o FILE``, ``scalene --json``).

Scalene reports CPU per source line, split three ways: Python (``n_cpu_percent_python``),
native code (``n_cpu_percent_c``) and system time (``n_sys_percent``), as percentages of the
run's CPU time. Lines of one loop or region carry that region's totals each (every line from
``start_region_line`` to ``end_region_line`` repeats them), so hotpath counts one line per
region. A line belongs to the function whose def line is its ``start_function_line`` (named
by the file's ``functions`` list, qualified: ``Shape.area_sum``); lines outside any def that
scalene knows (module code, lambdas) become a frame ``<line N>``.

Each line becomes a one-frame stack (scalene records no call stacks with these numbers), in
seconds: the percentage times ``elapsed_time_sec``, labelled ``kind=python|native|system``.
"""

from __future__ import annotations

import math
from typing import Any, BinaryIO, NoReturn

from hotpath.errors import ProfileParseError
from hotpath.formats.jsondoc import load_json
from hotpath.formats.spec import FormatSpec
from hotpath.model import Frame, Metadata, Profile

KIND = "kind"
_PARTS = (("python", "n_cpu_percent_python"), ("native", "n_cpu_percent_c"))
_SYSTEM = ("system", "n_sys_percent")
_MAX_LINE = 2**31
_SNIFF_KEYS = (
    b'"alloc_samples"', b'"elapsed_time_sec"', b'"max_footprint_mb"', b'"n_cpu_percent_python"',
    b'"combined_stacks"', b'"growth_rate"',
)  # fmt: skip


def _fail(path: str, reason: str) -> NoReturn:
    raise ProfileParseError(path, reason)


def _num(v: object) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _line_no(v: object) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < _MAX_LINE:
        return v
    return None


def _functions(path: str, file: str, entries: object) -> dict[int, str]:
    """def line -> qualified name, from a file's ``functions`` list."""
    if not isinstance(entries, list):
        _fail(path, f"files[{file[:80]!r}].functions must be a list")
    out: dict[int, str] = {}
    for fn in entries:
        if isinstance(fn, dict) and isinstance(fn.get("line"), str):
            line = _line_no(fn.get("lineno"))
            if line:
                out[line] = fn["line"]
    return out


def _read_file(profile: Profile, path: str, file: str, data: object, scale: float) -> None:
    where = f"files[{file[:80]!r}]"
    if not isinstance(data, dict) or not isinstance(data.get("lines", []), list):
        _fail(path, f"{where}: expected an object with a 'lines' list")
    names = _functions(path, file, data.get("functions", []))
    seen_regions: set[tuple[float, ...]] = set()
    for i, line in enumerate(data.get("lines", [])):
        if not isinstance(line, dict):
            _fail(path, f"{where}.lines[{i}]: expected an object")
        lineno = _line_no(line.get("lineno"))
        if lineno is None:
            _fail(path, f"{where}.lines[{i}]: lineno {str(line.get('lineno'))[:20]!r} is bad")
        weights = []
        for kind, key in (*_PARTS, _SYSTEM):
            value = _num(line.get(key, 0))
            if value is None or not 0 <= value <= 100.0001:
                _fail(path, f"{where}.lines[{i}]: {key} {str(line.get(key))[:20]!r} is not 0-100")
            weights.append((kind, value))
        if not any(v for _k, v in weights):
            continue
        start, end = _line_no(line.get("start_region_line")), _line_no(line.get("end_region_line"))
        region = (start or 0, end or 0, *(v for _k, v in weights))
        if start and end and start < end:
            if region in seen_regions:
                continue  # the region's totals, repeated on each of its lines
            seen_regions.add(region)
        def_line = _line_no(line.get("start_function_line")) or 0
        name = names.get(def_line)
        frame = (
            Frame(name, file, lineno, def_line)
            if name is not None
            else Frame(f"<line {lineno}>", file, lineno)
        )
        fid = profile.intern_frame(frame)
        for kind, value in weights:
            if value:
                profile.add((fid,), value * scale, profile.intern_labels({KIND: kind}))


def read(stream: BinaryIO, path: str) -> Profile:
    doc: Any = load_json(stream, path)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        _fail(path, "not a Scalene profile: no 'files' object")
    elapsed = _num(doc.get("elapsed_time_sec"))
    if elapsed is None or not 0 <= elapsed < 1e9:
        _fail(path, f"elapsed_time_sec {str(doc.get('elapsed_time_sec'))[:30]!r} is not valid")
    profile = Profile(Metadata(unit="seconds"))
    for file, data in doc["files"].items():
        _read_file(profile, path, str(file), data, elapsed / 100.0)
    if not profile.samples:
        _fail(path, "no CPU time on any line")
    meta = profile.meta
    meta.duration_s = elapsed
    meta.tools["scalene"] = "unknown"
    if isinstance(doc.get("program"), str):
        meta.attrs["target"] = doc["program"][:1000]
    return profile


def sniff(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    # Scalene writes its keys sorted: the per-line data may start after the first 64 KiB.
    return sum(key in text for key in _SNIFF_KEYS) >= 2


SPEC = FormatSpec(
    name="scalene",
    description="Scalene JSON profile (per-line CPU: Python, native, system)",
    extensions=(".json",),
    sniff=sniff,
    read=read,
)

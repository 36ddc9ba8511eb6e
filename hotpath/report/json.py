"""The JSON report (``hotpath analyze --format json``): the contract in docs/json-report.md."""

from __future__ import annotations

import json
import math
from typing import IO, Any

from hotpath.analysis.summary import Analysis, EndpointRow, FunctionRow
from hotpath.report.base import Renderer

SCHEMA = "hotpath.report/1"


def _num(x: float) -> float | int:
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"non-finite number in report: {x}")
    return x


def function_dict(r: FunctionRow) -> dict[str, Any]:
    return {
        "name": r.name,
        "file": r.file,
        "first_line": r.first_line,
        "kind": r.kind,
        "self": _num(r.self),
        "inclusive": _num(r.inclusive),
        "self_share": r.self_share,
        "inclusive_share": r.inclusive_share,
        "calls": r.calls,
    }


def endpoint_dict(r: EndpointRow) -> dict[str, Any]:
    return {
        "name": r.name,
        "samples": _num(r.samples),
        "share": r.share,
        "requests": r.requests,
        "cpu_per_request_s": r.cpu_per_request_s,
        "p50_ms": r.p50_ms,
        "p99_ms": r.p99_ms,
        "top_functions": list(r.top_functions),
    }


def to_dict(analysis: Analysis) -> dict[str, Any]:
    p = analysis.profile
    return {
        "schema": SCHEMA,
        "profile": {
            "sources": [{"path": s.path, "format": s.format} for s in p.sources],
            "unit": p.unit,
            "total": _num(p.total),
            "samples": p.samples,
            "duration_s": p.duration_s,
        },
        "functions": [function_dict(r) for r in analysis.functions],
        "recursion": analysis.recursion,
        "endpoints": [endpoint_dict(r) for r in analysis.endpoints or []],
    }


def render(analysis: Analysis, out: IO[str]) -> None:
    json.dump(to_dict(analysis), out, indent=1, ensure_ascii=False)
    out.write("\n")


RENDERER = Renderer("json", ".json", render)

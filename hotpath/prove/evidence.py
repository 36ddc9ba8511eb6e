"""What captures and replays tell the advisor: measured speed-ups, observed boundaries."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from hotpath.analysis.options import (
    AdvisorOptions,
    MeasuredSpeedup,
    ObservedBoundary,
    ObservedParam,
)
from hotpath.analysis.results import Analysis
from hotpath.errors import ProfileParseError
from hotpath.prove.files import CaptureFile, read_captures, read_replay
from hotpath.prove.values import describe, json_size, size_of


def speedups_from(paths: Iterable[str]) -> tuple[MeasuredSpeedup, ...]:
    """The measured speed-ups of replay result files."""
    out = []
    for path in paths:
        doc = read_replay(path)
        speed = doc.get("speedup")
        if speed is None:
            raise ProfileParseError(
                path, "this replay measured no speed-up (run it with an original)"
            )
        out.append(
            MeasuredSpeedup(
                function=doc["function"],
                file=doc["file"],
                low=float(speed["low"]),
                median=float(speed["median"]),
                high=float(speed["high"]),
                all_equal=bool(doc["all_equal"]),
                summary=f"{doc['replacement']}: {doc['summary']}",
            )
        )
    return tuple(out)


def boundaries_from(paths: Iterable[str]) -> tuple[ObservedBoundary, ...]:
    """One observed boundary per captured function (files of one function merged)."""
    by_function: dict[str, list[str]] = {}
    for path in paths:
        from hotpath.prove.files import read_capture

        by_function.setdefault(read_capture(path).function, []).append(path)
    return tuple(observe(read_captures(p)) for p in by_function.values())


def observe(cap: CaptureFile) -> ObservedBoundary:
    """Types, sizes, bytes and rates at a function's boundary, from its recorded calls."""
    names = list(cap.params)
    columns: dict[str, list[Any]] = {}
    bytes_in: list[int] = []
    bytes_out: list[int] = []
    results: list[Any] = []
    raised: Counter[str] = Counter()
    for rec in cap.records:
        named = dict(zip(names, rec.args, strict=False))
        for i, node in enumerate(rec.args[len(names) :]):
            named[f"{cap.star or 'args'}[{i}]"] = node
        named.update(rec.kwargs)
        for k, node in named.items():
            columns.setdefault(k, []).append(node)
        bytes_in.append(json_size(_as_object(named)))
        if rec.raised is not None:
            raised[rec.raised] += 1
        else:
            results.append(rec.result)
            bytes_out.append(json_size(rec.result))
    order = [n for n in names if n in columns] + [n for n in columns if n not in names]
    cpu = [r.cpu_s for r in cap.records]
    return ObservedBoundary(
        function=cap.function,
        file=cap.file,
        params=tuple(_param(n, columns[n]) for n in order),
        result=_param("return", results),
        records=len(cap.records),
        calls=cap.calls,
        calls_per_request=cap.calls_per_request,
        call_rate=cap.call_rate,
        bytes_in=int(statistics.median(bytes_in)) if bytes_in else 0,
        bytes_out=int(statistics.median(bytes_out)) if bytes_out else 0,
        cpu_per_call_s=statistics.median(cpu) if cpu else None,
        raised=tuple(raised.most_common()),
    )


def _as_object(named: dict[str, Any]) -> Any:
    return {"$t": "dict", "v": [[k, v] for k, v in named.items()]}


def _param(name: str, nodes: list[Any]) -> ObservedParam:
    types = Counter(describe(n) for n in nodes)
    sizes = sorted(s for s in map(size_of, nodes) if s is not None)
    ints = [n for n in nodes if isinstance(n, int) and not isinstance(n, bool)]
    return ObservedParam(
        name=name,
        types=tuple(sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))),
        sizes=(sizes[0], sizes[len(sizes) // 2], sizes[-1]) if sizes else None,
        min_int=min(ints) if ints and len(ints) == len(nodes) else None,
    )


def unmatched(result: Analysis, options: AdvisorOptions) -> list[str]:
    """What a replay or capture given to ``analyze`` did not apply to, in words."""
    cands = [c for c in result.candidates or [] if c.kind == "function"]
    out = []
    for s in options.measured:
        if not any("speedup" in c.evidence and s.summary in c.evidence["speedup"] for c in cands):
            out.append(
                f"the replay of {s.function} matched no candidate function of this profile "
                "(not listed, not app code, or nested in a recommended one)"
            )
    for b in options.boundaries:
        if not any(c.brief and b.function.partition(":")[2] in c.target and "Observed" in c.brief
                   for c in cands):  # fmt: skip
            out.append(f"the capture of {b.function} matched no recommended candidate's brief")
    return out

"""Exports for other tools (``hotpath convert``): one measure at a time where a format holds
one number per stack.

A profile recorded with CPU and wall time holds every stack twice (``measure=cpu`` and
``measure=wall``); their sum is no quantity anyone measured. So folded, speedscope and DOT
get one measure (:func:`~hotpath.model.measure_view`, CPU by default), pprof gets both as
two sample types, and hotpath's own file keeps everything. DOT is drawn from the analysis's
call graph of that measure, so its percentages are the report's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from hotpath.errors import UsageError
from hotpath.model import CPU, WALL, Profile, measure_view
from hotpath.report.dot import DotOptions

MEASURES = (CPU, WALL)


@dataclass(frozen=True)
class ExportOptions:
    measure: str = CPU
    """``cpu`` or ``wall``: the measure written by one-measure formats."""
    dot: DotOptions = field(default_factory=DotOptions)


def export_formats() -> list[str]:
    """Every format ``convert`` writes."""
    from hotpath.formats import writable_format_names

    return [*writable_format_names(), "dot"]


def output_format(path: str, fmt: str | None) -> str:
    """The output format: given explicitly, or from the output file's extension."""
    from hotpath.formats import REGISTRY

    names = export_formats()
    if fmt is not None:
        if fmt not in names:
            raise UsageError(f"cannot write format {fmt!r}; writable: {', '.join(names)}")
        return fmt
    lowered = path.lower().removesuffix(".gz")
    for name in names:
        if any(lowered.endswith(ext) for ext in REGISTRY[name].extensions):
            return name
    raise UsageError(f"cannot tell the output format from {path!r}; pass --to ({', '.join(names)})")


def export(
    profile: Profile, stream: IO[bytes], fmt: str, options: ExportOptions | None = None
) -> str:
    """Write ``profile`` as ``fmt``; returns what the file holds, in words (for the user)."""
    opts = options or ExportOptions()
    if opts.measure not in MEASURES:
        raise UsageError(f"unknown measure {opts.measure!r} (expected cpu or wall)")
    from hotpath.formats import folded, speedscope, write_profile

    what = f"{opts.measure.upper()} time" if profile.meta.unit == "seconds" else opts.measure
    if fmt == "dot":
        from hotpath.analysis.callgraph import build_callgraph
        from hotpath.report.dot import render_dot

        render_dot(build_callgraph(measure_view(profile, opts.measure)), stream, opts.dot)
        return f"call graph, {what} shares"
    if fmt in ("folded", "speedscope") and not profile.samples and profile.function_stats:
        write_profile(profile, stream, fmt)  # refuses call statistics with the usual message
    if fmt == "folded":
        folded.write(profile, stream, opts.measure)
        return f"{what}, counts in {folded.count_unit(profile)}"
    if fmt == "speedscope":
        speedscope.write(profile, stream, opts.measure)
        return f"{what}, {profile.meta.unit}"
    write_profile(profile, stream, fmt)
    if fmt == "pprof":
        from hotpath.formats.pprof import columns

        return "sample types " + ", ".join(f"{c.type}/{c.unit}" for c in columns(profile))
    return "everything recorded"

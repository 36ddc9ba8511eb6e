"""Markdown summary for pull-request comments and CI job summaries (GitHub, GitLab).

Compact on purpose: a headline, the top endpoints, the top functions and the candidates.
Names come from profiles and are untrusted: :func:`escape_cell` makes any name inert inside
a table cell (no broken table, no HTML, no links, no emphasis).
"""

from __future__ import annotations

import os
from typing import IO

from hotpath import escape
from hotpath.analysis.results import Analysis, Candidate, EndpointRow, FunctionRow, Plan
from hotpath.report.base import Renderer

MAX_ROWS = 10


def escape_cell(text: str) -> str:
    """Escape text for a Markdown table cell (GitHub/GitLab flavoured): see
    :func:`hotpath.escape.markdown` (no markup, HTML, line break, mention or autolink)."""
    return escape.markdown(text)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


def _weight(value: float, unit: str) -> str:
    if unit == "seconds":
        return f"{value:.2f}s" if value >= 1 else f"{value * 1000:.1f}ms"
    return f"{value:,.0f}"


def _table(header: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _where(file: str, line: int | None) -> str:
    if not file:
        return ""
    short = "/".join(file.replace("\\", "/").split("/")[-2:])
    return escape_cell(f"{short}:{line}" if line is not None else short)


def _functions(rows: list[FunctionRow], unit: str) -> list[str]:
    return _table(
        ["#", "function", "incl", "self", unit, "kind", "where"],
        ["--:", ":--", "--:", "--:", "--:", ":--", ":--"],
        [
            [
                str(i),
                escape_cell(r.name),
                _pct(r.inclusive_share),
                _pct(r.self_share),
                _weight(r.inclusive, unit),
                r.kind,
                _where(r.file, r.line),
            ]
            for i, r in enumerate(rows, 1)
        ],
    )


def _endpoints(rows: list[EndpointRow]) -> list[str]:
    return _table(
        ["endpoint", "CPU share", "requests", "CPU/request", "p99"],
        [":--", "--:", "--:", "--:", "--:"],
        [
            [
                escape_cell(e.name),
                _pct(e.share),
                "–" if e.requests is None else f"{e.requests:,}",
                "–" if e.cpu_per_request_s is None else f"{e.cpu_per_request_s * 1000:.2f}ms",
                "–" if e.p99_ms is None else f"{e.p99_ms:.1f}ms",
            ]
            for e in rows
        ],
    )


def _candidates(cands: list[Candidate]) -> list[str]:
    out = _table(
        ["candidate", "advice", "CPU share", "saving", "reasons"],
        [":--", ":--", "--:", "--:", ":--"],
        [
            [
                escape_cell(c.target),
                f"**{escape_cell(c.recommendation)}**",
                _pct(c.share),
                f"{_pct(c.saving_share[0])}–{_pct(c.saving_share[1])}",
                escape_cell("; ".join(c.reasons)),
            ]
            for c in cands
        ],
    )
    return out


def plan_section(plan: Plan) -> list[str]:
    """One row per step: its saving after the earlier steps and the cumulative saving."""
    rows = []
    for s in plan.steps:
        what = escape_cell(s.target)
        if s.kind == "endpoint" and s.entry != s.target:
            what += f" (its view {escape_cell(s.entry)})"
        covers = ", ".join(escape_cell(t) for t, _k in s.covers) or "–"
        rows.append(
            [
                str(s.number),
                what,
                f"**{escape_cell(s.recommendation)}**",
                f"{s.speedup:g}×",
                f"{_pct(s.saving_share[0])}–{_pct(s.saving_share[1])}",
                f"**{_pct(s.cumulative_share[0])}–{_pct(s.cumulative_share[1])}**",
                covers,
            ]
        )
    out = _table(
        ["step", "extract", "as", "k", "saves", "cumulative", "covers"],
        ["--:", ":--", ":--", "--:", "--:", "--:", ":--"],
        rows,
    )
    others = [x for x in plan.left if not x.reason.startswith("covered by")]
    if others:
        out.append("")
        out += [f"- not a step: {escape_cell(x.target)}: {escape_cell(x.reason)}" for x in others]
    return out


def headline(analysis: Analysis) -> str:
    p = analysis.profile
    # No code spans: backslash escapes are literal inside them, and names need escaping.
    names = ", ".join(escape_cell(os.path.basename(s.path)) for s in p.sources[:3])
    if len(p.sources) > 3:
        names += f" and {len(p.sources) - 3} more"
    parts = []
    if p.samples is not None:
        parts.append(f"{p.samples:,} samples")
    parts.append(f"{_weight(p.total, p.unit)} {p.unit}" if p.unit != "samples" else "")
    if p.duration_s is not None:
        parts.append(f"{p.duration_s:.1f}s")
    parts.append(f"{len(analysis.functions):,} functions")
    facts = ", ".join(x for x in parts if x)
    return f"{names or 'profile'}: {facts}"


def render(analysis: Analysis, out: IO[str]) -> None:
    unit = analysis.profile.unit
    lines = ["## hotpath report", "", headline(analysis), ""]
    if analysis.pareto is not None and analysis.pareto.sentence and analysis.functions:
        lines += [f"> {escape_cell(analysis.pareto.sentence)}", ""]
    if analysis.endpoints:
        lines += [f"### Top endpoints ({min(len(analysis.endpoints), MAX_ROWS)})", ""]
        lines += [*_endpoints(analysis.endpoints[:MAX_ROWS]), ""]
    n = min(analysis.options.top, MAX_ROWS)
    if analysis.functions:
        lines += [f"### Top functions by inclusive share ({min(n, len(analysis.functions))})", ""]
        lines += [*_functions(analysis.top_by("inclusive", n), unit), ""]
        lines += [f"### Top functions by self share ({min(n, len(analysis.functions))})", ""]
        lines += [*_functions(analysis.top_by("self", n), unit), ""]
    else:
        lines += ["_No functions in this profile._", ""]
    if analysis.candidates is not None and analysis.functions:
        lines += ["### Rewrite candidates", ""]
        if analysis.candidates:
            lines += [*_candidates(analysis.candidates[:MAX_ROWS]), ""]
        else:
            lines += ["_No candidate: nothing the evidence supports rewriting._", ""]
    if analysis.plan is not None and analysis.plan.steps and analysis.functions:
        lines += ["### Extraction plan", ""]
        lines += ["Each step is measured on the profile with the earlier steps applied.", ""]
        lines += [*plan_section(analysis.plan), ""]
    out.write("\n".join(lines))


RENDERER = Renderer("markdown", ".md", render)

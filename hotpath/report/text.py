"""Terminal report: rich tables of the hottest functions by inclusive and by self weight.

Colours follow the stream: on when it is a terminal, off otherwise and whenever ``NO_COLOR``
is set (rich honours it). Tables fit the terminal's width; long paths keep their tail.
"""

from __future__ import annotations

import os
from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hotpath.analysis.summary import Analysis, Candidate, EndpointRow, FunctionRow
from hotpath.report.base import Renderer

ADVICE_STYLE = {"microservice": "bold magenta", "extension": "bold yellow", "leave": "dim"}
KIND_STYLE = {"app": "bold green", "library": "cyan", "stdlib": "blue", "native": "magenta"}


def shorten_path(path: str, width: int = 40) -> str:
    """Keep the end of a long path (the file name and its nearest directories)."""
    if len(path) <= width:
        return path
    parts = path.replace("\\", "/").split("/")
    out = parts[-1]
    for part in reversed(parts[:-1]):
        if len(out) + len(part) + 2 > width - 1:
            break
        out = f"{part}/{out}"
    return "…/" + out if len(out) < len(path) else out


def format_weight(value: float, unit: str) -> str:
    if unit == "seconds":
        if value >= 1:
            return f"{value:.2f}s"
        return f"{value * 1000:.1f}ms"
    if unit == "bytes":
        return f"{value / 1024**2:.1f}MiB"
    return f"{value:,.0f}"


def _location(r: FunctionRow, width: int = 40) -> str:
    loc = shorten_path(r.file, width) if r.file else ""
    return f"{loc}:{r.line}" if loc and r.line is not None else loc


def _name_cell(r: FunctionRow, path_width: int) -> Text:
    # Text(): names are data, never rich markup.
    loc = _location(r, path_width)
    return Text.assemble(r.name, ("\n" + loc, "dim")) if loc else Text(r.name)


def _function_table(
    title: str, rows: list[FunctionRow], unit: str, by: str, path_width: int = 40
) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=True,
        collapse_padding=True,
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column("incl %" if by == "inclusive" else "self %", justify="right")
    table.add_column("self %" if by == "inclusive" else "incl %", justify="right")
    table.add_column(by, justify="right")
    if any(r.calls is not None for r in rows):
        table.add_column("calls", justify="right")
    table.add_column("kind")
    # Name and location share one flexible column (location on a dim second line), so
    # the numbers keep their width and names get the rest of the terminal.
    table.add_column("function / where", overflow="fold", ratio=1)
    has_calls = any(r.calls is not None for r in rows)
    for i, r in enumerate(rows, 1):
        first, second = (
            (r.inclusive_share, r.self_share)
            if by == "inclusive"
            else (r.self_share, r.inclusive_share)
        )
        cells: list[str | Text] = [
            str(i),
            f"{first * 100:.1f}",
            f"{second * 100:.1f}",
            format_weight(r.inclusive if by == "inclusive" else r.self, unit),
        ]
        if has_calls:
            cells.append("" if r.calls is None else f"{r.calls:,}")
        cells += [
            Text(r.kind, style=KIND_STYLE.get(r.kind, "")),
            _name_cell(r, path_width),
        ]
        table.add_row(*cells)
    return table


def headline(analysis: Analysis) -> str:
    p = analysis.profile
    srcs = ", ".join(f"{os.path.basename(s.path)} ({s.format})" for s in p.sources[:3])
    if len(p.sources) > 3:
        srcs += f" and {len(p.sources) - 3} more"
    parts = [f"{format_weight(p.total, p.unit)} {p.unit if p.unit == 'samples' else 'total'}"]
    if p.duration_s:
        parts.append(f"over {p.duration_s:.1f}s")
    parts.append(f"{len(analysis.functions):,} functions")
    return f"{srcs or 'profile'}: " + ", ".join(parts)


def _endpoint_table(rows: list[EndpointRow], unit: str) -> Table:
    table = Table(
        title="Endpoints by CPU share", title_justify="left", box=box.SIMPLE_HEAD, expand=True
    )
    table.add_column("CPU %", justify="right")
    table.add_column(unit, justify="right")
    table.add_column("requests", justify="right")
    table.add_column("CPU/req", justify="right")
    table.add_column("p99", justify="right")
    table.add_column("endpoint", overflow="fold", ratio=2)
    for e in rows:
        table.add_row(
            f"{e.share * 100:.1f}",
            format_weight(e.samples, unit),
            "" if e.requests is None else f"{e.requests:,}",
            "" if e.cpu_per_request_s is None else f"{e.cpu_per_request_s * 1000:.2f}ms",
            "" if e.p99_ms is None else f"{e.p99_ms:.1f}ms",
            Text(e.name),
        )
    return table


def _candidate_table(rows: list[Candidate]) -> Table:
    table = Table(
        title="Rewrite candidates", title_justify="left", box=box.SIMPLE_HEAD, expand=True
    )
    table.add_column("advice")
    table.add_column("CPU %", justify="right")
    table.add_column("saving %", justify="right")
    table.add_column("candidate", overflow="fold", ratio=1)
    table.add_column("why", overflow="fold", ratio=2)
    for c in rows:
        table.add_row(
            Text(c.recommendation, style=ADVICE_STYLE.get(c.recommendation, "")),
            f"{c.share * 100:.1f}",
            f"{c.saving_share[0] * 100:.1f}–{c.saving_share[1] * 100:.1f}",
            Text(c.target),
            Text("; ".join(c.reasons)),
        )
    return table


def use_color(out: IO[str]) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def render(
    analysis: Analysis, out: IO[str], width: int | None = None, color: bool | None = None
) -> None:
    """Write the terminal report to ``out``.

    ``width`` defaults to the terminal's (80 columns when ``out`` is not a terminal and
    COLUMNS is unset); ``color`` defaults to :func:`use_color`.
    """
    if color is None:
        color = use_color(out)
    console = Console(
        file=out,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        soft_wrap=False,
    )
    path_width = max(24, console.width - 48)
    console.print(Text(headline(analysis), style="bold"))
    if analysis.pareto is not None and analysis.pareto.sentence:
        console.print(Text(analysis.pareto.sentence, style="yellow"))
    top = analysis.options.top
    unit = analysis.profile.unit
    if analysis.endpoints:
        console.print(_endpoint_table(analysis.endpoints[:top], unit))
    if not analysis.functions:
        console.print(Text("No functions in this profile.", style="dim"))
        return
    console.print(
        _function_table(
            f"Top {top} functions by inclusive share",
            analysis.top_by("inclusive", top),
            unit,
            "inclusive",
            path_width,
        )
    )
    console.print(
        _function_table(
            f"Top {top} functions by self share",
            analysis.top_by("self", top),
            unit,
            "self",
            path_width,
        )
    )
    if analysis.candidates:
        console.print(_candidate_table(analysis.candidates[:top]))
    if analysis.recursion:
        console.print(Text(f"Recursive groups: {len(analysis.recursion)}", style="dim"))


def _render(analysis: Analysis, out: IO[str]) -> None:
    render(analysis, out)


RENDERER = Renderer("text", ".txt", _render)

"""Terminal report: rich tables of the hottest functions by inclusive and by self weight.

Colours follow the stream: on when it is a terminal, off otherwise and whenever ``NO_COLOR``
is set (rich honours it). Tables fit the terminal's width; long paths keep their tail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hotpath import escape
from hotpath.analysis.results import Analysis, Candidate, EndpointRow, FunctionRow, Plan
from hotpath.report.base import Renderer

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
    name, loc = escape.text(r.name), escape.text(loc)
    return Text.assemble(name, ("\n" + loc, "dim")) if loc else Text(name)


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


def _opt(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


NAME_MIN = 16
"""Columns kept for each of the endpoint and top-function names before optional numbers."""


def _endpoint_table(rows: list[EndpointRow], top: int, width: int) -> Table:
    shown = rows[:top]
    table = Table(
        title=f"Top {len(shown)} endpoints by CPU share",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=True,
        collapse_padding=True,
    )
    # Request columns only where some endpoint has them (the middleware measures requests;
    # py-spy profiles have none), and on a narrow terminal only as many as leave the names
    # NAME_MIN columns each: the least telling go first (p99, p50, cpu/req, requests, wall).
    optional: list[tuple[str, Callable[[EndpointRow], str]]] = [
        ("wall %", lambda r: _opt(None if r.wall_share is None else r.wall_share * 100, ".1f")),
        ("requests", lambda r: "" if r.requests is None else f"{r.requests:,}"),
        (
            "cpu/req",
            lambda r: "" if r.cpu_per_request_s is None else f"{r.cpu_per_request_s * 1000:.2f}ms",
        ),
        ("p50ms", lambda r: _opt(r.p50_ms, ".1f")),
        ("p99ms", lambda r: _opt(r.p99_ms, ".1f")),
    ]
    columns = [(name, cell) for name, cell in optional if any(cell(r) for r in shown)]

    def needed(cols: list[tuple[str, Callable[[EndpointRow], str]]]) -> int:
        fixed = len(str(len(shown))) + len("cpu %") + 2 * NAME_MIN
        extra = sum(max(len(n), *(len(c(r)) for r in shown)) for n, c in cols)
        return fixed + extra + 2 * (len(cols) + 3)  # two spaces between columns

    while columns and needed(columns) > width:
        columns.pop()
    table.add_column("#", justify="right", style="dim")
    table.add_column("cpu %", justify="right")
    for name, _cell in columns:
        table.add_column(name, justify="right")
    table.add_column("endpoint", overflow="fold", ratio=1)
    table.add_column("top functions", overflow="fold", ratio=1, style="dim")
    for i, r in enumerate(shown, 1):
        table.add_row(
            str(i),
            f"{r.share * 100:.1f}",
            *(cell(r) for _name, cell in columns),
            Text(escape.text(r.name)),  # names are data, never rich markup
            Text(escape.text(", ".join(r.top_functions[:2]))),
        )
    return table


def headline(analysis: Analysis) -> str:
    p = analysis.profile
    srcs = escape.text(", ".join(f"{os.path.basename(s.path)} ({s.format})" for s in p.sources[:3]))
    if len(p.sources) > 3:
        srcs += f" and {len(p.sources) - 3} more"
    parts = [f"{format_weight(p.total, p.unit)} {p.unit if p.unit == 'samples' else 'total'}"]
    if p.duration_s:
        parts.append(f"over {p.duration_s:.1f}s")
    parts.append(f"{len(analysis.functions):,} functions")
    return f"{srcs or 'profile'}: " + ", ".join(parts)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich exits 1 here, which CI reads as "regression": let the CLI end quietly instead.
        self.quiet = True
        raise BrokenPipeError


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
    console = _Console(
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
    if analysis.pareto is not None and analysis.pareto.sentence and analysis.functions:
        console.print(Text("Pareto: " + escape.text(analysis.pareto.sentence), style="yellow"))
    top = analysis.options.top
    unit = analysis.profile.unit
    if analysis.endpoints:
        console.print(_endpoint_table(analysis.endpoints, top, console.width))
    elif analysis.endpoint_note:
        console.print(Text(analysis.endpoint_note, style="dim"))
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
    if analysis.recursion:
        console.print(Text(f"Recursive groups: {len(analysis.recursion)}", style="dim"))
    render_advice(analysis, console, pareto=False)


VERDICT_STYLE = {"microservice": "bold green", "extension": "bold cyan", "leave": "dim"}


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{x * 100:.0f}%"


SHORT_KEYS = {
    "too fine-grained for a network hop": "fine-grained",
    "not enough evidence": "no evidence",
    "granularity unknown": "shape unknown",
}
"""Reason keys shortened for the table (the details below it say them in full)."""
KIND_TAGS = {"function": "fn", "endpoint": "ep"}


def short_reason(c: Candidate) -> str:
    """The first reason's key (the text before its colon), and how many more block it."""
    if not c.reasons:
        return ""
    key = c.reasons[0].split(":", 1)[0]
    key = SHORT_KEYS.get(key, key)
    if len(key) > 24:  # a reason without a short key: its first clause
        key = re.split(r"[,;(]", key, maxsplit=1)[0].strip()
    more = len(c.reasons) - 1 if c.recommendation == "leave" else 0
    return f"{key} +{more}" if more else key


def render_advice(
    analysis: Analysis, console: Console, briefs: bool = False, pareto: bool = True
) -> None:
    """The Pareto sentence, the candidates table (a short reason per row), each candidate's
    reasons in full below it, and (``briefs``) the extraction briefs."""
    if pareto and analysis.pareto is not None:
        console.print(Text("Pareto: " + escape.text(analysis.pareto.sentence), style="bold"))
    cands = analysis.candidates
    if not cands:
        return
    rows = _merge_rows(cands[: analysis.options.top])
    wide = console.width >= 110  # the evidence columns only where they fit
    table = Table(
        title="Rust candidates",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        expand=True,
    )
    # Names never wrap (a name split mid-word reads as two): on a narrow terminal they end
    # in an ellipsis, and the details below the table give them whole. The other columns
    # keep their width; "why" (the first reason's key) takes what is left, at least 17.
    longest = max(len(c.target) for c, _k in rows)
    tags = console.width >= 100
    savings = console.width >= 72  # below that the details carry the savings
    number = len(str(len(rows)))
    fixed = number + 12 + 5 + 17 + (11 if savings else 0) + (5 if tags else 0)
    fixed += 15 if wide else 0
    gaps = 2 * (5 + (1 if savings else 0) + (1 if tags else 0) + (3 if wide else 0))
    room = max(12, console.width - fixed - gaps)
    table.add_column("#", justify="right", style="dim", no_wrap=True, min_width=number)
    table.add_column("verdict", no_wrap=True, min_width=12)
    table.add_column("target", no_wrap=True, overflow="ellipsis", max_width=min(room, longest))
    if tags:
        table.add_column("as", no_wrap=True, style="dim")
    table.add_column("CPU %", justify="right", no_wrap=True, min_width=5)
    if wide:
        table.add_column("py", justify="right", no_wrap=True)
        table.add_column("isol", justify="right", no_wrap=True)
        table.add_column("cpu", justify="right", no_wrap=True)
    if savings:
        table.add_column("saves %", justify="right", no_wrap=True, min_width=11)
    table.add_column("why", overflow="fold", ratio=1, min_width=17)
    for i, (c, kinds) in enumerate(rows, 1):
        lo, hi = c.saving_share
        cells: list[str | Text] = [
            str(i),
            Text(c.recommendation, style=VERDICT_STYLE.get(c.recommendation, "")),
            Text(escape.text(c.target)),  # names are data, never rich markup
        ]
        if tags:
            cells.append("+".join(KIND_TAGS.get(k, k) for k in kinds))
        cells += [f"{c.share * 100:.1f}"]
        if wide:
            cells += [_pct(c.pure_python), _pct(c.isolation), _pct(c.cpu_bound)]
        # A row left alone shows what a rewrite would save only dimmed: the reason is the news.
        if savings:
            style = "dim" if c.recommendation == "leave" else ""
            cells.append(Text(f"{lo * 100:.1f}–{hi * 100:.1f}", style=style))
        cells.append(Text(escape.text(short_reason(c))))
        table.add_row(*cells)
    console.print(table)
    console.print(_details(rows))
    if analysis.plan is not None and analysis.plan.steps:
        render_plan(analysis.plan, console)
    if briefs:
        render_briefs(analysis, console.file)


def _range(pair: tuple[float, float]) -> str:
    return f"{pair[0] * 100:.1f}–{pair[1] * 100:.1f}"


def render_plan(plan: Plan, console: Console) -> None:
    """The extraction plan: one row per step (its saving after the earlier steps and the
    cumulative saving), then what each step covers and why the other candidates are not
    steps."""
    table = Table(
        title="Extraction plan (each step measured after the earlier ones)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        expand=True,
    )
    roomy = console.width >= 72  # below that the speed-up column gives way to the names
    table.add_column("step", justify="right", style="dim", no_wrap=True)
    table.add_column("extract", overflow="fold", ratio=1, min_width=12)
    table.add_column("as", no_wrap=True)
    if roomy:
        table.add_column("k", justify="right", no_wrap=True)
    table.add_column("saves %", justify="right", no_wrap=True)
    table.add_column("cumul %", justify="right", no_wrap=True)
    for s in plan.steps:
        what = escape.text(s.target)
        if s.kind == "endpoint" and s.entry != s.target:
            what += f" (its view {escape.text(s.entry)})"
        cells: list[str | Text] = [
            str(s.number),
            Text(what),
            Text(s.recommendation, style=VERDICT_STYLE.get(s.recommendation, "")),
        ]
        if roomy:
            cells.append(f"{s.speedup:g}x")
        cells += [_range(s.saving_share), Text(_range(s.cumulative_share), style="bold")]
        table.add_row(*cells)
    console.print()
    console.print(table)
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(ratio=1, overflow="fold")
    for s in plan.steps:
        if s.covers:
            names = ", ".join(f"{escape.text(t)} ({k})" for t, k in s.covers)
            grid.add_row(Text(f"step {s.number} covers {names}", style="dim"))
    for x in plan.left:
        if not x.reason.startswith("covered by"):
            why = escape.text(x.reason)
            grid.add_row(
                Text(f"not a step: {escape.text(x.target)} ({x.kind}): {why}", style="dim")
            )
    console.print(grid)


def _details(rows: list[tuple[Candidate, list[str]]]) -> Table:
    """Every row's reasons in full, wrapped under its number."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(justify="right", style="dim", no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for i, (c, kinds) in enumerate(rows, 1):
        text = Text.assemble(
            (escape.text(c.target), "bold"), f" ({', '.join(kinds)}, {c.recommendation})"
        )
        for r in c.reasons:
            text.append("\n" + escape.text(r))
        grid.add_row(str(i), text)
    return grid


def _merge_rows(cands: list[Candidate]) -> list[tuple[Candidate, list[str]]]:
    """One row for a view that is both a function and an endpoint with the same verdict
    (``tags_view [function, endpoint]``); the row keeps the first one's numbers and reason."""
    rows: list[tuple[Candidate, list[str]]] = []
    seen: dict[tuple[str, str], list[str]] = {}
    for c in cands:
        key = (c.target, c.recommendation)
        kinds = seen.get(key)
        if kinds is not None and c.kind not in kinds:
            kinds.append(c.kind)
            continue
        rows.append((c, [c.kind]))
        seen[key] = rows[-1][1]
    return rows


def render_briefs(analysis: Analysis, out: IO[str]) -> None:
    """The extraction brief of every recommended candidate, as plain text."""
    briefs = [c.brief for c in analysis.candidates or [] if c.brief]
    if not briefs:
        out.write("No candidate is recommended, so there is no extraction brief.\n")
    for b in briefs:
        out.write(f"\n{escape.lines(b)}\n")


def _render(analysis: Analysis, out: IO[str]) -> None:
    render(analysis, out)


RENDERER = Renderer("text", ".txt", _render)

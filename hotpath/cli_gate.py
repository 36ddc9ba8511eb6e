"""``hotpath diff`` and ``hotpath gate``: thin commands over :mod:`hotpath.analysis.gate`.

Each side may be several files: ``hotpath diff BASE CURRENT`` takes one file or directory
per side (a directory means every profile file in it, merged); ``--base F`` and
``--current F`` (repeatable) add files to a side, so ``hotpath gate --base w1.txt --base
w2.txt --current pr/`` works too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hotpath.cli_common import (
    EXIT_ON_BROKEN_PIPE,
    InputOptions,
    fleet_from,
    fleet_options,
    input_options,
    output_stream,
    read_inputs,
)
from hotpath.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def _sides(
    paths: tuple[str, ...], base: tuple[str, ...], current: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    if len(paths) not in (0, 2):
        raise UsageError(
            "give BASE and CURRENT (a file or directory each), or --base/--current files"
        )
    b = ([paths[0]] if paths else []) + list(base)
    c = ([paths[1]] if paths else []) + list(current)
    if not b or not c:
        raise UsageError("both a base and a current profile are needed")
    return b, c


def _common(f: F) -> F:
    options = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--base", "base", multiple=True, type=click.Path(), help="Add a base file."),
        click.option(
            "--current", "current", multiple=True, type=click.Path(), help="Add a current file."
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            default=None,
            help="pyproject.toml to read [tool.hotpath] from (default: nearest one).",
        ),
        click.option(
            "--source-root",
            type=click.Path(file_okay=False),
            default=None,
            help="Compare paths under this directory relative to it, so two checkouts "
            "match (default: [tool.hotpath] source-root; else absolute paths as recorded).",
        ),
        click.option("--min-change-pp", type=float, default=None, help="Default 1.0."),
        click.option("--min-change-relative", type=float, default=None, help="Default 0.10."),
        click.option("--alpha", type=float, default=None, help="Default 0.05."),
        click.option("--correction", type=click.Choice(["holm", "bh", "none"]), default=None),
        click.option("--dispersion", type=float, default=None, help="Default 2.0."),
        click.option("--ignore", multiple=True, help="Pattern of functions not to compare."),
        click.option(
            "--estimate-dispersion/--no-estimate-dispersion",
            default=None,
            help="Measure the dispersion from a side's files, processes or threads, or raise "
            "it when the two profiles' stacks disagree more than it allows (default: on).",
        ),
    ]
    for opt in reversed(options):
        f = opt(f)
    return fleet_options(input_options(f))


def _config(kw: dict[str, Any], budgets: tuple[Any, ...] = ()) -> Any:
    from hotpath.analysis.gate import load_config, override

    config = load_config(kw.pop("config_file"))
    ignore = tuple(kw.pop("ignore")) or None
    if ignore:
        ignore = (*config.diff.ignore, *ignore)
    root = kw.pop("source_root")
    return override(
        config,
        budgets,
        ignore=ignore,
        source_root=os.path.abspath(root) if root else None,
        **kw,
    )


@click.command()
@_common
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
def diff(
    paths: tuple[str, ...],
    base: tuple[str, ...],
    current: tuple[str, ...],
    input_format: str | None,
    max_decompressed_mb: int | None,
    fmt: str,
    output: str | None,
    **kw: Any,
) -> None:
    """Compare CPU shares of CURRENT with BASE (per function and endpoint, with significance)."""
    from hotpath.analysis.diff import diff_profiles
    from hotpath.report import diff as rep
    from hotpath.report.diff_html import render_diff_html

    b, c = _sides(paths, base, current)
    fleet = fleet_from(kw)
    config = _config(kw)
    inputs = InputOptions(input_format, max_decompressed_mb, fleet)
    # A side's files are read one by one only when the noise is estimated from their spread.
    (base_p, base_parts), (cur_p, cur_parts) = read_inputs(
        [b, c], inputs, per_file=config.diff.estimate_dispersion
    )
    result = diff_profiles(base_p, cur_p, config.diff, fmt == "html", base_parts, cur_parts)
    render = {
        "text": rep.render_diff_text,
        "json": rep.render_diff_json,
        "markdown": rep.render_diff_markdown,
        "html": render_diff_html,
    }[fmt]
    with output_stream(output) as out:
        render(result, out)


@click.command()
@_common
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    help="FUNCTION=SHARE, e.g. 'myapp.search:score=12%' (adds to [tool.hotpath.budgets]).",
)
@click.option("--endpoint-budget", "endpoint_budgets", multiple=True, help="ENDPOINT=SHARE.")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text"
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report here instead of stdout (annotations stay on stdout).",
)
@click.option("--junit", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML.")
@click.option(
    "--annotations/--no-annotations",
    default=None,
    help="Print GitHub workflow annotations (default: when GITHUB_ACTIONS=true).",
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False),
    default=None,
    help="Append the Markdown summary here (default: $GITHUB_STEP_SUMMARY when set).",
)
@click.option("--explain", is_flag=True, help="Print the effective settings and exit.")
def gate(
    paths: tuple[str, ...],
    base: tuple[str, ...],
    current: tuple[str, ...],
    input_format: str | None,
    max_decompressed_mb: int | None,
    budgets: tuple[str, ...],
    endpoint_budgets: tuple[str, ...],
    fmt: str,
    output: str | None,
    junit: str | None,
    annotations: bool | None,
    summary: str | None,
    explain: bool,
    **kw: Any,
) -> None:
    """Exit 1 when CURRENT regressed against BASE beyond noise, or a budget is exceeded."""
    from hotpath.analysis.gate import explain as explain_rows
    from hotpath.analysis.gate import parse_budget_option, run_gate
    from hotpath.report import ci
    from hotpath.report import diff as rep

    extra = tuple(parse_budget_option(t, "function") for t in budgets) + tuple(
        parse_budget_option(t, "endpoint") for t in endpoint_budgets
    )
    fleet = fleet_from(kw)
    config = _config(kw, extra)
    if explain:
        for name, value in explain_rows(config):
            click.echo(f"{name:<22} {value}")
        return
    b, c = _sides(paths, base, current)
    inputs = InputOptions(input_format, max_decompressed_mb, fleet)
    # A side's files are read one by one only when the noise is estimated from their spread.
    (base_p, base_parts), (cur_p, cur_parts) = read_inputs(
        [b, c], inputs, per_file=config.diff.estimate_dispersion
    )
    result = run_gate(base_p, cur_p, config, base_parts, cur_parts)
    ctx = click.get_current_context()
    ctx.meta[EXIT_ON_BROKEN_PIPE] = result.exit_code  # `gate | head` keeps the verdict
    render = {
        "text": rep.render_gate_text,
        "json": rep.render_gate_json,
        "markdown": rep.render_gate_markdown,
    }[fmt]
    summary = summary or os.environ.get("GITHUB_STEP_SUMMARY") or None
    with output_stream(output) as out:
        render(result, out)
    if junit:
        with output_stream(junit, binary=True) as f:
            ci.write_junit(result, f)
    if summary:
        from hotpath.output import open_output

        with open_output(summary, append=True) as f:
            rep.render_gate_markdown(result, f)
    if annotations is None:
        annotations = os.environ.get("GITHUB_ACTIONS") == "true"
    if annotations:
        with output_stream(None) as out:
            for line in ci.gate_annotations(result):
                out.write(line + "\n")
    ctx.exit(result.exit_code)

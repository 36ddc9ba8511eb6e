"""The ``hotpath`` command: thin click commands that wire the library together.

Each command parses options, makes one or two library calls, renders, and returns an exit
code. :class:`~hotpath.errors.HotpathError` becomes one line on stderr and its exit code.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

import click

from hotpath import __version__
from hotpath.errors import HotpathError

F = TypeVar("F", bound=Callable[..., Any])


class HotpathGroup(click.Group):
    """Turns HotpathError into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HotpathError as exc:
            click.echo(f"hotpath: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("hotpath: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=HotpathGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hotpath")
def main() -> None:
    """Find the hot paths of a Python web monolith and what to rewrite in Rust."""


@contextmanager
def output_stream(path: str | None, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, or a file written atomically (temp file + rename) so no half file is left."""
    if path is None or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    from hotpath.collect.store import atomic_writer

    with atomic_writer(path, binary=binary) as f:
        yield f


def _format_choice() -> click.Choice[str]:
    from hotpath.report import REGISTRY

    return click.Choice(list(REGISTRY))


def _input_format_choice() -> click.Choice[str]:
    from hotpath.formats import format_names

    return click.Choice(format_names())


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "-f",
    "fmt",
    type=_format_choice(),
    default=None,
    help="Report format (default: text on a terminal or for stdout).",
)
@click.option(
    "--input-format",
    type=_input_format_choice(),
    default=None,
    help="Skip detection and read every file as this format.",
)
@click.option(
    "--top", type=click.IntRange(1), default=20, show_default=True, help="Rows per table."
)
@click.option(
    "--source-root",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory of the app's own code (default: the current directory when it "
    "holds the profiled files; otherwise anything not stdlib/library is app).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report here instead of stdout.",
)
def analyze(
    files: tuple[str, ...],
    fmt: str | None,
    input_format: str | None,
    top: int,
    source_root: str | None,
    output: str | None,
) -> None:
    """Read profile FILES (merged into one) and rank the hot functions."""
    from hotpath.analysis.summary import AnalyzeOptions
    from hotpath.analysis.summary import analyze as run_analysis
    from hotpath.formats import read_profiles
    from hotpath.report import REGISTRY

    profile = read_profiles(list(files), input_format)
    result = run_analysis(profile, AnalyzeOptions(source_root=source_root, top=top))
    if fmt is None:
        fmt = _format_from_output(output) or "text"
    renderer = REGISTRY[fmt]
    with output_stream(output, renderer.binary) as out:
        renderer.render(result, out)


def _format_from_output(output: str | None) -> str | None:
    if not output:
        return None
    from hotpath.report import REGISTRY

    for name, r in REGISTRY.items():
        if output.lower().endswith(r.extension) and name != "text":
            return name
    return None


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file ('-' for stdout).",
)
@click.option(
    "--to",
    "to_fmt",
    default=None,
    help="Output format (default: from the output file's extension).",
)
@click.option("--input-format", type=_input_format_choice(), default=None)
def convert(
    inputs: tuple[str, ...], output: str, to_fmt: str | None, input_format: str | None
) -> None:
    """Convert profile INPUTS (merged) to another format: folded, speedscope, ..."""
    from hotpath.formats import REGISTRY, format_for_output, read_profiles, write_profile

    fmt = format_for_output(output, to_fmt)
    profile = read_profiles(list(inputs), input_format)
    if output == "-":
        buf = io.BytesIO()
        write_profile(profile, buf, fmt)
        sys.stdout.buffer.write(buf.getvalue())
        sys.stdout.flush()
        return
    with output_stream(output, binary=True) as out:
        write_profile(profile, out, fmt)
    click.echo(f"wrote {output} ({REGISTRY[fmt].name})", err=True)


def run() -> None:  # console-script entry point
    main(prog_name=os.environ.get("HOTPATH_PROG", "hotpath"))


def _add_gate_commands() -> None:
    from hotpath.cli_gate import diff, gate

    main.add_command(diff)
    main.add_command(gate)


_add_gate_commands()

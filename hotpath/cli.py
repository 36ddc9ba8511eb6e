"""The ``hotpath`` command: thin click commands that wire the library together.

Each command parses options, makes one or two library calls, renders, and returns an exit
code. :class:`~hotpath.errors.HotpathError` becomes one line on stderr and its exit code.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hotpath._version import __version__
from hotpath.cli_common import (
    EXIT_ON_BROKEN_PIPE,
    InputOptions,
    fleet_from,
    fleet_options,
    input_options,
    output_stream,
    quiet_stdout,
    read_inputs,
)
from hotpath.errors import HotpathError

F = TypeVar("F", bound=Callable[..., Any])


class HotpathGroup(click.Group):
    """Turns HotpathError into one line on stderr and the error's exit code; a reader that
    closes stdout early (``hotpath gate | head``) ends the command quietly, with the exit
    code the command had decided on (the gate's verdict) or 0."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:  # what the command printed must reach stdout, or the error be said
                _flush_stdout()
        except BrokenPipeError:
            quiet_stdout()
            ctx.exit(ctx.meta.get(EXIT_ON_BROKEN_PIPE, 0))
        except HotpathError as exc:
            click.echo(f"hotpath: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("hotpath: interrupted", err=True)
            ctx.exit(130)


def _flush_stdout() -> None:
    from hotpath.output import open_output

    with open_output(None, binary=True):
        pass


@click.group(cls=HotpathGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hotpath")
def main() -> None:
    """Find the hot paths of a Python web monolith and what to rewrite in Rust."""


def _format_choice() -> click.Choice[str]:
    from hotpath.report import REGISTRY

    return click.Choice(list(REGISTRY))


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
@input_options
@fleet_options
@click.option(
    "--top", type=click.IntRange(1), default=20, show_default=True, help="Rows per table."
)
@click.option(
    "--source-root",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory of the app's own code (default: none; then any code that is not the "
    "standard library, site-packages or native counts as the app's).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report here instead of stdout.",
)
@click.option(
    "--rust-speedup",
    type=click.FloatRange(1.0, min_open=True),
    default=10.0,
    show_default=True,
    help="Assumed speed-up of interpreted Python rewritten in Rust (Amdahl's law).",
)
@click.option(
    "--cores",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    help="Cores the service uses at the observed load (default: measured from the profile).",
)
@click.option(
    "--core-hour-price",
    type=click.FloatRange(0.0),
    default=None,
    help="Price of one core-hour, to state savings in money per month.",
)
@click.option("--brief", is_flag=True, help="Also print an extraction brief per recommendation.")
@click.option(
    "--replay",
    "replays",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A `hotpath replay -o` result: its measured speed-up is k for that function.",
)
@click.option(
    "--capture",
    "captures",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A `hotpath capture` file: the brief shows the observed boundary (types, sizes).",
)
@click.option(
    "--max-functions",
    type=click.IntRange(1),
    default=500_000,
    show_default=True,
    help="Refuse profiles with more distinct functions (bounds time and memory).",
)
def analyze(
    files: tuple[str, ...],
    fmt: str | None,
    input_format: str | None,
    top: int,
    source_root: str | None,
    output: str | None,
    rust_speedup: float,
    cores: float | None,
    core_hour_price: float | None,
    brief: bool,
    replays: tuple[str, ...],
    captures: tuple[str, ...],
    max_functions: int,
    max_decompressed_mb: int | None,
    **fleet: Any,
) -> None:
    """Read profile FILES (merged into one; directories and quoted globs too) and rank the
    hot functions."""
    from hotpath.analysis.options import AdvisorOptions, AnalyzeOptions
    from hotpath.analysis.pipeline import analyze as run_analysis
    from hotpath.report import REGISTRY

    inputs = InputOptions(input_format, max_decompressed_mb, fleet_from(fleet))
    loaded = read_inputs([files], inputs)  # one side: [(profile, per-file profiles)]
    from hotpath.prove.evidence import boundaries_from, speedups_from

    advisor = AdvisorOptions(
        rust_speedup=rust_speedup,
        cores=cores,
        core_hour_price=core_hour_price,
        measured=speedups_from(replays),
        boundaries=boundaries_from(captures),
    )
    if fmt is None:
        fmt = _format_from_output(output) or "text"
    options = AnalyzeOptions(
        source_root=source_root,
        top=top,
        advisor=advisor,
        flame=fmt == "html",  # only the HTML report draws a flame graph
        max_functions=max_functions,
    )
    # The analysis labels endpoints into a new profile: holding no reference here lets the
    # unlabelled one be freed then (6.6 of 117 MiB at the peak on a 100 MB py-spy file).
    result = run_analysis(loaded.pop()[0], options)
    from hotpath.prove.evidence import unmatched

    for note in unmatched(result, advisor):
        click.echo(f"hotpath: note: {note}", err=True)
    renderer = REGISTRY[fmt]
    with output_stream(output, renderer.binary) as out:
        renderer.render(result, out)
        if brief and fmt == "text":
            from hotpath.report.text import render_briefs

            render_briefs(result, out)
    if brief and fmt != "text" and output not in (None, "-"):
        # Machine formats carry the briefs inside; a report written to a file leaves
        # stdout free for the reader.
        from hotpath.report.text import render_briefs

        with output_stream(None) as out:
            render_briefs(result, out)


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
@input_options
@fleet_options
@click.option(
    "--measure",
    type=click.Choice(["cpu", "wall"]),
    default="cpu",
    show_default=True,
    help="folded, speedscope, dot: which time to write when the profile holds CPU and wall "
    "time (pprof holds both; hotpath files keep everything).",
)
@click.option(
    "--node-thres",
    type=click.FloatRange(0, 100),
    default=0.5,
    show_default=True,
    help="dot: leave out functions below this percent of the total.",
)
@click.option(
    "--edge-thres",
    type=click.FloatRange(0, 100),
    default=0.1,
    show_default=True,
    help="dot: leave out calls below this percent of the total.",
)
def convert(
    inputs: tuple[str, ...],
    output: str,
    to_fmt: str | None,
    input_format: str | None,
    max_decompressed_mb: int | None,
    measure: str,
    node_thres: float,
    edge_thres: float,
    **fleet: Any,
) -> None:
    """Convert profile INPUTS (merged) to another format: folded, speedscope, pprof, dot ..."""
    from hotpath.report.dot import DotOptions
    from hotpath.report.exports import ExportOptions, export, output_format

    fmt = output_format(output, to_fmt)
    reading = InputOptions(input_format, max_decompressed_mb, fleet_from(fleet))
    ((profile, _),) = read_inputs([inputs], reading)
    options = ExportOptions(measure=measure, dot=DotOptions(node_thres, edge_thres))
    if output == "-":
        buf = io.BytesIO()  # a failing writer leaves nothing half-written on stdout
        what = export(profile, buf, fmt, options)
        with output_stream(output, binary=True) as out:
            out.write(buf.getvalue())
        return
    with output_stream(output, binary=True) as out:
        what = export(profile, out, fmt, options)
    click.echo(f"wrote {output} ({fmt}: {what})", err=True)


# -- collecting with py-spy -----------------------------------------------------------------
def _record_options(f: F) -> F:
    opts = [
        click.option("--rate", "-r", type=int, default=500, show_default=True,
                     help="Samples per second (500: short requests are seen; docs/collect.md)."),
        click.option("--duration", "-d", type=float, default=None,
                     help="Seconds to sample (default: until Ctrl-C or the target exits)."),
        click.option("--idle/--no-idle", "-i", default=True, show_default=True,
                     help="Keep idle (off-CPU) time in the wall part of the profile."),
        click.option("--gil", "-g", is_flag=True,
                     help="Only samples holding the GIL (raw counts, no CPU weighting)."),
        click.option("--subprocesses", "-s", is_flag=True,
                     help="Also sample child processes (gunicorn/uwsgi workers)."),
        click.option("--native", "-n", is_flag=True, help="Include native (C/Cython) frames."),
        click.option("--nonblocking/--blocking", default=None,
                     help="Sample without pausing the target (default on Python 3.11+, where "
                          "it is cheaper and as accurate) or pause it on every sample."),
        click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                     help="Output file (hotpath profile; default: hotpath-<target>.hotpath)."),
    ]  # fmt: skip
    for opt in reversed(opts):
        f = opt(f)
    return f


def _run_recording(target: int | list[str], output: str | None, **kw: Any) -> None:
    from rich.console import Console

    from hotpath.collect.live import drive
    from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
    from hotpath.formats import write_profile
    from hotpath.output import check_writable

    if output is None:
        output = f"hotpath-{target if isinstance(target, int) else os.path.basename(target[0])}"
        output += ".hotpath"
    check_writable(output)  # before anything is started or said, not after the recording
    options = RecordOptions(**kw)
    recorder = PySpyRecorder(target, options)
    for note in recorder.notes:
        click.echo(f"hotpath: {note}", err=True)
    console = Console(stderr=True)
    seen = len(recorder.notes)
    result = drive(recorder, console if console.is_terminal else None)
    for note in recorder.notes[seen:]:
        click.echo(f"hotpath: {note}", err=True)
    with output_stream(output, binary=True) as out:
        write_profile(result.profile, out, "hotpath")
    why = {
        "interrupted": "stopped by Ctrl-C",
        "terminated": "stopped by SIGTERM",
        "hangup": "stopped by SIGHUP",
        "duration": "duration reached",
        "target exited": "the target exited",
    }.get(result.stopped_by, result.stopped_by)
    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone; the file is not
        click.echo(
            f"hotpath: {why}; wrote what was collected to {output} "
            f"({result.samples} samples in {result.elapsed_s:.1f} s, {result.errors} errors)",
            err=True,
        )


@main.command()
@click.argument("pid", type=int)
@_record_options
def attach(pid: int, output: str | None, **kw: Any) -> None:
    """Sample the running Python process PID with py-spy and write a hotpath profile."""
    _run_recording(pid, output, **kw)


@main.command(context_settings={"ignore_unknown_options": True})
@_record_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def record(command: tuple[str, ...], output: str | None, **kw: Any) -> None:
    """Start COMMAND (after --) and sample it with py-spy until it exits or is stopped."""
    _run_recording(list(command), output, **kw)


@main.command()
@click.option("--duration", type=float, default=15.0, show_default=True, help="Seconds of load.")
@click.option("--clients", type=int, default=4, show_default=True)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Where to write the report files.",
)
@click.option(
    "--prove",
    is_flag=True,
    help="Then capture the kernel's calls, replay them against jellyfish (Rust), and "
    "compare the predicted saving with the one measured with it swapped in.",
)
def demo(duration: float, clients: int, out_dir: str, prove: bool) -> None:
    """Profile the bundled sample monolith under load and show what hotpath finds."""
    from hotpath.demo.run import DemoOptions, run_demo

    options = DemoOptions(duration_s=duration, clients=clients, out_dir=out_dir, prove=prove)
    run_demo(options, sys.stdout)


def run() -> None:  # console-script entry point
    try:
        main(prog_name=os.environ.get("HOTPATH_PROG", "hotpath"))
    except KeyboardInterrupt:  # Ctrl-C before a command started (while importing)
        click.echo("hotpath: interrupted", err=True)
        sys.exit(130)


def _add_gate_commands() -> None:
    from hotpath.cli_gate import diff, gate
    from hotpath.cli_prove import capture, replay

    main.add_command(diff)
    main.add_command(gate)
    main.add_command(capture)
    main.add_command(replay)


_add_gate_commands()

"""``hotpath capture`` and ``hotpath replay``: record a function's real calls, replay them.

Thin click commands over :mod:`hotpath.prove`; see docs/advisor.md ("Proving the advice").
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from typing import Any

import click

from hotpath.cli_common import output_stream
from hotpath.errors import CollectionError, UsageError


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--function",
    "-F",
    "target",
    required=True,
    metavar="MODULE:QUALNAME",
    help="The function to record (where it is looked up, e.g. app.text:distance).",
)
@click.option(
    "--calls",
    type=click.IntRange(1, 1_000_000),
    default=1000,
    show_default=True,
    help="Calls kept (a uniform sample of all calls: reservoir sampling).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(1024),
    default=8 * 1024 * 1024,
    show_default=True,
    help="Bytes of recorded calls kept at most.",
)
@click.option(
    "--max-overhead",
    type=click.FloatRange(0, min_open=True),
    default=0.05,
    show_default=True,
    help="The capture's own time as a fraction of the function's time, at most.",
)
@click.option(
    "--max-str",
    type=click.IntRange(1),
    default=4096,
    show_default=True,
    help="Characters of a string (bytes of bytes) recorded; longer ones are cut.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The capture file to write (JSON, mode 0600).",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def capture(
    target: str,
    calls: int,
    max_bytes: int,
    max_overhead: float,
    max_str: int,
    output: str,
    command: tuple[str, ...],
) -> None:
    """Run a Python COMMAND (after --: SCRIPT.py ARGS or -m MODULE ARGS) in this process and
    record a sample of the --function's calls: arguments, result or exception, time per call."""
    from hotpath.output import check_writable
    from hotpath.prove.capture import CaptureOptions
    from hotpath.prove.capture import capture as make_capture
    from hotpath.prove.values import ValueLimits

    argv = list(command)
    if argv and os.path.basename(argv[0]).startswith("python"):
        argv = argv[1:]  # "-- python script.py" means the same as "-- script.py"
    if not argv or (argv[0] == "-m" and len(argv) < 2):
        raise UsageError("capture: give the program after --: SCRIPT.py [ARGS] or -m MODULE [ARGS]")
    check_writable(output)
    options = CaptureOptions(
        max_calls=calls,
        max_bytes=max_bytes,
        max_overhead=max_overhead,
        limits=ValueLimits(max_str=max_str),
    )
    module = argv[1] if argv[0] == "-m" else None
    script = None if module is not None else argv[0]
    sys.argv = argv[1:] if module is not None else argv
    sys.path.insert(0, os.getcwd() if script is None else os.path.dirname(os.path.abspath(script)))
    cap = make_capture(target, output, options).install()
    code: object = 0
    try:
        if module is not None:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(script or "", run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        code = "interrupted"
    except Exception:
        traceback.print_exc()
        code = "raised"
    finally:
        cap.uninstall()
        written = cap.write()
    doc_calls = cap.document()  # small: the records are already bounded
    click.echo(f"hotpath: wrote {written} ({_counts(doc_calls)})", err=True)
    if code not in (0, None):
        raise CollectionError(f"the command ended with {code!r}; what was captured is in {written}")


def _counts(document: str) -> str:
    import json

    doc = json.loads(document)
    skipped = sum(doc["skipped"].values())
    extra = f", {skipped} not kept (overhead or size bounds)" if skipped else ""
    return f"{len(doc['records'])} of {doc['calls']} calls recorded{extra}"


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--with",
    "replacement",
    required=True,
    metavar="MODULE:FUNCTION",
    help="The replacement to call on every recorded input.",
)
@click.option(
    "--original",
    default=None,
    metavar="MODULE:FUNCTION",
    help="The function to time against (default: the captured one).",
)
@click.option("--no-original", is_flag=True, help="Only compare results; do not time.")
@click.option(
    "--rounds",
    type=click.IntRange(1, 1000),
    default=7,
    show_default=True,
    help="Timing rounds (original and replacement alternate).",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(0, min_open=True),
    default=30.0,
    show_default=True,
    help="Stop adding timing rounds after this (3 at least).",
)
@click.option(
    "--rel-tol",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Floats within this relative tolerance count as equal.",
)
@click.option("--check", is_flag=True, help="Exit 1 when a replayed call differs or raises.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the replay result (JSON) for `hotpath analyze --replay`.",
)
def replay(
    captures: tuple[str, ...],
    replacement: str,
    original: str | None,
    no_original: bool,
    rounds: int,
    max_seconds: float,
    rel_tol: float,
    check: bool,
    output: str | None,
) -> None:
    """Call a replacement on every input recorded in CAPTURES, compare its answers with the
    recorded ones, and measure its speed-up per call. Only the named functions are called:
    a function with side effects repeats them."""
    import json

    from hotpath.prove.files import read_captures
    from hotpath.prove.replay import ReplayOptions, load_function
    from hotpath.prove.replay import replay as run_replay

    cap = read_captures(list(captures))
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would find the project's modules
    repl = load_function(replacement, "--with")
    orig_name = None if no_original else (original or cap.function)
    orig = load_function(orig_name, "--original") if orig_name else None
    result = run_replay(
        cap,
        repl,
        replacement,
        orig,
        orig_name,
        ReplayOptions(rounds=rounds, max_seconds=max_seconds, rel_tol=rel_tol),
    )
    with output_stream(None) as out:
        out.write(_render(result) + "\n")
    if output is not None:
        with output_stream(output) as f:
            f.write(json.dumps(result.document(), indent=1) + "\n")
        click.echo(f"hotpath: wrote {output}", err=True)
    if check and not result.all_equal:
        click.get_current_context().exit(1)


def _render(result: Any) -> str:
    from hotpath.escape import text as escape_text

    lines = [
        f"{escape_text(result.function)} -> {escape_text(result.replacement)}: "
        f"{escape_text(result.summary())}"
    ]
    for i, what in result.differ:
        lines.append(f"  record {i}: differs: {escape_text(what)}")
    for i, what in result.raised:
        lines.append(f"  record {i}: raised {escape_text(what)}")
    more = result.n_differ - len(result.differ) + result.n_raised - len(result.raised)
    if more > 0:
        lines.append(f"  ... and {more} more")
    for why, n in sorted(result.skipped.items()):
        lines.append(f"  not replayed: {n} ({why})")
    if result.original_unstable:
        lines.append(
            f"  warning: the original itself answers differently on "
            f"{result.original_unstable} recorded inputs (not deterministic?)"
        )
    if result.original_cpu_s is not None and result.replacement_cpu_s is not None:
        lines.append(
            f"  CPU per call: original {result.original_cpu_s * 1e6:.3g} us, "
            f"replacement {result.replacement_cpu_s * 1e6:.3g} us"
            + (
                f" (recorded in the app: {result.recorded_cpu_s * 1e6:.3g} us)"
                if result.recorded_cpu_s is not None
                else ""
            )
        )
    return "\n".join(lines)

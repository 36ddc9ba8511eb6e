"""The ``hotpath`` console script: the command's modules load inside the Ctrl-C guard.

The script pip writes runs ``from <module> import run`` before anything else; pointed at
``hotpath.cli`` that import (click, rich, the commands: about 0.1 s) ran outside any guard,
and a Ctrl-C in it printed Python's traceback. This module imports nothing beyond the package
face, so the guard covers all of hotpath's own loading.
"""

from __future__ import annotations

import gc
import sys

GC_THRESHOLD = (200_000, 30, 30)
"""The cyclic collector's thresholds for a command run (mypy's choice, for the same reason).

A profile is millions of small containers (stack tuples, frames, dicts) and almost no
cycles; at Python's default (700, 10, 10) the collector ran 969 times over one 100 MB py-spy
file and took 0.57-0.97 s of its analysis, scanning the profile again and again; at these
thresholds 0.22-0.43 s, with the same peak memory (122 MiB)."""


def run() -> None:
    gc.set_threshold(*GC_THRESHOLD)  # the command line only: a library import changes nothing
    try:
        from hotpath.cli import run as cli_run
    except KeyboardInterrupt:  # Ctrl-C while the command is still loading
        sys.stderr.write("hotpath: interrupted\n")
        sys.exit(130)
    cli_run()

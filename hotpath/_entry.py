"""The ``hotpath`` console script: the command's modules load inside the Ctrl-C guard.

The script pip writes runs ``from <module> import run`` before anything else; pointed at
``hotpath.cli`` that import (click, rich, the commands: about 0.1 s) ran outside any guard,
and a Ctrl-C in it printed Python's traceback. This module imports nothing beyond the package
face, so the guard covers all of hotpath's own loading.
"""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from hotpath.cli import run as cli_run
    except KeyboardInterrupt:  # Ctrl-C while the command is still loading
        sys.stderr.write("hotpath: interrupted\n")
        sys.exit(130)
    cli_run()

"""A WSGI server process with the middleware, for tests that kill it or fill its disk.

    python -m tests.collect.mwserver OUT_DIR PORT_FILE [--flush S] [--fsize BYTES] [--fork]

``--fsize`` sets RLIMIT_FSIZE (a full disk, for this process only) and ignores SIGXFSZ so
that writes fail with an error, as they do on a full disk, instead of killing the process.
``--fork``: the middleware is made (and its SIGTERM handler installed) in this process, which
then forks, as a pre-fork server's master does; the child serves (its pid in
``PORT_FILE.pid``) and this process waits for it, writes its wait status to
``PORT_FILE.status`` and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import signal

from hotpath.middleware import WSGIMiddleware
from tests.collect.sample_apps import WSGIRouter
from tests.collect.webapps import serve_wsgi


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("port_file")
    p.add_argument("--flush", type=float, default=0.2)
    p.add_argument("--fsize", type=int, default=None)
    p.add_argument("--fraction", type=float, default=0.5)
    p.add_argument("--fork", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    if args.fsize is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, args.fsize))
    app = WSGIMiddleware(
        WSGIRouter(), output_dir=args.out, flush_interval_s=args.flush,
        sample_fraction=args.fraction,
    )  # fmt: skip
    if args.fork:
        child = os.fork()
        if child:
            _write(args.port_file + ".pid", str(child))
            _pid, status = os.waitpid(child, 0)
            _write(args.port_file + ".status", str(status))
            os._exit(0)
    with serve_wsgi(app) as port:
        _write(args.port_file, str(port))
        while True:  # until killed; pause() lets Python signal handlers run
            signal.pause()


def _write(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()

"""The corpus: each framework's app, the server its users run it with, and what it names.

``start(name)`` serves one app on a free 127.0.0.1 port (its usual server, one worker
process) and waits until it answers; the caller ends it with :func:`stop`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def _gunicorn(target: str, threads: int = 4) -> Callable[[int], list[str]]:
    return lambda port: [
        PY, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", str(threads),
        "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", target,
    ]  # fmt: skip


def _waitress(target: str) -> Callable[[int], list[str]]:
    return lambda port: [PY, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4", target]


def _uvicorn(target: str) -> Callable[[int], list[str]]:
    return lambda port: [
        PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        target,
    ]  # fmt: skip


def _module(module: str) -> Callable[[int], list[str]]:
    return lambda port: [PY, "-m", module, str(port)]


@dataclass(frozen=True)
class Framework:
    name: str
    server: str
    command: Callable[[int], list[str]]
    views: dict[str, str]
    """Endpoint (``loop``/``sql``/``json``) -> the name the stack recognisers must give."""
    routes: dict[str, str]
    """Endpoint -> the middleware's ``METHOD /route``."""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def stats_view(self) -> str:
        """The ``/__stats`` view's name (it is requested while recordings run)."""
        loop = self.views["loop"]
        return loop.replace("loop", "stats").replace("Loop", "Stats")


def _fn(prefix: str = "") -> dict[str, str]:
    return {e: f"{prefix}{e}_view" for e in ("loop", "sql", "json")}


def _routes(loop: str) -> dict[str, str]:
    return {"loop": f"GET {loop}", "sql": "GET /sql", "json": "GET /json"}


FRAMEWORKS: dict[str, Framework] = {
    f.name: f
    for f in (
        Framework(
            "django", "gunicorn gthread, 4 threads",
            _gunicorn("tests.corpus.django_app:application"),
            _fn(), _routes("/loop/<int:n>"),
        ),
        Framework(
            "drf", "gunicorn gthread, 4 threads", _gunicorn("tests.corpus.drf_app:application"),
            {"loop": "LoopView.get", "sql": "SqlView.get", "json": "JsonView.get"},
            _routes("/loop/<int:n>"),
        ),
        Framework(
            "flask", "waitress, 4 threads", _waitress("tests.corpus.flask_app:app"),
            _fn(), _routes("/loop/<int:n>"),
        ),
        Framework(
            "fastapi", "uvicorn (sync endpoints)", _uvicorn("tests.corpus.fastapi_app:app"),
            _fn(), _routes("/loop/{n}"),
        ),
        Framework(
            "starlette", "uvicorn", _uvicorn("tests.corpus.starlette_app:app"),
            _fn(), _routes("/loop/{n:int}"),
        ),
        Framework(
            "litestar", "uvicorn", _uvicorn("tests.corpus.litestar_app:app"),
            _fn(), _routes("/loop/{n}"),
        ),
        Framework(
            "falcon", "gunicorn gthread, 4 threads", _gunicorn("tests.corpus.falcon_app:app"),
            {"loop": "LoopResource.on_get", "sql": "SqlResource.on_get",
             "json": "JsonResource.on_get"},
            _routes("/loop/{n:int}"),
        ),
        Framework(
            "pyramid", "waitress, 4 threads", _waitress("tests.corpus.pyramid_app:app"),
            _fn(), _routes("/loop/{n}"),
        ),
        Framework(
            "bottle", "waitress, 4 threads", _waitress("tests.corpus.bottle_app:app"),
            _fn(), _routes("/loop/<n:int>"),
        ),
        Framework(
            "aiohttp", "web.run_app", _module("tests.corpus.aiohttp_app"),
            _fn(), _routes("/loop/{n}"),
        ),
        Framework(
            "tornado", "tornado", _module("tests.corpus.tornado_app"),
            {"loop": "LoopHandler.get", "sql": "SqlHandler.get", "json": "JsonHandler.get"},
            _routes("/loop/([0-9]+)"),
        ),
        Framework(
            "quart", "hypercorn",
            lambda port: [PY, "-m", "hypercorn", "-b", f"127.0.0.1:{port}",
                          "tests.corpus.quart_app:app"],
            _fn(), _routes("/loop/<int:n>"),
        ),
        Framework(
            "sanic", "sanic (1 worker process)",
            lambda port: [PY, "-m", "sanic", "tests.corpus.sanic_app:app", "--host",
                          "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-logs"],
            _fn(), _routes("/loop/<n:int>"),
        ),
    )
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def get_stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats", timeout=10) as r:
        out: dict[str, Any] = json.loads(r.read())
        return out


@dataclass
class Server:
    framework: Framework
    proc: subprocess.Popen[bytes]
    port: int
    worker_pid: int
    """The process that runs the app (a worker under gunicorn and Sanic)."""
    log: Path


def start(name: str, log_dir: Path, middleware_dir: Path | None = None) -> Server:
    fw = FRAMEWORKS[name]
    env = {**os.environ, **fw.env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("HOTPATH_CORPUS_OUT", None)
    if middleware_dir is not None:
        env["HOTPATH_CORPUS_OUT"] = str(middleware_dir)
    log = log_dir / f"{name}.log"
    for _attempt in range(3):  # a free port can be taken by someone else before we bind it
        port = free_port()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                fw.command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                pid = int(get_stats(port)["pid"])
                return Server(fw, proc, port, pid, log)
            except OSError:
                time.sleep(0.1)
        stop_process(proc)
    raise AssertionError(f"{name} did not start: {log.read_text(errors='replace')[-2000:]}")


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    """Signal the server (its main process) and wait; kills it when it hangs."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the server and its workers
    return proc.wait(10)


def stop(server: Server) -> int:
    return stop_process(server.proc)

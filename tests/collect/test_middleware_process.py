"""The middleware in a real server process: killed with SIGKILL, SIGTERM, and a full disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotpath.formats import read_profile, read_profiles
from tests.collect.webapps import concurrent_requests

ROOT = Path(__file__).resolve().parents[2]
PATHS = [f"/orders/{i}" if i % 2 else "/wait" for i in range(200)]


@contextmanager
def server(tmp: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port_file = tmp / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.collect.mwserver", str(tmp / "out"), str(port_file), *extra],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        yield proc, int(port_file.read_text())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _counts(out: Path) -> dict[str, int]:
    return {ep: r.count for ep, r in read_profiles([out]).requests.items()}


def test_killed_worker_loses_at_most_one_flush_interval(tmp_path: Path) -> None:
    with server(tmp_path, "--flush", "0.1") as (proc, port):
        responses = concurrent_requests(port, PATHS, threads=8)
        time.sleep(0.5)  # several flush intervals with no traffic
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert all(b" 200 OK" in r for r in responses)
    assert _counts(tmp_path / "out") == {"GET /orders/<id>": 100, "GET /wait": 100}
    assert [f.name for f in (tmp_path / "out").iterdir() if f.name.startswith(".")] == []


def test_sigterm_flushes_before_exit(tmp_path: Path) -> None:
    # a flush interval far longer than the test: only the SIGTERM handler can write the file
    with server(tmp_path, "--flush", "3600") as (proc, port):
        concurrent_requests(port, PATHS, threads=8)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM  # the default action still happens
    assert _counts(tmp_path / "out") == {"GET /orders/<id>": 100, "GET /wait": 100}


def test_sigterm_waits_for_the_request_in_flight_then_flushes_it(tmp_path: Path) -> None:
    """A server with no SIGTERM handler of its own (the handler here is the middleware's)
    dies by the default action: the request it was serving finishes first and is in the
    file. Before, the handler flushed at once, without it (an empty file came out when the
    signal found the store busy), and the client's connection was cut."""
    import threading

    from tests.collect.webapps import raw_request

    with server(tmp_path, "--flush", "3600", "--fraction", "0") as (proc, port):
        got: list[bytes] = []
        client = threading.Thread(target=lambda: got.append(raw_request(port, "/slow?ms=1500")))
        client.start()
        time.sleep(0.5)  # well inside the request
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM  # the default action still happens
        client.join(timeout=10)
    assert got and got[0].startswith(b"HTTP/1.0 200 OK") and got[0].endswith(b"slept"), got
    assert _counts(tmp_path / "out") == {"GET /slow": 1}


def test_sigterm_in_a_forked_worker_drains_its_own_request(tmp_path: Path) -> None:
    """The middleware made before a fork (a pre-fork server's master imports the app): the
    child's SIGTERM waits for the child's request in flight, flushes it into the child's own
    file, and dies by the default action. Threads do not survive a fork, so the drain thread
    is started again in the child; without it the handler flushed at once, without the
    request."""
    import threading

    from tests.collect.webapps import raw_request

    pid_file, status_file = tmp_path / "port.pid", tmp_path / "port.status"
    with server(tmp_path, "--flush", "3600", "--fraction", "0", "--fork") as (proc, port):
        child = int(pid_file.read_text())
        assert child != proc.pid
        got: list[bytes] = []
        client = threading.Thread(target=lambda: got.append(raw_request(port, "/slow?ms=1500")))
        client.start()
        time.sleep(0.5)  # well inside the request
        os.kill(child, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        client.join(timeout=10)
    status = int(status_file.read_text())
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, status
    assert got and got[0].startswith(b"HTTP/1.0 200 OK") and got[0].endswith(b"slept"), got
    files = list((tmp_path / "out").iterdir())
    assert len(files) == 1 and f"-{child}-" in files[0].name, files  # the child's own file
    assert _counts(tmp_path / "out") == {"GET /slow": 1}


def test_disk_full_every_request_served_logged_once(tmp_path: Path) -> None:
    with server(tmp_path, "--flush", "0.05", "--fsize", "64") as (proc, port):
        responses = concurrent_requests(port, PATHS * 2, threads=32)
        time.sleep(0.3)  # several failing flushes
        responses += concurrent_requests(port, PATHS, threads=32)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert len(responses) == 600
    assert all(r.startswith(b"HTTP/1.0 200 OK") for r in responses)
    faults = [line for line in stderr.splitlines() if line.startswith("hotpath.middleware")]
    assert len(faults) == 1, stderr
    assert "File too large" in faults[0]
    # no half-written file is left behind
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []


def test_gunicorn_preforked_workers_one_file_each_nothing_lost(tmp_path: Path) -> None:
    import re
    import shutil

    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    assert gunicorn is not None, "gunicorn (test extra) is not installed"
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [gunicorn, "-w", "2", "--preload", "-b", "127.0.0.1:0", "--graceful-timeout", "5",
         "tests.collect.gunicorn_app:app"],
        cwd=ROOT,
        env={**os.environ, "HOTPATH_TEST_OUT": str(out)},
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        port, booted, log = None, 0, []
        deadline = time.monotonic() + 30
        while (port is None or booted < 2) and time.monotonic() < deadline:
            line = proc.stderr.readline()
            log.append(line)
            if m := re.search(r"Listening at: http://127.0.0.1:(\d+)", line):
                port = int(m.group(1))
            booted += "Booting worker" in line
        assert port is not None and booted == 2, "".join(log)
        responses = concurrent_requests(port, PATHS, threads=8)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert all(b" 200 OK" in r for r in responses)
    files = sorted(out.iterdir())
    pid_of = {f.name: read_profile(f).meta.attrs["pid"] for f in files}
    assert all(f"-{pid}-" in name for name, pid in pid_of.items())  # pid in the name
    pids = set(pid_of.values())
    assert len(files) == len(pids) >= 1  # one file per worker process, none shared
    assert str(proc.pid) not in pids  # the master served nothing and wrote nothing
    assert _counts(out) == {"GET /orders/<id>": 100, "GET /wait": 100}

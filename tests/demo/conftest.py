from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotpath.demo.app import DemoServer

ROOT = Path(__file__).resolve().parents[2]


def get(port: int, target: str) -> tuple[int, bytes]:
    """One real HTTP GET over loopback."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def get_json(port: int, target: str) -> Any:
    status, body = get(port, target)
    assert status == 200, body
    return json.loads(body)


def demo_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HOTPATH_DEMO_STUB_KERNEL"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def start_cli_server(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """``python -m hotpath.demo.app --port 0 --port-file F ...`` as a child; returns its port."""
    port_file = tmp_path / "port"
    cmd = [sys.executable, "-m", "hotpath.demo.app", "--port", "0", "--port-file", str(port_file)]
    proc = subprocess.Popen(
        [*cmd, *args],
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not port_file.exists():
        if proc.poll() is not None:
            pytest.fail(f"demo server exited early: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("demo server did not write its port file")
        time.sleep(0.02)
    return proc, int(port_file.read_text())


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoServer]:
    """The monolith on a free 127.0.0.1 port, served from a background thread."""
    monkeypatch.delenv("HOTPATH_DEMO_STUB_KERNEL", raising=False)
    with DemoServer() as s:
        yield s

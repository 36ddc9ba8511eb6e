from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hotpath.demo import truth
from hotpath.demo.app import DemoServer
from hotpath.demo.load import LoadOptions, run_load
from hotpath.errors import UsageError

from .conftest import demo_env, get_json


def _server_counts(server: DemoServer) -> dict[str, int]:
    stats = get_json(server.port, "/__stats")
    return {ep: row["count"] for ep, row in stats["endpoints"].items()}


def test_run_load_stops_on_count(server: DemoServer) -> None:
    result = run_load(LoadOptions(server.port, clients=3, requests=36, duration_s=120))
    assert result.total == 36 and not result.errors
    per_round = len(truth.schedule("default"))
    assert result.done == {p: 36 // per_round * w for p, w in truth.MIXES["default"].items()}
    # The server saw exactly what the driver says it sent.
    assert _server_counts(server) == {f"GET {p}": n for p, n in result.done.items()}


def test_run_load_stops_on_time(server: DemoServer) -> None:
    result = run_load(
        LoadOptions(server.port, clients=2, requests=10**9, duration_s=0.5, mix="kernel-only")
    )
    assert 0 < result.total < 10**9
    assert result.elapsed_s >= 0.5  # it ran until its deadline, not to its count
    # Nothing is left running after it returns: the server's count stays put.
    before = _server_counts(server)
    assert before == {"GET /kernel": result.total + sum(result.errors.values())}
    assert _server_counts(server) == before


def test_run_load_refuses_non_loopback_hosts_and_unknown_mixes() -> None:
    with pytest.raises(UsageError, match="loopback"):
        run_load(LoadOptions(80, host="192.0.2.1", requests=1))
    with pytest.raises(UsageError, match="unknown mix"):
        run_load(LoadOptions(80, mix="nope", requests=1))


def test_load_cli_reports_requests_per_endpoint(server: DemoServer) -> None:
    cmd = [sys.executable, "-m", "hotpath.demo.load", "--port", str(server.port)]
    cmd += ["--clients", "2", "--requests", "12", "--duration", "60"]
    done = subprocess.run(cmd, env=demo_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["requests"] == 12
    assert report["done"] == {p: 2 for p in truth.MIXES["default"]}
    assert report["errors"] == {}


def test_load_cli_counts_failures_when_nothing_listens(server: DemoServer) -> None:
    port = server.port
    server.stop()  # the port is now closed: every request fails to connect
    cmd = [sys.executable, "-m", "hotpath.demo.load", "--port", str(port)]
    cmd += ["--clients", "1", "--requests", "3", "--duration", "30"]
    done = subprocess.run(cmd, env=demo_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["requests"] == 0 and sum(report["errors"].values()) == 3

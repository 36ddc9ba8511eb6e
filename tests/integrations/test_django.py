"""Django: the MIDDLEWARE entry labels requests with the URL pattern; SIGTERM flushes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from hotpath.formats import read_profiles
from tests.collect.webapps import concurrent_requests

ROOT = Path(__file__).resolve().parents[2]


def test_django_middleware_labels_route_pattern_not_url(tmp_path: Path) -> None:
    out, port_file = tmp_path / "out", tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integrations.djangoserver", str(out), str(port_file)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline
            time.sleep(0.02)
        port = int(port_file.read_text())
        paths = [f"/orders/{7000 + i}/?q=zz91" for i in range(20)] + ["/nowhere-zz91/"]
        got = concurrent_requests(port, paths, threads=8)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert all(r.startswith(b"HTTP/1.0 200") for r in got[:20])
    assert got[20].startswith(b"HTTP/1.0 404")
    profile = read_profiles([out])
    assert {ep: r.count for ep, r in profile.requests.items()} == {
        "GET /orders/<int:id>/": 20,
        "GET <unmatched>": 1,
    }
    assert not any("7000" in v or "zz91" in v for v in profile.label_values("endpoint"))
    assert {"order", "burn"} <= {f.name for f in profile.frames}

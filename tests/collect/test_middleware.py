"""The middleware under real concurrent load on 127.0.0.1: nothing changed, nothing lost."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.formats import read_profiles
from hotpath.middleware import ASGIMiddleware, WSGIMiddleware
from hotpath.model import CPU, ENDPOINT, MEASURE, cpu_view
from tests.collect.sample_apps import WSGIRouter, make_starlette_app
from tests.collect.webapps import (
    asyncio_requests,
    concurrent_requests,
    file_bytes,
    raw_request,
    serve_asgi,
    serve_asgi_thread,
    serve_wsgi,
)

WSGI_PATHS = [f"/orders/{i}?page={i % 3}" if i % 4 else "/wait" for i in range(320)] + [
    "/nope",
    "/orders/x",
]


def _counts(directory: Path) -> dict[str, int]:
    profile = read_profiles([directory])
    return {ep: r.count for ep, r in profile.requests.items()}


def test_wsgi_middleware_concurrent_load_identical_and_counted(tmp_path: Path) -> None:
    plain = WSGIRouter()
    with serve_wsgi(plain) as port:
        expected = concurrent_requests(port, WSGI_PATHS, threads=32)
    app = WSGIRouter()
    mw = WSGIMiddleware(app, output_dir=str(tmp_path), sample_fraction=0.25)
    with serve_wsgi(mw) as port:
        got = concurrent_requests(port, WSGI_PATHS, threads=32)
    mw.recorder.flush()
    assert all(r.startswith(b"HTTP/1.0 ") for r in got)
    assert got == expected  # byte for byte, apart from the Date header
    assert _counts(tmp_path) == dict(app.served)
    assert sum(app.served.values()) == len(WSGI_PATHS)
    profile = read_profiles([tmp_path])
    assert profile.requests["GET <unmatched>"].status == {"4xx": 1}
    assert profile.requests["GET /orders/<id>"].status == {"2xx": 241}  # 240 + /orders/x


def test_asgi_middleware_concurrent_tasks_identical_and_counted(tmp_path: Path) -> None:
    paths = [f"/items/{i}" if i % 3 else "/wait" for i in range(600)] + ["/missing"]
    with serve_asgi(make_starlette_app()) as port:
        expected = asyncio_requests(port, paths, concurrency=200)
    app = make_starlette_app()
    mw = ASGIMiddleware(app, output_dir=str(tmp_path), sample_fraction=0.1)
    with serve_asgi_thread(mw) as server:
        cpu0 = server.thread_cpu()
        got = asyncio_requests(server.port, paths, concurrency=200)
        server_cpu = server.thread_cpu() - cpu0
    mw.recorder.flush()
    assert all(r.startswith(b"HTTP/1.1 ") for r in got)
    assert got == expected
    profile = read_profiles([tmp_path])
    counts = {ep: r.count for ep, r in profile.requests.items()}
    assert counts == {**app.state.served, "GET <unmatched>": 1}
    # CPU is each request's own steps only: at least the handler's self-measured CPU, and
    # all requests together no more than the event loop thread used (a clock read around
    # each whole request would count the 200 interleaved requests many times over).
    truth = app.state.cpu["GET /items/{item_id}"]
    recorded = profile.requests["GET /items/{item_id}"].cpu_s
    total = sum(r.cpu_s for r in profile.requests.values())
    assert truth <= recorded <= total <= server_cpu, (truth, recorded, total, server_cpu)
    # the sampled stacks are labelled by endpoint and calibrated to the measured CPU
    cpu = cpu_view(profile)
    by_ep: dict[str, float] = {}
    for (_s, lid), w in cpu.samples.items():
        labels = dict(cpu.label_sets[lid])
        assert labels[MEASURE] == CPU
        by_ep[labels[ENDPOINT]] = by_ep.get(labels[ENDPOINT], 0.0) + w
    assert by_ep["GET /items/{item_id}"] == pytest.approx(recorded, rel=1e-6)


def test_flush_files_private_and_analyzed_by_cli(tmp_path: Path) -> None:
    out = tmp_path / "profiles"
    app = WSGIRouter()
    # a fine pyinstrument interval: the CPU view of a 0.3 ms view must show it for sure
    mw = WSGIMiddleware(app, output_dir=str(out), sample_fraction=1.0, interval_s=0.0001)
    with serve_wsgi(mw) as port:
        concurrent_requests(port, ["/orders/1"] * 30 + ["/wait"] * 10, threads=4)
    assert mw.recorder.flush()
    files = list(out.iterdir())
    assert len(files) == 1 and str(os.getpid()) in files[0].name
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    result = CliRunner().invoke(main, ["analyze", str(out), "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)["endpoints"]}
    assert rows["GET /orders/<id>"]["requests"] == 30
    assert rows["GET /wait"]["requests"] == 10
    # the CPU-bound endpoint dominates the CPU; shares equal the measured CPU split
    profile = read_profiles([out])
    cpu = {ep: r.cpu_s for ep, r in profile.requests.items()}
    assert rows["GET /orders/<id>"]["share"] == pytest.approx(
        cpu["GET /orders/<id>"] / sum(cpu.values()), abs=1e-6
    )
    assert "burn" in rows["GET /orders/<id>"]["top_functions"]
    text = CliRunner().invoke(main, ["analyze", str(out)], env={"COLUMNS": "200"})
    assert text.exit_code == 0
    assert "GET /orders/<id>" in text.output and "GET /wait" in text.output


def test_privacy_no_url_query_header_or_body_in_files(tmp_path: Path) -> None:
    secret = "s3cr3t-token-8841"
    mw = WSGIMiddleware(WSGIRouter(), output_dir=str(tmp_path), sample_fraction=1.0)
    with serve_wsgi(mw) as port:
        for _ in range(5):
            raw_request(port, f"/orders/{secret}?api_key={secret}", f"X-Auth: {secret}\r\n")
            raw_request(port, f"/echo?token={secret}", f"Cookie: s={secret}\r\n", secret.encode())
            raw_request(port, f"/{secret}")  # unrouted: must not become a label
    mw.recorder.flush()
    written = file_bytes(tmp_path)
    assert b"GET /orders/<id>" in written and b"POST /echo" in written
    assert secret.encode() not in written


def test_pyinstrument_raising_every_request_served_logged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import pyinstrument.profiler

    def broken(self: object, *a: object, **k: object) -> None:
        raise RuntimeError("pyinstrument exploded")

    monkeypatch.setattr(pyinstrument.profiler.Profiler, "start", broken)
    app = WSGIRouter()
    mw = WSGIMiddleware(app, output_dir=str(tmp_path), sample_fraction=1.0)
    with serve_wsgi(WSGIRouter()) as port:
        expected = concurrent_requests(port, WSGI_PATHS[:100], threads=32)
    with caplog.at_level(logging.WARNING, "hotpath.middleware"), serve_wsgi(mw) as port:
        got = concurrent_requests(port, WSGI_PATHS[:100], threads=32)
    assert got == expected
    mw.recorder.flush()
    assert sum(_counts(tmp_path).values()) == 100
    faults = [r for r in caplog.records if r.name == "hotpath.middleware"]
    assert len(faults) == 1 and "pyinstrument exploded" in faults[0].getMessage()


def test_unwritable_output_dir_every_request_served_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    # a path below a regular file cannot be created, whoever we run as (root included)
    mw = WSGIMiddleware(
        WSGIRouter(), output_dir=str(blocker / "profiles"), sample_fraction=0.5,
        flush_interval_s=0.05,
    )  # fmt: skip
    with serve_wsgi(WSGIRouter()) as port:
        expected = concurrent_requests(port, WSGI_PATHS, threads=32)
    with caplog.at_level(logging.WARNING, "hotpath.middleware"), serve_wsgi(mw) as port:
        got = concurrent_requests(port, WSGI_PATHS, threads=32)
        assert not mw.recorder.flush()
        assert not mw.recorder.flush()
    assert got == expected
    faults = [r for r in caplog.records if r.name == "hotpath.middleware"]
    assert len(faults) == 1, [r.getMessage() for r in faults]
    assert "profiles" in faults[0].getMessage()


def test_asgi_pyinstrument_failing_and_unwritable_dir_served_logged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import pyinstrument.profiler

    real_stop = pyinstrument.profiler.Profiler.stop

    def broken_stop(self: pyinstrument.profiler.Profiler) -> object:
        real_stop(self)
        raise RuntimeError("pyinstrument stop exploded")

    monkeypatch.setattr(pyinstrument.profiler.Profiler, "stop", broken_stop)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    paths = [f"/items/{i}" if i % 3 else "/wait" for i in range(300)]
    with serve_asgi(make_starlette_app()) as port:
        expected = asyncio_requests(port, paths, concurrency=200)
    app = make_starlette_app()
    mw = ASGIMiddleware(
        app, output_dir=str(blocker / "out"), sample_fraction=1.0, flush_interval_s=0.05
    )
    with caplog.at_level(logging.WARNING, "hotpath.middleware"), serve_asgi(mw) as port:
        got = asyncio_requests(port, paths, concurrency=200)
        assert not mw.recorder.flush()
    assert got == expected
    assert sum(app.state.served.values()) == 300
    messages = sorted(r.getMessage() for r in caplog.records if r.name == "hotpath.middleware")
    assert len(messages) == 2, messages  # one per fault, not one per request
    assert "pyinstrument stop exploded" in messages[0] and "a-file" in messages[1]

"""The ASGI middleware bounds its own work at any sampling fraction: a load test on uvicorn.

At ``sample_fraction=1.0`` every concurrent request used to run its own pyinstrument
profiler; each profiler is called on every sampled event of the process, so 150 requests in
flight made 120 of 600 time out, and the server stayed busy inside pyinstrument after the
load. Here at most ``max_concurrent_profiles`` requests are profiled at once; the rest are
timed and counted. Bounded: 600 requests, 150 in flight, loopback, each with a timeout.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hotpath.collect.middleware import _slots_of
from hotpath.formats import read_profiles
from hotpath.middleware import ASGIMiddleware
from tests.collect.sample_apps import make_starlette_app
from tests.collect.webapps import serve_asgi_thread

REQUESTS = 600
IN_FLIGHT = 150
TIMEOUT_S = 20.0


async def _get(port: int, path: str, sem: asyncio.Semaphore) -> bytes | None:
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), TIMEOUT_S
            )
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = await asyncio.wait_for(reader.read(), TIMEOUT_S)
            writer.close()
            return data
        except (TimeoutError, OSError):
            return None


def _load(port: int, paths: list[str]) -> list[bytes | None]:
    async def main() -> list[bytes | None]:
        sem = asyncio.Semaphore(IN_FLIGHT)
        return list(await asyncio.gather(*(_get(port, p, sem) for p in paths)))

    return asyncio.run(main())


def test_asgi_at_sample_fraction_one_serves_every_request_under_concurrency(
    tmp_path: Path,
) -> None:
    app = make_starlette_app()
    mw = ASGIMiddleware(app, output_dir=str(tmp_path), sample_fraction=1.0, interval_s=0.0005)
    paths = [f"/items/{i}" for i in range(REQUESTS)]
    with serve_asgi_thread(mw) as server:
        got = _load(server.port, paths)
        slots = _slots_of(mw.recorder)
        assert slots.busy == 0  # every profiler was stopped
        cpu0 = server.thread_cpu()
        time.sleep(1.0)
        idle_cpu = server.thread_cpu() - cpu0
    failed = [p for p, r in zip(paths, got, strict=True) if r is None or b" 200 " not in r[:20]]
    assert not failed, f"{len(failed)} of {REQUESTS} requests failed or timed out"
    assert idle_cpu < 0.3, f"the server kept working after the load: {idle_cpu:.2f} s CPU in 1 s"
    mw.recorder.flush()
    profile = read_profiles([tmp_path])
    assert profile.requests["GET /items/{item_id}"].count == REQUESTS  # every request timed
    assert profile.samples  # and some were profiled, never more than the slots at once
    assert slots.limit == 4

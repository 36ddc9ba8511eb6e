"""The corpus: real apps of 13 frameworks on their usual servers, plus Celery and RQ workers.

Each app measures its own thread CPU per endpoint (``/__stats``). Against it:

- ``hotpath attach``'s recorder with its default options names every endpoint from the
  stacks (the view, handler method or responder; nothing else), and the endpoints' CPU
  shares are within 5 points of the app's own;
- the middleware counts every request exactly under its route template (``METHOD
  /route``), with p50/p99, and its file is written when the server is stopped with SIGTERM;
- a Celery worker (prefork pool) and an RQ worker (forked work horses) show their tasks.

Each framework's app runs once with the middleware installed and py-spy attached (the
middleware's frames are part of what the recognisers must see through). CPU shares are
statistics: the app is recorded up to ``HOTPATH_CORPUS_RUNS`` times (default 3) and passes
when 2 recordings are within 5 points plus one standard error of the recording's sample
(2 of 3). ``HOTPATH_CORPUS_SECONDS`` (default 2) sets each recording's length; longer
recordings shrink the allowance.
``python -m tests.corpus.measure`` prints the errors without the middleware, as the
closing note's table quotes them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
from tests.capability import require
from tests.collect.support import require_ptrace
from tests.corpus import servers, workers
from tests.corpus.measure import CorpusResult, endpoint_cpu, run_corpus
from tests.corpus.work import ENDPOINTS

SECONDS = float(os.environ.get("HOTPATH_CORPUS_SECONDS", "2"))
RUNS = int(os.environ.get("HOTPATH_CORPUS_RUNS", "3"))
NAMES = list(servers.FRAMEWORKS)

CPU_XFAIL: dict[str, tuple[str, bool]] = {}
"""Frameworks whose CPU shares are off by more than 5 points for a known cause outside the
recognisers, with the measured errors (none now)."""

MIDDLEWARE_CPU_MISSES = {"fastapi"}
"""Sync FastAPI endpoints run in anyio's thread pool, whose CPU the ASGI middleware does not
see (docs/middleware.md says so)."""

_RUNS: dict[str, CorpusResult] = {}


def corpus_run(name: str, tmp: Path) -> CorpusResult:
    """One server life per framework, shared by the checks below (run once, in order)."""
    if name not in _RUNS:
        _RUNS[name] = run_corpus(name, tmp, SECONDS, RUNS)
    return _RUNS[name]


def _cpu_params() -> list[object]:
    out: list[object] = []
    for name in NAMES:
        known = CPU_XFAIL.get(name)
        marks = [pytest.mark.xfail(strict=known[1], reason=known[0])] if known else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_corpus_endpoints_recognised_and_middleware_exact(name: str, tmp_path: Path) -> None:
    """Default attach options name every endpoint by its view (in one of the recordings:
    a 2-second recording on a busy machine can miss a view) and nothing else (in none of
    them); the middleware counted every request under its route, with p50/p99, and its file
    was written when the server was stopped with SIGTERM."""
    require_ptrace()
    fw = servers.FRAMEWORKS[name]
    run = corpus_run(name, tmp_path)
    want = set(fw.views.values())
    assert run.endpoints - {fw.stats_view} == want, (
        f"{name} ({fw.server}): recognised {sorted(run.endpoints)}, want {sorted(want)}"
    )
    m = run.middleware
    routes = {fw.routes[e]: m.served[e] for e in ENDPOINTS}
    got = {ep: n for ep, n in m.counted.items() if ep != "GET /__stats"}
    assert got == routes, f"{name} ({fw.server}): counted {m.counted}, served {m.served}"
    for route in routes:
        p50, p99 = m.percentiles[route]
        assert p50 is not None and p99 is not None and 0 < p50 <= p99, (route, p50, p99)
    if name in MIDDLEWARE_CPU_MISSES:
        return
    # Each request's CPU (the handler and what the framework does around it) holds at least
    # the handler body's own thread CPU, also where the handler runs in a task of its own.
    for e in ENDPOINTS:
        assert m.cpu_s[fw.routes[e]] >= 0.9 * m.truth_cpu_s[e], (e, m.cpu_s, m.truth_cpu_s)


@pytest.mark.parametrize("name", _cpu_params())
def test_corpus_cpu_shares_within_5_points(name: str, tmp_path: Path) -> None:
    """2 of up to 3 recordings within 5 points of the app's own per-endpoint CPU, give or
    take one standard error of the recording's sample (a 2-second recording at 100 Hz
    rests on ~100-300 samples of the views: 3-5 points of standard error; 10 seconds bring
    it under 2)."""
    require_ptrace()
    run = corpus_run(name, tmp_path)
    seen = [f"{r.worst:.1f}±{r.stderr:.1f}" for r in run.recordings]
    ok = sum(r.passes for r in run.recordings)
    print(f"{name}: worst CPU-share errors {seen} (load {os.getloadavg()[0]:.1f})")
    assert ok >= min(2, len(seen)), f"{name}: worst CPU-share errors {seen} points"


def _task_names(pid: int, want: set[str]) -> dict[str, float]:
    """Recordings of up to 3 seconds, at most 3, until every task was seen."""
    found: dict[str, float] = {}
    for _ in range(3):
        rec = PySpyRecorder(pid, RecordOptions(subprocesses=True))
        rec.start()
        time.sleep(3.0)
        rec.stop()
        for name, w in endpoint_cpu(rec.wait().profile).items():
            found[name] = found.get(name, 0.0) + w
        if set(found) >= want:
            break
    return found


@pytest.mark.parametrize("kind", ["celery", "rq"])
def test_corpus_workers_show_tasks_by_name(kind: str, tmp_path: Path) -> None:
    """A worker started as its users start it, attached with ``--subprocesses`` (Celery's
    prefork pool and RQ's work horses are child processes), names each task and nothing
    else."""
    require_ptrace()
    require(workers.redis_server_path() is not None, "redis-server is not installed")
    with workers.redis_server(tmp_path) as url:
        if kind == "celery":
            workers.send_celery(url, 200)
            proc = workers.start_celery(url, tmp_path / "celery.log")
            queue = "celery"
        else:
            workers.send_rq(url, 200)
            proc = workers.start_rq(url, tmp_path / "rq.log")
            queue = "rq:queue:corpus"
        try:
            workers.wait_until_consuming(url, queue, proc)
            found = _task_names(proc.pid, set(workers.TASKS))
        finally:
            workers.stop_process(proc)
    log = (tmp_path / f"{kind}.log").read_text(errors="replace")[-2000:]
    assert set(found) == set(workers.TASKS), f"{kind}: found {sorted(found)}\n{log}"

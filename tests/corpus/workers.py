"""Background workers of the corpus: a private Redis, a Celery worker, an RQ worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.corpus.servers import ROOT, free_port, stop_process

TASKS = ("crunch_loop", "crunch_sql", "crunch_json")


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A Redis server on a free 127.0.0.1 port, no persistence; yields its URL."""
    exe = redis_server_path()
    assert exe is not None
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "redis did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CORPUS_REDIS_URL": url}


def start_celery(url: str, log: Path) -> subprocess.Popen[bytes]:
    """``celery worker`` with its default prefork pool (2 processes)."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.corpus.celery_app", "worker",
             "--concurrency", "2", "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=_env(url), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def send_celery(url: str, rounds: int) -> None:
    os.environ["CORPUS_REDIS_URL"] = url
    from tests.corpus.celery_app import app, crunch_json, crunch_loop, crunch_sql

    app.conf.broker_url = url
    for i in range(rounds):
        crunch_loop.delay(i)  # the "celery" list in Redis
        crunch_sql.delay()
        crunch_json.delay()


def start_rq(url: str, log: Path) -> subprocess.Popen[bytes]:
    """``rq worker`` as users start it (each job in a forked work horse)."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rq.cli", "worker", "--url", url, "--burst", "corpus"],
            cwd=ROOT, env=_env(url), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def send_rq(url: str, rounds: int) -> None:
    import redis
    from rq import Queue

    from tests.corpus import rq_jobs

    q = Queue("corpus", connection=redis.Redis.from_url(url))
    for i in range(rounds):
        q.enqueue(rq_jobs.crunch_loop, i)  # the "rq:queue:corpus" list
        q.enqueue(rq_jobs.crunch_sql)
        q.enqueue(rq_jobs.crunch_json)


def queue_length(url: str, key: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).llen(key))


def wait_until_consuming(url: str, key: str, proc: subprocess.Popen[bytes]) -> None:
    """Until the worker has taken a task off the queue (it is up), at most 60 seconds."""
    start = queue_length(url, key)
    deadline = time.monotonic() + 60
    while queue_length(url, key) >= start:
        assert proc.poll() is None, f"the worker exited with {proc.returncode}"
        assert time.monotonic() < deadline, "the worker took no task in 60 seconds"
        time.sleep(0.05)

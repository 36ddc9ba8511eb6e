"""Celery tasks on a Redis broker (``celery -A tests.corpus.celery_app worker``).

The broker URL comes from ``CORPUS_REDIS_URL``. Each task does several endpoint bodies so
that a task runs long enough to be sampled in the worker's pool process.
"""

from __future__ import annotations

import os

from celery import Celery

from tests.corpus import work

app = Celery("corpus", broker=os.environ.get("CORPUS_REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task
def crunch_loop(n: int) -> None:
    for _ in range(10):
        work.loop_body(n)


@app.task
def crunch_sql() -> None:
    for _ in range(10):
        work.sql_body()


@app.task
def crunch_json() -> None:
    for _ in range(10):
        work.json_body()

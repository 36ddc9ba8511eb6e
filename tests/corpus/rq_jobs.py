"""RQ jobs (``rq worker --url redis://...``): the three bodies, several times per job."""

from __future__ import annotations

from tests.corpus import work


def crunch_loop(n: int) -> None:
    for _ in range(10):
        work.loop_body(n)


def crunch_sql() -> None:
    for _ in range(10):
        work.sql_body()


def crunch_json() -> None:
    for _ in range(10):
        work.json_body()

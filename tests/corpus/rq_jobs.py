"""RQ jobs (``rq worker --url redis://...``): the three bodies, several times per job.

RQ forks a work horse per job, and a short-lived horse can end before ``py-spy
--subprocesses`` looks for new children: with 10 runs of a body per job the loop job (30 ms)
was missing from all three 3-second recordings of one CI run, so each job runs its body 40
times (all three were then in each of 3 recordings)."""

from __future__ import annotations

from tests.corpus import work

REPEAT = 40


def crunch_loop(n: int) -> None:
    for _ in range(REPEAT):
        work.loop_body(n)


def crunch_sql() -> None:
    for _ in range(REPEAT):
        work.sql_body()


def crunch_json() -> None:
    for _ in range(REPEAT):
        work.json_body()

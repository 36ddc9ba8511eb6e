"""Falcon, served by gunicorn (``gunicorn tests.corpus.falcon_app:app``)."""

from __future__ import annotations

from typing import Any

import falcon

from tests.corpus import work


class LoopResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response, n: int) -> None:
        resp.media = work.loop_body(n)


class SqlResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = work.sql_body()


class JsonResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = work.json_body()


class StatsResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = work.stats()


root = falcon.App()
root.add_route("/loop/{n:int}", LoopResource())
root.add_route("/sql", SqlResource())
root.add_route("/json", JsonResource())
root.add_route("/__stats", StatsResource())

app: Any = root
if work.middleware_dir():
    from hotpath.integrations.falcon import instrument

    app = instrument(root, output_dir=work.middleware_dir(), **work.MW_OPTIONS)

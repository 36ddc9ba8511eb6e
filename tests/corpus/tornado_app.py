"""Tornado on its own server (``python -m tests.corpus.tornado_app PORT``)."""

from __future__ import annotations

import asyncio
import sys

import tornado.web

from tests.corpus import work


class LoopHandler(tornado.web.RequestHandler):
    def get(self, n: str) -> None:
        self.write(work.loop_body(int(n)))


class SqlHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        self.write(work.sql_body())


class JsonHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(work.json_body())


class StatsHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(work.stats())


def make_app() -> tornado.web.Application:
    app = tornado.web.Application(
        [
            (r"/loop/([0-9]+)", LoopHandler),
            (r"/sql", SqlHandler),
            (r"/json", JsonHandler),
            (r"/__stats", StatsHandler),
        ]
    )
    if work.middleware_dir():
        from hotpath.integrations.tornado import init_app

        init_app(app, output_dir=work.middleware_dir(), **work.MW_OPTIONS)
    return app


async def main(port: int) -> None:
    make_app().listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))

"""Real servers on 127.0.0.1 (port 0) and raw-socket clients for the middleware tests."""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

_DATE = re.compile(rb"(?im)^date: [^\r\n]*\r\n")


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_wsgi(app: Callable[..., Any]) -> Iterator[int]:
    """Serve a WSGI app from a thread; yields the port."""
    httpd = make_server(
        "127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler
    )
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    t.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        t.join()
        httpd.server_close()


def raw_request(port: int, path: str, headers: str = "", body: bytes = b"") -> bytes:
    """One HTTP/1.0 request; the whole response with its Date header removed."""
    head = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{headers}"
    if body:
        head = head.replace("GET", "POST", 1) + f"Content-Length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return _DATE.sub(b"", b"".join(chunks))


def concurrent_requests(port: int, paths: list[str], threads: int) -> list[bytes]:
    """Every path requested once, from ``threads`` client threads at once; in path order."""
    out: list[bytes] = [b""] * len(paths)
    barrier = threading.Barrier(threads)

    def worker(k: int) -> None:
        barrier.wait()
        for i in range(k, len(paths), threads):
            out[i] = raw_request(port, paths[i])

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


class Served:
    """A server running in a thread: its port and the CPU time its thread has used."""

    def __init__(self, port: int, thread: threading.Thread) -> None:
        self.port = port
        self.thread = thread

    def thread_cpu(self) -> float:
        assert self.thread.ident is not None
        return time.clock_gettime(time.pthread_getcpuclockid(self.thread.ident))


@contextmanager
def serve_asgi_thread(app: Any) -> Iterator[Served]:
    """Serve an ASGI app with uvicorn in a thread on a port-0 socket."""
    import uvicorn

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", backlog=512)
    server = uvicorn.Server(config)
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    t.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        yield Served(sock.getsockname()[1], t)
    finally:
        server.should_exit = True
        t.join(timeout=10)
        sock.close()


@contextmanager
def serve_asgi(app: Any) -> Iterator[int]:
    """Serve an ASGI app with uvicorn in a thread; yields the port."""
    with serve_asgi_thread(app) as served:
        yield served.port


async def _async_request(port: int, path: str, sem: asyncio.Semaphore) -> bytes:
    async with sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
    return _DATE.sub(b"", data)


def asyncio_requests(port: int, paths: list[str], concurrency: int) -> list[bytes]:
    """Every path requested once by ``concurrency`` asyncio tasks in flight at once."""

    async def main() -> list[bytes]:
        sem = asyncio.Semaphore(concurrency)
        return list(await asyncio.gather(*(_async_request(port, p, sem) for p in paths)))

    return asyncio.run(main())


def file_bytes(directory: Path) -> bytes:
    """Everything the middleware wrote, decompressed (for privacy checks)."""
    out = b""
    for f in sorted(directory.rglob("*")):
        if f.is_file():
            raw = f.read_bytes()
            out += gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    return out

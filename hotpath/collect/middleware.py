"""WSGI and ASGI middleware: every request counted per endpoint, a sampled few profiled.

For every request it records the endpoint (the route *template*, never the raw URL, query,
headers or body), wall time, CPU time, status class and a latency histogram; for a random
``sample_fraction`` of requests it also runs pyinstrument and keeps the stacks, labelled
with the endpoint. See :mod:`hotpath.collect.request_store` for storage and flushing.

CPU time: WSGI reads the thread CPU clock (``time.thread_time``) around the request, since
a WSGI request runs on one thread from call to ``close()``. ASGI requests share the event
loop thread, so the app coroutine is driven step by step and only the CPU time of *its own*
steps is summed, plus that of the tasks it creates (Quart runs each handler in a task of its
own; Starlette's ``BaseHTTPMiddleware`` runs the app in one): a task factory on the loop
times the steps of tasks created while a request is in flight. Work that the app hands to
thread pools (a sync FastAPI endpoint under ``run_in_threadpool``) is not counted.

Endpoint names are always ``METHOD /route``: the route template the framework matched (or a
user ``endpoint`` callable's answer, with the method put in front when it has none), never
the raw URL. A failing ``endpoint`` callable falls back to the framework's route.

Any error inside hotpath is logged once and the request is served exactly as without it.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, MutableMapping
from typing import Any, Literal

from hotpath._options import with_overrides
from hotpath.collect import stacks as _stacks
from hotpath.collect.admission import ProfileSlots
from hotpath.collect.request_store import EndpointFn, MiddlewareOptions, RequestStore

__all__ = ["ASGIMiddleware", "MiddlewareOptions", "WSGIMiddleware"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]

AsyncMode = Literal["enabled", "disabled", "strict"]
ENVIRON_KEY = "hotpath.endpoint"
"""Routers and integrations put the route template here (WSGI environ / ASGI scope)."""
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_OWN_FILES: set[str] = {__file__}
"""Files whose frames end the server's part of a stack (integrations add theirs)."""


def make_options(options: MiddlewareOptions | None, overrides: dict[str, Any]) -> MiddlewareOptions:
    """Options from an object and/or keywords (``add_middleware(ASGIMiddleware, ...)``)."""
    return with_overrides(MiddlewareOptions, options, overrides, "hotpath middleware")


def method_of(raw: object) -> str:
    """The request method if it is a standard one: client-chosen strings stay out of labels."""
    return raw if isinstance(raw, str) and raw in _METHODS else "OTHER"


def with_method(method: str, route: str) -> str:
    """``METHOD /route`` from a route that may already carry a method or lack its slash."""
    head, _, rest = route.partition(" ")
    if rest and (head in _METHODS or head == "OTHER"):
        return route
    if not route.startswith(("/", "<")):
        route = "/" + route
    return f"{method} {route}"


def resolve_endpoint(
    recorder: RequestStore,
    fn: EndpointFn | None,
    arg: object,
    method: str,
    route: Callable[[], str | None],
) -> str:
    """The request's ``METHOD /route``: the user's ``endpoint(arg)`` when it gives a name,
    else ``route()`` (the framework's matched route), else ``METHOD <unmatched>``. Never
    raises: a failing callable is logged once and the framework's route is used."""
    if fn is not None:
        try:
            name = fn(arg)
        except Exception as exc:
            recorder.fault("the endpoint function", exc)
            name = None
        if isinstance(name, str) and name.strip():
            return with_method(method, name.strip())
    try:
        found = route()
    except Exception as exc:
        recorder.fault("reading the matched route", exc)
        found = None
    if isinstance(found, str) and found:
        return with_method(method, found)
    return f"{method} {UNMATCHED}"


def wsgi_route(environ: Environ) -> str | None:
    """The route template a WSGI framework left in the environ, after the app ran.

    ``hotpath.endpoint`` (integrations, routers), Flask/Werkzeug's request ``url_rule``,
    Bottle's ``bottle.route`` rule, Pyramid's matched route pattern."""
    declared = environ.get(ENVIRON_KEY)
    if isinstance(declared, str) and declared:
        return declared
    rule = getattr(getattr(environ.get("werkzeug.request"), "url_rule", None), "rule", None)
    if isinstance(rule, str) and rule:
        return rule
    rule = getattr(environ.get("bottle.route"), "rule", None)
    if isinstance(rule, str) and rule:
        return rule
    pattern = getattr(environ.get("bfg.routes.route"), "pattern", None)
    if isinstance(pattern, str) and pattern:
        return pattern
    return None


def asgi_route(scope: Scope) -> str | None:
    """The route template an ASGI framework left in the scope, after the app ran.

    ``hotpath.endpoint`` (integrations), Starlette/FastAPI's ``scope["route"].path``,
    Litestar's ``scope["path_template"]``."""
    declared = scope.get(ENVIRON_KEY)
    if isinstance(declared, str) and declared:
        return declared
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str) and path:
        return path
    template = scope.get("path_template")
    if isinstance(template, str) and template:
        return template
    return None


def default_wsgi_endpoint(environ: Environ) -> str:
    """``METHOD /route`` from the environ alone, else ``METHOD <unmatched>``."""
    route = wsgi_route(environ)
    return with_method(method_of(environ.get("REQUEST_METHOD")), route or UNMATCHED)


def default_asgi_endpoint(scope: Scope) -> str:
    """``METHOD /route`` from the scope alone, else ``METHOD <unmatched>``."""
    return with_method(method_of(scope.get("method")), asgi_route(scope) or UNMATCHED)


class Probe:
    """One request in flight: clocks at the start and the profiler, when sampled."""

    __slots__ = ("cpu0", "open", "profiler", "slots", "t0")

    def __init__(self, recorder: RequestStore, async_mode: AsyncMode) -> None:
        self.open = False
        self.profiler: Any = None
        self.slots: ProfileSlots | None = None
        opts = recorder.options
        if (
            opts.sample_fraction > 0
            and not recorder.profiler_broken
            and random.random() < opts.sample_fraction
        ):
            slots = _slots_of(recorder)
            if slots.take():  # else: timed and counted, not profiled (bounded cost)
                self.slots = slots
                try:
                    from pyinstrument import Profiler

                    profiler = Profiler(interval=opts.interval_s, async_mode=async_mode)
                    profiler.start(target_description="hotpath request")
                    self.profiler = profiler
                except Exception as exc:
                    recorder.profiler_failed(exc)
                if self.profiler is None:
                    slots.give_back()
                    self.slots = None
        self.t0 = time.perf_counter()
        self.cpu0 = time.thread_time()
        recorder.begin()  # in flight until finish(): SIGTERM waits for it (request_store)
        self.open = True

    def finish(
        self,
        recorder: RequestStore,
        endpoint: Callable[[], str],
        status: int | None,
        cpu_s: float | None = None,
    ) -> None:
        """Stop the clocks and the profiler, then record; never raises."""
        wall = time.perf_counter() - self.t0
        cpu = time.thread_time() - self.cpu0 if cpu_s is None else cpu_s
        found: list[_stacks.WeightedStack] | None = None
        if self.profiler is not None:
            try:
                session = self.profiler.stop()
                found = _stacks.session_stacks(
                    session.frame_records, frozenset(_OWN_FILES), _FRAME_CACHE
                )
            except Exception as exc:
                recorder.profiler_failed(exc)
            finally:
                self.profiler = None
                if self.slots is not None:
                    self.slots.give_back()
                    self.slots = None
        try:
            name = endpoint()
        except Exception as exc:  # resolve_endpoint never raises; a guard all the same
            recorder.fault("naming the endpoint", exc)
            name = f"OTHER {UNMATCHED}"
        try:
            recorder.record(name, wall, cpu, status, found)
        except Exception as exc:
            recorder.fault("recording a request", exc)
        finally:
            if self.open:
                self.open = False
                recorder.end()


_FRAME_CACHE: dict[str, Any] = {}
_SLOTS: weakref.WeakKeyDictionary[RequestStore, ProfileSlots] = weakref.WeakKeyDictionary()
_SLOTS_LOCK = threading.Lock()


def _slots_of(recorder: RequestStore) -> ProfileSlots:
    """The profiling slots of one middleware instance (made on its first sampled request)."""
    slots = _SLOTS.get(recorder)
    if slots is None:
        with _SLOTS_LOCK:
            slots = _SLOTS.setdefault(
                recorder, ProfileSlots(recorder.options.max_concurrent_profiles)
            )
    return slots


def _start(recorder: RequestStore, async_mode: AsyncMode) -> Probe | None:
    try:
        return Probe(recorder, async_mode)
    except Exception as exc:
        recorder.fault("starting a request", exc)
        return None


def _status_code(status: object) -> int | None:
    try:
        return int(str(status).split(" ", 1)[0])
    except ValueError:
        return None


class WSGIMiddleware:
    """Wrap a WSGI app: ``app.wsgi_app = WSGIMiddleware(app.wsgi_app, output_dir=...)``.

    The endpoint comes from ``endpoint(environ)`` when given, else from
    ``environ["hotpath.endpoint"]`` (set by the Flask integration or a router), both read
    after the app ran.
    """

    def __init__(
        self, app: WSGIApp, options: MiddlewareOptions | None = None, **overrides: Any
    ) -> None:
        self.app = app
        self.options = make_options(options, overrides)
        self.recorder = RequestStore(self.options, "wsgi")

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self.options.enabled:
            return self.app(environ, start_response)
        probe = _start(self.recorder, "disabled")
        if probe is None:
            return self.app(environ, start_response)
        seen: list[object] = [None]

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen[0] = status
            return start_response(status, headers, exc_info)

        def finish() -> None:
            probe.finish(self.recorder, lambda: self._endpoint(environ), _status_code(seen[0]))

        try:
            result = self.app(environ, capture)
        except BaseException:
            seen[0] = seen[0] or "500"
            finish()
            raise
        if isinstance(result, (list, tuple)):
            # Already complete; returning the same object keeps servers' optimisations
            # (wsgiref sets Content-Length for one-item lists).
            finish()
            return result
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(result, file_wrapper):
            finish()  # keep sendfile(); the transfer itself is not timed
            return result
        return _ClosingIterable(result, finish)

    def _endpoint(self, environ: Environ) -> str:
        return resolve_endpoint(
            self.recorder,
            self.options.endpoint,
            environ,
            method_of(environ.get("REQUEST_METHOD")),
            lambda: wsgi_route(environ),
        )


class _ClosingIterable:
    """The app's response body, unchanged, with the request recorded at ``close()``."""

    __slots__ = ("_done", "_finish", "_result")

    def __init__(self, result: Iterable[bytes], finish: Callable[[], None]) -> None:
        self._result = result
        self._finish = finish
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            if not self._done:
                self._done = True
                self._finish()


class _CpuTimed:
    """Awaits a coroutine, summing the thread CPU time of its own steps only."""

    __slots__ = ("coro", "cpu")

    def __init__(self, coro: Any) -> None:
        self.coro = coro
        self.cpu = 0.0

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, clock = self.coro, time.thread_time
        value: Any = None
        error: BaseException | None = None
        while True:
            t0 = clock()
            try:
                yielded = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                self.cpu += clock() - t0
                return stop.value
            except BaseException:
                self.cpu += clock() - t0
                raise
            self.cpu += clock() - t0
            try:
                value, error = (yield yielded), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation and throw(): hand it to the app
                value, error = None, exc


_TASK_CPU: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "hotpath_task_cpu", default=None
)
"""The CPU-time account of the request in flight in this context (tasks inherit it)."""


async def _timed_task(coro: Any, account: list[float]) -> Any:
    timed = _CpuTimed(coro)
    try:
        return await timed
    finally:
        account[0] += timed.cpu


class _TaskFactory:
    """The loop's task factory while the middleware runs on it: a task created during a
    request has the CPU time of its steps added to that request (then the previous factory,
    or asyncio's own, makes the task)."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context")
        account = context.get(_TASK_CPU) if context is not None else _TASK_CPU.get()
        if account is not None and asyncio.iscoroutine(coro):
            coro = _timed_task(coro, account)
        if self.previous is not None:
            return self.previous(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)


async def flush_when_loop_ends(recorder: RequestStore) -> None:
    """Sleeps until the event loop shuts down (``asyncio.run`` cancels the tasks left), then
    flushes: uvicorn restores the default SIGTERM action and re-raises the signal once it
    has served its last request, so neither atexit nor a handler of ours would run."""
    try:
        await asyncio.Event().wait()
    finally:
        recorder.flush()


_LOOPS: weakref.WeakKeyDictionary[Any, set[int]] = weakref.WeakKeyDictionary()


def watch_loop(recorder: RequestStore) -> None:
    """Once per event loop and recorder: the timing task factory and the final flush."""
    try:
        loop = asyncio.get_running_loop()
        seen = _LOOPS.setdefault(loop, set())
        if id(recorder) in seen:
            return
        seen.add(id(recorder))
        if not isinstance(loop.get_task_factory(), _TaskFactory):
            loop.set_task_factory(_TaskFactory(loop.get_task_factory()))
        recorder.keep_task(loop.create_task(flush_when_loop_ends(recorder)))
    except Exception as exc:
        recorder.fault("watching the event loop", exc)


class ASGIMiddleware:
    """Wrap an ASGI app; FastAPI/Starlette: ``app.add_middleware(ASGIMiddleware, ...)``.

    Only ``http`` scopes are recorded; websockets pass straight through. At lifespan
    shutdown, and when the event loop ends, the process's file is flushed.
    """

    def __init__(self, app: ASGIApp, options: MiddlewareOptions | None = None, **overrides: Any):
        self.app = app
        self.options = make_options(options, overrides)
        self.recorder = RequestStore(self.options, "asgi")

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope.get("type") == "lifespan" and self.options.enabled:
            await self.app(scope, receive, self._flushing_send(send))
            return
        if scope.get("type") != "http" or not self.options.enabled:
            await self.app(scope, receive, send)
            return
        watch_loop(self.recorder)
        # "strict": other requests' code running meanwhile is not this request's.
        probe = _start(self.recorder, "strict")
        if probe is None:
            await self.app(scope, receive, send)
            return
        status: list[int | None] = [None]

        async def capture(message: Any) -> None:
            if (
                status[0] is None
                and isinstance(message, dict)
                and message.get("type") == "http.response.start"
            ):
                code = message.get("status")
                status[0] = code if isinstance(code, int) else None
            await send(message)

        # Tasks created from here on in this context (the app's) are timed for this request.
        account = [0.0]
        token = _TASK_CPU.set(account)
        try:
            result = self.app(scope, receive, capture)
            if not (hasattr(result, "send") and hasattr(result, "throw")):
                # Not a coroutine (an unusual awaitable): await it as is, CPU not split out.
                try:
                    await result
                finally:
                    probe.finish(self.recorder, lambda: self._endpoint(scope), status[0], 0.0)
                return
            timed = _CpuTimed(result)
            try:
                await timed
            except BaseException:
                status[0] = status[0] or 500
                raise
            finally:
                probe.finish(
                    self.recorder,
                    lambda: self._endpoint(scope),
                    status[0],
                    timed.cpu + account[0],
                )
        finally:
            _TASK_CPU.reset(token)

    def _flushing_send(
        self, send: Callable[[Any], Awaitable[None]]
    ) -> Callable[[Any], Awaitable[None]]:
        async def lifespan_send(message: Any) -> None:
            if isinstance(message, dict) and message.get("type") == "lifespan.shutdown.complete":
                self.recorder.flush()
            await send(message)

        return lifespan_send

    def _endpoint(self, scope: Scope) -> str:
        return resolve_endpoint(
            self.recorder,
            self.options.endpoint,
            scope,
            method_of(scope.get("method")),
            lambda: asgi_route(scope),
        )


class TimedRequest:
    """One request of a framework that the middleware hooks into by its own means (aiohttp,
    Tornado, Sanic): :meth:`run` awaits the handler's coroutine timing its own steps and the
    tasks it creates; :meth:`finish` records the request. Never raises."""

    __slots__ = ("account", "cpu", "probe", "recorder")

    def __init__(self, recorder: RequestStore) -> None:
        self.recorder = recorder
        watch_loop(recorder)
        self.probe = _start(recorder, "strict")
        self.account = [0.0]
        self.cpu = 0.0

    async def run(self, result: Any) -> Any:
        if not asyncio.iscoroutine(result):
            return await result if hasattr(result, "__await__") else result
        token = _TASK_CPU.set(self.account)
        timed = _CpuTimed(result)
        try:
            return await timed
        finally:
            self.cpu += timed.cpu
            _TASK_CPU.reset(token)

    def finish(self, endpoint: Callable[[], str], status: int | None) -> None:
        if self.probe is not None:
            self.probe.finish(self.recorder, endpoint, status, self.cpu + self.account[0])
            self.probe = None

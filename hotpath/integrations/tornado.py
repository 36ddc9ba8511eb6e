"""Tornado: ``hotpath.integrations.tornado.init_app(app, output_dir=...)``.

Times each request handler's ``_execute`` (its own steps and the tasks it creates) and
records it when it ends. The endpoint is ``METHOD pattern``, the URL pattern of the rule
that routed to the handler (e.g. ``GET /orders/([0-9]+)``).
"""

from __future__ import annotations

from typing import Any

from hotpath.collect import middleware as _mw
from hotpath.collect.request_store import MiddlewareOptions, RequestStore

_mw._OWN_FILES.add(__file__)


def _pattern(rules: Any, request: Any, target: Any) -> str | None:
    for rule in rules:
        matcher = rule.matcher
        if rule.target is target and matcher.match(request) is not None:
            regex = getattr(matcher, "regex", None)
            pattern = getattr(regex, "pattern", None)
            if isinstance(pattern, str):
                return pattern[:-1] if pattern.endswith("$") else pattern
        nested = getattr(rule.target, "rules", None)
        if nested is not None and matcher.match(request) is not None:
            found = _pattern(nested, request, target)
            if found is not None:
                return found
    return None


def init_app(app: Any, options: MiddlewareOptions | None = None, **overrides: Any) -> RequestStore:
    """Install the middleware on a ``tornado.web.Application``; returns its recorder."""
    opts = _mw.make_options(options, overrides)
    recorder = RequestStore(opts, "tornado")
    get_delegate = app.get_handler_delegate

    def get_handler_delegate(request: Any, target_class: Any, *args: Any, **kwargs: Any) -> Any:
        delegate = get_delegate(request, target_class, *args, **kwargs)
        if opts.enabled:
            make = delegate.handler_class

            def handler_factory(*a: Any, **kw: Any) -> Any:
                handler = make(*a, **kw)
                execute = handler._execute

                async def timed_execute(*ea: Any, **ekw: Any) -> Any:
                    timer = _mw.TimedRequest(recorder)
                    try:
                        return await timer.run(execute(*ea, **ekw))
                    finally:
                        timer.finish(
                            lambda: _mw.resolve_endpoint(
                                recorder,
                                opts.endpoint,
                                handler,
                                _mw.method_of(request.method),
                                lambda: _pattern(app.default_router.rules, request, target_class),
                            ),
                            handler.get_status(),
                        )

                handler._execute = timed_execute
                return handler

            delegate.handler_class = handler_factory
        return delegate

    app.get_handler_delegate = get_handler_delegate
    return recorder

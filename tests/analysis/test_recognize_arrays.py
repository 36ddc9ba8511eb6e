"""The array recogniser (``_StackEndpoints.endpoints``) against the per-stack one it runs
beside (``endpoint``): random stacks mixing every framework's dispatch and hook-runner frames,
WSGI servers, routers, middleware wrappers, always-hooks, library and app frames must get the
same (endpoint, routed app) from both, in one chunk or in many."""

from __future__ import annotations

import random

import pytest

from hotpath.analysis import stacktable
from hotpath.analysis.recognize import (
    _ALWAYS_HOOKS,
    _SERVER_WRAPPERS,
    _WSGI_SERVERS,
    RECOGNIZERS,
    _describe,
    _StackEndpoints,
)
from hotpath.analysis.stacktable import StackTable
from hotpath.model import Frame
from tests.analysis.reference_names_below import reference_names_below

_SITE = "/venv/lib/python3.11/site-packages"


def _vocabulary() -> list[Frame]:
    out: list[Frame] = []
    for r in RECOGNIZERS:
        pkg = sorted(r.packages)[0]
        out += [Frame(name, f"{_SITE}/{pkg}/core.py", 10) for name in sorted(r.dispatch)]
        out += [Frame(name, f"{_SITE}/{pkg}/hooks.py", 20) for name in sorted(r.hook_runners)]
        out += [Frame(f"View.{h}", "/app/views.py", 30) for h in sorted(r.hooks)[:2]]
        out.append(Frame(sorted(r.dispatch)[0], "/app/lookalike.py", 5))  # not the framework
    out += [Frame(name, f"{_SITE}/{pkg}/server.py", 40) for pkg, name in sorted(_WSGI_SERVERS)]
    out += [Frame(w, f"{_SITE}/uvicorn/mw.py", 50) for w in sorted(_SERVER_WRAPPERS)]
    out += [Frame(f"Thing.{h}", "/app/thing.py", 60) for h in sorted(_ALWAYS_HOOKS)]
    out += [Frame("Router.dispatch", "/app/router.py", 70), Frame("dispatch", "/app/r2.py", 1)]
    out += [Frame("Middleware.__call__", "/app/mw.py", 80), Frame("App.__call__", "/app/a.py", 1)]
    out += [Frame(f"view_{i}", f"/app/views{i % 3}.py", 100 + i) for i in range(8)]
    out += [Frame("on_get", "/app/res.py", 3), Frame("get", "/app/handler.py", 4)]
    out += [Frame(f"lib_{i}", f"{_SITE}/lib{i % 2}/m.py", i) for i in range(4)]
    out += [Frame("<module>", "/app/main.py", 1), Frame("loads", "<built-in>", None)]
    return out


@pytest.mark.parametrize("seed", range(20))
def test_array_endpoints_equal_the_per_stack_rules(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    frames = _vocabulary()
    files: dict[str, tuple[str | None, bool]] = {}
    finder = _StackEndpoints([_describe(f, files) for f in frames])
    assert any(f.dispatch for f in finder.described) and finder.server and finder.router
    stacks = [
        tuple(rng.randrange(len(frames)) for _ in range(rng.randint(0, 14))) for _ in range(400)
    ]
    if seed % 2:
        monkeypatch.setattr(stacktable, "CHUNK_SLOTS", 1 + seed % 11)
    names, routed = finder.endpoints(StackTable(stacks, [0.0] * len(stacks)))
    want = [finder.endpoint(s) for s in stacks]
    assert list(zip(names, routed, strict=True)) == want
    weights = [float(rng.randint(0, 5)) for _ in stacks]
    routed_apps = {r for r in routed if r is not None}
    table = StackTable(stacks, weights)
    assert finder.names_below_table(table, names, weights, routed_apps) == reference_names_below(
        finder, zip(stacks, names, strict=True), weights, routed_apps
    )
    # The comparison reaches every rule: endpoints by dispatch, by router, by server, and
    # routed apps.
    assert sum(n is not None for n in names) > 5 and any(r is not None for r in routed)

"""truth.py's claims about each endpoint's character, checked on a fresh in-process
pyinstrument profile of the monolith (pyinstrument records builtin/C calls as their own
frames, so native time is visible) and against the code itself."""

from __future__ import annotations

import ast
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from pyinstrument import Profiler

from hotpath.demo import app as demo_app
from hotpath.demo import truth
from hotpath.demo.app import Request, create_app

from .conftest import ROOT


def test_truth_names_real_views_routes_and_functions() -> None:
    defined: set[str] = set()
    for path in (ROOT / "hotpath" / "demo").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                defined |= {
                    f"{node.name}.{f.name}" for f in node.body if isinstance(f, ast.FunctionDef)
                }
            elif isinstance(node, ast.FunctionDef):
                defined.add(node.name)
    assert [e.route for e in truth.ENDPOINTS] == list(demo_app.VIEWS)
    for e in truth.ENDPOINTS:
        assert demo_app.VIEWS[e.route].__qualname__ == e.view
        assert e.name == f"GET {e.route}"
        assert set(e.key_functions) <= defined, e.name
        assert e.verdict not in e.also_acceptable
    assert {truth.KERNEL_FUNCTION, truth.KERNEL_INNER, truth.TINY_HELPER} <= defined
    assert set(truth.ORM_LAYER) | set(truth.FRAMEWORK_FUNCTIONS) <= defined
    verdicts = {e.character: e.verdict for e in truth.ENDPOINTS}
    assert verdicts["pure-python"] in ("microservice", "extension")
    assert verdicts["tiny-helper"] == "extension"
    assert {verdicts[c] for c in ("sqlite", "native", "orm", "trivial")} == {"leave"}


def test_schedule_follows_the_mix_weights() -> None:
    for name, weights in truth.MIXES.items():
        paths = truth.schedule(name)
        assert {p: paths.count(p) for p in weights} == weights


# Requests per endpoint: each view gets a few hundred ms of profile.
PROFILED_REQUESTS = {"/kernel": 15, "/report": 40, "/export": 50, "/tags": 40, "/orders": 50}
# A claim must hold in ROUNDS_NEEDED of ROUNDS independent profiles: pyinstrument bills wall
# time, and one CI run (of many green ones) saw /report at 56% in SQLite in a single profile
# where every local run, idle or loaded, measures 99-100%. (Its thread CPU clock, through a
# Python timer_func, is no fix: the timer's own cost, billed per call, made /tags 6x dearer.)
ROUNDS, ROUNDS_NEEDED = 3, 2


def _profile_views() -> dict[str, list[Any]]:
    """pyinstrument frames of each view, from one in-process profile of many requests."""
    app = create_app()
    profiler = Profiler(interval=0.0005)
    gc.collect()  # what earlier tests left is not collected inside a view
    try:
        profiler.start()
        for path, n in PROFILED_REQUESTS.items():
            for i in range(n):
                app.dispatch(Request("GET", path, {"i": [str(i)]}))
        profiler.stop()
    finally:
        app.ctx.db.close()
    found: dict[str, list[Any]] = {}

    def walk(frame: Any) -> None:
        if frame.function.endswith("_view") and (frame.file_path or "").endswith("app.py"):
            found.setdefault(frame.function, []).append(frame)
            return
        for child in frame.children:
            walk(child)

    session = profiler.last_session
    assert session is not None
    walk(session.root_frame(trim_stem=False))
    return found


@pytest.fixture(scope="module")
def rounds() -> list[dict[str, list[Any]]]:
    return [_profile_views() for _ in range(ROUNDS)]


def _holds(rounds: list[dict[str, list[Any]]], claim: Any) -> None:
    """``claim(views)`` returns (measured, required) fractions of a view's time; it must hold
    in ROUNDS_NEEDED rounds. The failure message has every round's figures."""
    seen = [claim(views) for views in rounds]
    assert sum(got >= need for got, need in seen) >= ROUNDS_NEEDED, seen


def _total(frames: list[Any]) -> float:
    return sum(f.time for f in frames)


def _under(frames: list[Any], keep: Any) -> float:
    """Time in frames (below the given ones) for which ``keep(frame)`` is true, outermost."""

    def walk(f: Any) -> Iterator[float]:
        if keep(f):
            yield f.time
            return
        for child in f.children:
            yield from walk(child)

    return sum(t for top in frames for child in top.children for t in walk(child))


_JSON_WRAPPERS = ("json/__init__.py", "json/encoder.py", "json/decoder.py")


def _native(frame: Any) -> bool:
    # The stdlib json wrappers hand the whole document to the _json C accelerator, whose
    # encoder object pyinstrument does not see as a call: count that time as native too.
    path = (frame.file_path or "").replace("\\", "/")
    return path.startswith("<built-in") or path.endswith(_JSON_WRAPPERS)


def _named(*qualnames: str) -> Any:
    def keep(frame: Any) -> bool:
        name = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
        return name in qualnames

    return keep


def _share(frames: list[Any], keep: Any) -> float:
    return _under(frames, keep) / _total(frames)


def test_kernel_is_pure_python(rounds: list[dict[str, list[Any]]]) -> None:
    _holds(rounds, lambda v: (_share(v["kernel_view"], _named(truth.KERNEL_FUNCTION)), 0.9))
    _holds(rounds, lambda v: (-_share(v["kernel_view"], _native), -0.10))


def test_report_is_sqlite_bound(rounds: list[dict[str, list[Any]]]) -> None:
    in_sqlite = _named("Connection.execute", "Cursor.fetchall")
    _holds(rounds, lambda v: (_share(v["report_view"], lambda f: in_sqlite(f) or _native(f)), 0.8))
    _holds(rounds, lambda v: (_share(v["report_view"], in_sqlite), 0.5))


def test_export_is_native_heavy(rounds: list[dict[str, list[Any]]]) -> None:
    _holds(rounds, lambda v: (_share(v["export_view"], _native), 0.6))


def test_tags_time_is_the_tiny_helper_and_its_loop(rounds: list[dict[str, list[Any]]]) -> None:
    _holds(rounds, lambda v: (_share(v["tags_view"], _named(truth.TINY_HELPER)), 0.4))


def test_orders_time_is_mostly_in_the_orm_layer(rounds: list[dict[str, list[Any]]]) -> None:
    def in_orm(frame: Any) -> bool:
        return (frame.file_path or "").endswith("demo/orm.py")

    _holds(rounds, lambda v: (_share(v["orders_view"], in_orm), 0.5))

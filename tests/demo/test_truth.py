"""truth.py's claims about each endpoint's character, checked on a fresh in-process
pyinstrument profile of the monolith (pyinstrument records builtin/C calls as their own
frames, so native time is visible) and against the code itself."""

from __future__ import annotations

import ast
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


# Requests per endpoint: each view gets a few hundred ms of profile, so that one preemption
# on a busy shared machine (pyinstrument bills wall time) cannot flip a fraction.
PROFILED_REQUESTS = {"/kernel": 15, "/report": 40, "/export": 50, "/tags": 40, "/orders": 50}


@pytest.fixture(scope="module")
def views() -> dict[str, Any]:
    """pyinstrument frames of each view, from an in-process profile of many requests."""
    app = create_app()
    profiler = Profiler(interval=0.0005)
    try:
        profiler.start()
        for path, n in PROFILED_REQUESTS.items():
            for i in range(n):
                app.dispatch(Request("GET", path, {"i": [str(i)]}))
        profiler.stop()
    finally:
        app.ctx.db.close()
    found: dict[str, Any] = {}

    def walk(frame: Any) -> None:
        if frame.function.endswith("_view") and (frame.file_path or "").endswith("app.py"):
            found.setdefault(frame.function, []).append(frame)
            return
        for child in frame.children:
            walk(child)

    walk(profiler.last_session.root_frame(trim_stem=False))
    return found


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


def test_kernel_is_pure_python(views: dict[str, Any]) -> None:
    kv = views["kernel_view"]
    assert _under(kv, _named(truth.KERNEL_FUNCTION)) >= 0.9 * _total(kv)
    assert _under(kv, _native) <= 0.10 * _total(kv)


def test_report_is_sqlite_bound(views: dict[str, Any]) -> None:
    rv = views["report_view"]
    in_sqlite = _named("Connection.execute", "Cursor.fetchall")
    assert _under(rv, lambda f: in_sqlite(f) or _native(f)) >= 0.8 * _total(rv)
    assert _under(rv, in_sqlite) >= 0.5 * _total(rv)


def test_export_is_native_heavy(views: dict[str, Any]) -> None:
    ev = views["export_view"]
    assert _under(ev, _native) >= 0.6 * _total(ev)


def test_tags_time_is_the_tiny_helper_and_its_loop(views: dict[str, Any]) -> None:
    tv = views["tags_view"]
    assert _under(tv, _named(truth.TINY_HELPER)) >= 0.4 * _total(tv)


def test_orders_time_is_mostly_in_the_orm_layer(views: dict[str, Any]) -> None:
    ov = views["orders_view"]

    def in_orm(frame: Any) -> bool:
        return (frame.file_path or "").endswith("demo/orm.py")

    assert _under(ov, in_orm) >= 0.5 * _total(ov)

from __future__ import annotations

import hotpath


def test_public_api_all_is_importable_and_complete() -> None:
    for name in hotpath.__all__:
        assert hasattr(hotpath, name), name
    public = {n for n in dir(hotpath) if not n.startswith("_")}
    # Every public top-level name that is not a submodule is listed in __all__.
    import types

    exported = {n for n in public if not isinstance(getattr(hotpath, n), types.ModuleType)}
    assert exported <= set(hotpath.__all__) | {"annotations"}


def test_public_api_middleware_import_loads_only_the_collector() -> None:
    # ``import hotpath.middleware`` runs in every web worker: the package faces (hotpath,
    # hotpath.formats) import their names on first use, so the readers, the analysis and
    # the reports stay out of the worker.
    import subprocess
    import sys

    code = (
        "import sys, hotpath.middleware\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('hotpath')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "hotpath.collect.middleware" in out
    heavy = [
        m
        for m in out
        if m.startswith(("hotpath.analysis", "hotpath.report", "hotpath.cli"))
        or m in ("hotpath.formats.registry", "hotpath.formats.speedscope", "hotpath.formats.pprof")
    ]
    assert heavy == [], heavy


def test_public_api_lazy_names_resolve_and_unknown_names_fail() -> None:
    import pytest

    from hotpath.analysis.pipeline import analyze

    assert hotpath.analyze is analyze
    assert "analyze" in dir(hotpath)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = hotpath.no_such_name  # type: ignore[attr-defined]

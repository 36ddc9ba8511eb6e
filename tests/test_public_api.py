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

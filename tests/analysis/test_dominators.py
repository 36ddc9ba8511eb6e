"""Dominator regions against regions worked out by hand."""

from __future__ import annotations

from hotpath.analysis.callgraph import build_callgraph
from hotpath.analysis.dominators import dominator_tree, region_of
from hotpath.model import FunctionKey
from tests.analysis.conftest import profile_of


def _k(name: str) -> FunctionKey:
    return FunctionKey(name, "a.py")


def test_region_holds_only_code_reached_through_the_function() -> None:
    p = profile_of(
        [
            ([("main", "a.py", 1), ("f", "a.py", 1), ("g", "a.py", 1), ("h", "a.py", 1)], 5, None),
            ([("main", "a.py", 1), ("f", "a.py", 1), ("shared", "a.py", 1)], 3, None),
            ([("main", "a.py", 1), ("other", "a.py", 1), ("shared", "a.py", 1)], 2, None),
            ([("main", "a.py", 1), ("f", "a.py", 1), ("f", "a.py", 2)], 1, None),  # recursion
        ]
    )
    tree = dominator_tree(build_callgraph(p))
    assert region_of(tree, _k("f")) == {_k("f"), _k("g"), _k("h")}
    assert region_of(tree, _k("other")) == {_k("other")}
    assert _k("shared") in region_of(tree, _k("main"))

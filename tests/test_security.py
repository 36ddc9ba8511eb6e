"""Static guarantees: no pickle, eval/exec or unsafe YAML anywhere in the package; marshal only
in the pstats reader (the format is marshal; pickle-based loading would run code)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "hotpath"
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "shelve", "yaml", "jsonpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
MARSHAL_ALLOWED = {"formats/pstats.py"}


def _sources() -> list[tuple[str, ast.Module]]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    return [(str(f.relative_to(PACKAGE)), ast.parse(f.read_text(), str(f))) for f in files]


def test_no_unsafe_deserialisation_or_dynamic_code() -> None:
    problems = []
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for name in names:
                    top = name.split(".")[0]
                    if top in FORBIDDEN_MODULES:
                        problems.append(f"{rel}:{node.lineno} imports {name}")
                    if top == "marshal" and rel not in MARSHAL_ALLOWED:
                        problems.append(f"{rel}:{node.lineno} imports marshal")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
            ):
                problems.append(f"{rel}:{node.lineno} calls {node.func.id}()")
    assert not problems, problems


def test_scan_would_catch_a_violation() -> None:
    tree = ast.parse("import pickle\neval('1')\n")
    found = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.Call))]
    assert len(found) == 2

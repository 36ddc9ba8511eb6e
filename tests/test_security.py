"""Static guarantees: no pickle, eval/exec or unsafe YAML anywhere in the package; marshal only
in the pstats reader (the format is marshal; pickle-based loading would run code) and in the
source reader, for the ``__pycache__`` bytecode of this Python's own library directories (what
the interpreter itself runs for those modules; never a checkout's); compile() only in the
source reader, which reads the code objects' names and lines and never runs them (nothing may
call exec or eval on them: both stay forbidden everywhere)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "hotpath"
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "shelve", "yaml", "jsonpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
MARSHAL_ALLOWED = {"formats/pstats.py", "formats/source.py"}
COMPILE_ALLOWED = {"formats/source.py"}


def _sources() -> list[tuple[str, ast.Module]]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    return [(str(f.relative_to(PACKAGE)), ast.parse(f.read_text(), str(f))) for f in files]


def scan(rel: str, tree: ast.Module) -> list[str]:
    problems = []
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
            and not (node.func.id == "compile" and rel in COMPILE_ALLOWED)
        ):
            problems.append(f"{rel}:{node.lineno} calls {node.func.id}()")
    return problems


def test_no_unsafe_deserialisation_or_dynamic_code() -> None:
    problems = [p for rel, tree in _sources() for p in scan(rel, tree)]
    assert not problems, problems


def test_scan_catches_each_kind_of_violation() -> None:
    code = "import pickle\nfrom yaml import load\nimport marshal\neval('1')\n"
    assert scan("x.py", ast.parse(code)) == [
        "x.py:1 imports pickle", "x.py:2 imports yaml", "x.py:3 imports marshal",
        "x.py:4 calls eval()",
    ]  # fmt: skip
    assert scan("formats/pstats.py", ast.parse("import marshal\n")) == []
    # compile() is allowed only where it is needed, and exec() there still is not.
    assert scan("report/x.py", ast.parse("compile('1', 'x', 'eval')\n")) == [
        "report/x.py:1 calls compile()"
    ]
    assert scan("formats/source.py", ast.parse("c = compile(s, 'x', 'exec')\nexec(c)\n")) == [
        "formats/source.py:2 calls exec()"
    ]

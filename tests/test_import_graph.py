"""The package's imports go one way: no module of ``hotpath`` imports itself in a circle.

The graph is read from the source with :mod:`ast`, not by importing. Every ``import`` and
``from ... import`` statement counts, wherever it stands:

- at module level, of course;
- inside a function: a function-local import that closes a circle is still a circle, only
  hidden from the interpreter until the function runs. That is how the circles this test
  was written against were hidden (the pipeline importing the advisor while the advisor
  imported the pipeline's module for its result types; ``cli`` and ``cli_gate``);
- under ``if TYPE_CHECKING:``: the annotation is a dependency of the code's meaning, and
  mypy follows it.

What is not seen: module names given to :func:`importlib.import_module` as strings (the
package faces' lazy tables in ``hotpath/__init__.py`` and ``hotpath/formats/__init__.py``,
which point down into the package and are checked by tests/test_public_api.py).

An import of ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first; those implicit parent
imports are not edges (otherwise every package whose face names its children would be a
circle). An explicit ``from hotpath.formats import X`` is an edge to ``hotpath.formats``, or
to the submodule ``hotpath.formats.X`` when X is one.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hotpath"


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that ``name`` (at ``path``) imports, anywhere in its code."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, base] if base else here)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in known else base)
    edges = set()
    for target in targets:
        while target and target not in known:  # `import a.b.c` where c is a name in a.b
            target = target.rpartition(".")[0]
        if target and target != name:
            edges.add(target)
    return edges


@functools.cache
def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    known = _modules(root)
    return {name: _imports(name, path, known) for name, path in known.items()}


def find_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, for the message."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return component


def test_import_graph_has_no_circles() -> None:
    graph = import_graph()
    assert "hotpath.model" in graph and "hotpath.formats.registry" in graph
    circles = find_circles(graph)
    message = "; ".join(" -> ".join(_one_cycle(graph, c)) for c in circles)
    assert not circles, f"import circles in hotpath/: {message}"


def test_import_graph_lower_layers_never_import_reports_or_the_cli() -> None:
    graph = import_graph()
    lower = ("hotpath.model", "hotpath.formats", "hotpath.collect", "hotpath.analysis")
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.startswith(lower)
        for target in targets
        if target.startswith(("hotpath.report", "hotpath.cli"))
    )
    assert wrong == [], wrong


def test_import_graph_finds_a_circle_hidden_in_a_function(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import thing\n")
    (pkg / "b.py").write_text("def thing():\n    from pkg import a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import d\n"
    )
    (pkg / "d.py").write_text("from .c import x\n")
    (pkg / "e.py").write_text("import pkg.a\n")
    graph = import_graph(pkg)
    assert find_circles(graph) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"]]
    assert _one_cycle(graph, ["pkg.a", "pkg.b"]) == ["pkg.a", "pkg.b", "pkg.a"]

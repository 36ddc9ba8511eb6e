"""What kind of code a frame is: the app's own, a library, the stdlib, or native code.

Profiles record paths in different ways: py-spy's raw output shortens them
(``threading.py``, ``flask/app.py``), its speedscope output and pyinstrument keep them
absolute, cProfile marks builtins with file ``~``. The rules, in order:

1. native: no file, ``~`` (cProfile builtins), a shared library (``.so``/``.dll``/...),
   a ``{built-in ...}`` or ``<method ...>`` name, or an address like ``0x7f3a...``;
2. library: a path through ``site-packages`` or ``dist-packages``;
3. stdlib: ``<frozen ...>``, a path under a ``lib/pythonX.Y/`` directory, or a relative path
   whose top-level module is a stdlib module;
4. app: under the source root when one is given; without one, everything else.
   With a source root, a relative path that does not exist under it is a library
   (py-spy shortens site-packages paths to ``package/module.py``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Kind = Literal["app", "library", "stdlib", "native"]
KINDS: tuple[Kind, ...] = ("app", "library", "stdlib", "native")

_NATIVE_EXT = re.compile(r"\.(so(\.[\d.]+)?|dll|dylib|pyd|c|cc|cpp|h|rs)$")
_STDLIB_DIR = re.compile(r"[\\/]lib[\\/]python\d+(\.\d+)?t?[\\/]")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+$")
_STDLIB_NAMES = frozenset(sys.stdlib_module_names)

# Frameworks and ORMs recognised by their top-level package (for endpoints and isolation).
FRAMEWORKS: dict[str, str] = {
    "django": "django",
    "rest_framework": "drf",
    "flask": "flask",
    "werkzeug": "flask",
    "starlette": "starlette",
    "fastapi": "fastapi",
    "sqlalchemy": "sqlalchemy",
    "jinja2": "jinja2",
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "waitress": "waitress",
    "anyio": "anyio",
    "asgiref": "asgiref",
    "pydantic": "pydantic",
    "wsgiref": "wsgiref",
}


@dataclass(frozen=True)
class Classifier:
    """Classifies files relative to an optional source root (absolute, normalised)."""

    source_root: str | None = None

    def kind(self, name: str, file: str) -> Kind:
        return _classify(self.source_root, name, file)

    def kind_of(self) -> Callable[[str, str], Kind]:
        root = self.source_root
        return lambda name, file: _classify(root, name, file)


def make_classifier(source_root: str | os.PathLike[str] | None) -> Classifier:
    if source_root is None:
        return Classifier(None)
    return Classifier(os.path.realpath(os.fspath(source_root)))


def _top_module(rel: str) -> str:
    first = re.split(r"[\\/]", rel, maxsplit=1)[0]
    return first[:-3] if first.endswith(".py") else first


def _classify(root: str | None, name: str, file: str) -> Kind:
    if name.startswith(("{built-in", "<built-in", "<method ", "{method ")) or _ADDRESS.match(name):
        return "native"
    return _classify_file(root, file)


@lru_cache(maxsize=65536)
def _classify_file(root: str | None, file: str) -> Kind:
    """The kind of a frame by its file alone (cached: files are far fewer than functions)."""
    if (
        not file
        or file == "~"
        or file == "<built-in>"  # pyinstrument's file for C functions
        or _NATIVE_EXT.search(file)
    ):
        return "native"
    if "site-packages" in file or "dist-packages" in file:
        return "library"
    if file.startswith("<frozen"):
        return "stdlib"
    if os.path.isabs(file):
        if root is not None and (file == root or file.startswith(root + os.sep)):
            return "app"
        if _STDLIB_DIR.search(file):
            return "stdlib"
        prefix = os.path.join(sys.base_prefix, "lib")
        if file.startswith(prefix):
            return "stdlib"
        return "library" if root is not None else "app"
    if file.startswith("<"):  # <string>, <template>, <stdin>: code made at run time
        return "app"
    top = _top_module(file)
    if top in _STDLIB_NAMES and not (root is not None and os.path.exists(os.path.join(root, file))):
        return "stdlib"
    if root is not None:
        return "app" if os.path.exists(os.path.join(root, file)) else "library"
    return "library" if top in FRAMEWORKS else "app"


def framework_of(file: str) -> str | None:
    """The framework a file belongs to (``"django"``, ``"flask"`` ...), or None."""
    parts = re.split(r"[\\/]", file)
    if "site-packages" in parts or "dist-packages" in parts:
        idx = max(i for i, p in enumerate(parts) if p in ("site-packages", "dist-packages"))
        parts = parts[idx + 1 :]
    if not parts:
        return None
    return FRAMEWORKS.get(_top_module(parts[0]))

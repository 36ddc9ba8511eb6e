"""What kind of code a frame is: the app's own, a library, the stdlib, or native code.

Profiles record paths in different ways: py-spy's raw output shortens them
(``threading.py``, ``flask/app.py``), its speedscope output and pyinstrument keep them
absolute, cProfile marks builtins with file ``~``. The rules, in order:

1. native: no file, ``~`` (cProfile builtins), a shared library (``.so``/``.dll``/...),
   a ``{built-in ...}`` or ``<method ...>`` name, or an address like ``0x7f3a...``;
2. library: a path through ``site-packages`` or ``dist-packages``; code generated at run time
   (``<string>``, attrs' ``<attrs generated init ...>``, compiled routers and templates): it is
   no file of the app's, so it is never a candidate;
3. stdlib: ``<frozen ...>``, a path under a ``lib/pythonX.Y/`` directory, or a relative path
   whose top-level module is a stdlib module;
4. a relative path (py-spy's raw output shortens site-packages paths to ``package/module.py``)
   is app code when it exists under the source root, library code when it exists under one
   of the library directories (the analysing interpreter's site-packages, and the target's
   when hotpath recorded it live), else as below;
5. app: under the source root when one is given; without one, everything else that is not
   a known framework.
"""

from __future__ import annotations

import contextlib
import os
import re
import site
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
    """Classifies files relative to an optional source root (absolute, normalised) and the
    library directories where shortened library paths are looked up."""

    source_root: str | None = None
    library_dirs: tuple[str, ...] = ()

    def kind(self, name: str, file: str) -> Kind:
        return _classify(self.source_root, self.library_dirs, name, file)

    def kind_of(self) -> Callable[[str, str], Kind]:
        root, dirs = self.source_root, self.library_dirs
        return lambda name, file: _classify(root, dirs, name, file)

    def library_file(self, file: str) -> str | None:
        """The real path of a library frame's ``.py`` file when it lies in a library
        directory (shortened paths looked up in each), else None."""
        return _library_file(self.library_dirs, file)


def make_classifier(
    source_root: str | os.PathLike[str] | None, target_dirs: str | None = None
) -> Classifier:
    """``target_dirs``: the target's site directories as recorded live (``os.pathsep``
    separated, the ``site_dirs`` attribute of a profile); only ``site-packages`` or
    ``dist-packages`` directories are kept, since a profile file is untrusted."""
    root = None if source_root is None else os.path.realpath(os.fspath(source_root))
    dirs = list(interpreter_library_dirs())
    for d in (target_dirs or "").split(os.pathsep):
        if _is_library_dir(d) and os.path.isdir(d) and (real := os.path.realpath(d)) not in dirs:
            dirs.append(real)
    return Classifier(root, tuple(dirs))


def _is_library_dir(path: str) -> bool:
    parts = re.split(r"[\\/]", path)
    return os.path.isabs(path) and ("site-packages" in parts or "dist-packages" in parts)


@lru_cache(maxsize=1)
def interpreter_library_dirs() -> tuple[str, ...]:
    """site-packages directories of the interpreter running the analysis."""
    found: list[str] = []
    candidates = list(sys.path)
    with contextlib.suppress(AttributeError):  # some embedded builds lack these
        candidates += [*site.getsitepackages(), site.getusersitepackages()]
    for d in candidates:
        if d and _is_library_dir(d) and os.path.isdir(d):
            real = os.path.realpath(d)
            if real not in found:
                found.append(real)
    return tuple(found)


@lru_cache(maxsize=65536)
def _library_file(dirs: tuple[str, ...], file: str) -> str | None:
    if not file.endswith(".py") or file.startswith("<") or "\0" in file:
        return None  # a NUL is in no path a file system can hold
    if os.path.isabs(file):
        real = os.path.realpath(file)
        ok = any(real.startswith(d + os.sep) for d in dirs)
        return real if ok and os.path.isfile(real) else None
    for d in dirs:
        real = os.path.realpath(os.path.join(d, file))
        if real.startswith(d + os.sep) and os.path.isfile(real):
            return real
    return None


def _top_module(rel: str) -> str:
    first = re.split(r"[\\/]", rel, maxsplit=1)[0]
    return first[:-3] if first.endswith(".py") else first


def _classify(root: str | None, dirs: tuple[str, ...], name: str, file: str) -> Kind:
    if name.startswith(("{built-in", "<built-in", "<method ", "{method ")) or _ADDRESS.match(name):
        return "native"
    return _classify_file(root, dirs, file)


@lru_cache(maxsize=65536)
def _classify_file(root: str | None, dirs: tuple[str, ...], file: str) -> Kind:
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
    if file.startswith("<"):  # <string>, <attrs generated ...>, <template>: made at run time
        return "library"
    top = _top_module(file)
    under_root = root is not None and os.path.exists(os.path.join(root, file))
    if under_root:
        return "app"
    if top in _STDLIB_NAMES:
        return "stdlib"
    if _library_file(dirs, file) is not None:
        return "library"
    if root is not None:
        return "library"
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


def package_of(file: str) -> str | None:
    """The top-level package of a library file (``.../site-packages/yaml/scanner.py`` and
    py-spy's ``yaml/scanner.py`` -> ``yaml``); None for generated code and bare files."""
    if not file or file.startswith("<"):
        return None
    parts = re.split(r"[\\/]", file)
    if "site-packages" in parts or "dist-packages" in parts:
        idx = max(i for i, p in enumerate(parts) if p in ("site-packages", "dist-packages"))
        parts = parts[idx + 1 :]
    elif os.path.isabs(file):
        return None
    if not parts or not parts[0]:
        return None
    top = _top_module(parts[0])
    return top if top.isidentifier() else None

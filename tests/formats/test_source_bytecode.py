"""Naming from source reads a module's ``__pycache__`` bytecode when, and only when, this
Python compiled it from exactly that source (the import system's own check)."""

from __future__ import annotations

import importlib.util
import marshal
import os
import py_compile
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from hotpath.formats.source import SourceDefs, SourceIndex, cached_code, parse_definitions

SOURCE = b"""\
import functools

class Shop:
    def total(self, items):
        return sum(i.price for i in items)

    @functools.lru_cache
    def tax(self, rate):
        def rounded(x):
            return round(x, 2)
        return rounded(rate * 1.2)
"""

CHANGED = SOURCE.replace(b"class Shop:", b"class Store:")

TIMESTAMP = py_compile.PycInvalidationMode.TIMESTAMP
CHECKED_HASH = py_compile.PycInvalidationMode.CHECKED_HASH


@pytest.fixture(autouse=True)
def _needs_qualnames() -> None:
    if sys.version_info < (3, 11):
        pytest.xfail("code objects carry co_qualname from Python 3.11; before, ast names them")


def _module(where: Path, source: bytes, mode: py_compile.PycInvalidationMode) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    path = where / "shop.py"
    path.write_bytes(source)
    py_compile.compile(str(path), doraise=True, invalidation_mode=mode)
    return path


def _pyc(path: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(path)))


def _code(path: Path, source: bytes | None = None) -> types.CodeType | None:
    st = path.stat()
    data = path.read_bytes() if source is None else source
    return cached_code(str(path), data, st.st_size, st.st_mtime_ns)


def _qualnames(defs: SourceDefs) -> list[tuple[str, int, int]]:
    return [(d.qualname, d.first_line, d.last_line) for d in defs.defs]


@pytest.mark.parametrize("mode", [TIMESTAMP, CHECKED_HASH])
def test_a_matching_pyc_gives_the_definitions_compiling_gives(
    tmp_path: Path, mode: py_compile.PycInvalidationMode
) -> None:
    path = _module(tmp_path, SOURCE, mode)
    code = _code(path)
    assert code is not None
    got = _qualnames(parse_definitions(SOURCE, code))
    assert got == _qualnames(parse_definitions(SOURCE))
    assert ("Shop.tax.<locals>.rounded", 9, 10) in got


def test_a_stale_pyc_is_not_used(tmp_path: Path) -> None:
    # Timestamp pyc: the source changed after it was compiled (its size and mtime moved).
    path = _module(tmp_path / "timestamp", SOURCE, TIMESTAMP)
    assert _code(path) is not None
    path.write_bytes(CHANGED + b"# longer\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5 * 10**9))
    assert _code(path) is None
    # Hash pyc: valid for its source whatever the mtime, and for no other source.
    hashed = _module(tmp_path / "hash", SOURCE, CHECKED_HASH)
    assert _code(hashed, CHANGED) is None and _code(hashed, SOURCE) is not None


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"\0\0\0\0" + b[4:],  # another Python's magic number
        lambda b: b[:4] + (4).to_bytes(4, "little") + b[8:],  # unknown flags
        lambda b: b[:16] + b"\xff" * 40,  # not marshal data
        lambda b: b[:16] + b"N",  # marshal of None, not code
        lambda b: b[:10],  # truncated header
    ],
)
def test_a_damaged_pyc_is_not_used_and_naming_compiles_instead(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    path = _module(tmp_path, SOURCE, CHECKED_HASH)
    pyc = _pyc(path)
    pyc.write_bytes(damage(pyc.read_bytes()))
    assert _code(path) is None
    index = SourceIndex(roots=[str(tmp_path)], allowed=[str(tmp_path)], bytecode=[str(tmp_path)])
    defs = index.defs(str(path))
    assert defs is not None and ("Shop.total", 4, 5) in _qualnames(defs)


def test_naming_reads_a_pyc_only_under_the_bytecode_roots(tmp_path: Path) -> None:
    """Through :class:`SourceIndex`: under a bytecode root (by default only this Python's
    library directories) the pyc's code is what names the functions: its code swapped for
    another source's, under this source's header, names those. Elsewhere (a checkout being
    analysed: the current directory) the source is compiled, whatever its ``__pycache__``
    holds."""
    path = _module(tmp_path, SOURCE, CHECKED_HASH)
    pyc = _pyc(path)
    other = compile(CHANGED, "shop.py", "exec", dont_inherit=True)
    pyc.write_bytes(pyc.read_bytes()[:16] + marshal.dumps(other))
    roots = [str(tmp_path)]
    trusted = SourceIndex(roots=roots, allowed=roots, bytecode=roots).defs(str(path))
    assert trusted is not None and ("Store.total", 4, 5) in _qualnames(trusted)
    default = SourceIndex(roots=roots, allowed=roots).defs(str(path))
    assert default is not None and ("Shop.total", 4, 5) in _qualnames(default)


def test_library_modules_are_named_from_their_bytecode() -> None:
    """An installed library (click, pip-compiled): its functions' definitions come from its
    pyc and equal what compiling gives."""
    import click.core

    path = click.core.__file__
    assert path is not None
    source = Path(path).read_bytes()
    st = os.stat(path)
    code = cached_code(path, source, st.st_size, st.st_mtime_ns)
    assert code is not None, f"no valid bytecode for {path}"
    assert _qualnames(parse_definitions(source, code)) == _qualnames(parse_definitions(source))
    index = SourceIndex()
    assert any(os.path.realpath(path).startswith(r + os.sep) for r in index._bytecode)

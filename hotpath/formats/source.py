"""Function definitions recovered from Python source: def line -> qualified name.

Profiles name functions differently: cProfile by ``co_name`` (``__init__``), pyinstrument by
the class of ``self`` at run time (``If.find_all`` for ``Node.find_all``), py-spy by
``co_qualname`` with only the sampled line. The source file, where it is on this machine,
says what each function is: this module parses it with :mod:`ast` (no code runs) into a
table of definitions, each with its qualified name as the compiler builds it
(``Class.method``, ``outer.<locals>.inner``, ``f.<locals>.<lambda>``) and its first line
as code objects record it (the first decorator's line for a decorated function).

Only regular files up to :data:`MAX_SOURCE_BYTES` under :func:`allowed_roots` are read; a
file that does not parse is treated as absent. Parsed tables are cached per (path, size,
mtime) by the :class:`SourceIndex` that read them, for its life (one per command: a cache
for the process kept every table to the end, 3 MiB of the peak on the 100 MB unique-line
benchmark file). Under this Python's own library directories, where a module's
``__pycache__`` holds bytecode that this Python compiled from exactly that source (the check
the import system makes), its code objects are read instead of compiling again
(:func:`cached_code`).
"""

from __future__ import annotations

import ast
import importlib.util
import io
import marshal
import os
import stat
import sys
import tokenize
import types
from bisect import bisect_right
from dataclasses import dataclass

from hotpath.formats.opening import read_at_most

MAX_SOURCE_BYTES = 4 * 1024**2
"""Larger files are not parsed (generated code; bounds time and memory)."""

_LIB_DIRS = ("/site-packages/", "/dist-packages/")
_MAX_TAIL = 6
"""Path parts kept at most when a foreign absolute path is looked up by its tail."""


@dataclass(frozen=True, slots=True)
class Definition:
    """One code object's definition: qualified name, first line, last line, parent index."""

    qualname: str
    name: str
    first_line: int
    last_line: int
    parent: int
    """Index of the enclosing definition in :attr:`SourceDefs.defs`, -1 at module level."""


class SourceDefs:
    """Every definition of one source file, looked up by first line or by a line inside."""

    __slots__ = ("_firsts", "_ordered", "by_first_line", "defs", "qualname_count")

    def __init__(self, defs: list[Definition]) -> None:
        self.defs = defs
        self.by_first_line: dict[int, list[Definition]] = {}
        self.qualname_count: dict[str, int] = {}
        for d in defs:
            self.by_first_line.setdefault(d.first_line, []).append(d)
            self.qualname_count[d.qualname] = self.qualname_count.get(d.qualname, 0) + 1
        self._ordered = sorted(range(len(defs)), key=lambda i: defs[i].first_line)
        self._firsts = [defs[i].first_line for i in self._ordered]

    def at_first_line(self, first_line: int, name: str) -> Definition | None:
        """The definition starting at ``first_line`` whose own name is ``name``."""
        return next((d for d in self.by_first_line.get(first_line, ()) if d.name == name), None)

    def enclosing(self, line: int, name: str) -> Definition | None:
        """The innermost definition named ``name`` whose lines contain ``line``."""
        # Scanning back from the last definition starting at or before the line, the first
        # one that still contains it is the innermost.
        for k in range(bisect_right(self._firsts, line) - 1, -1, -1):
            d = self.defs[self._ordered[k]]
            if d.last_line >= line and d.name == name:
                return d
        return None

    def is_ambiguous(self, qualname: str) -> bool:
        """Whether several definitions in the file share this qualified name."""
        return self.qualname_count.get(qualname, 0) > 1


class _Collector(ast.NodeVisitor):
    """Walks a module building qualified names the way the compiler does."""

    def __init__(self) -> None:
        self.defs: list[Definition] = []
        self.scope: list[tuple[str, bool, int]] = []
        """(qualname, is_function, def index) of the enclosing definitions."""

    def _prefix(self) -> str:
        if not self.scope:
            return ""
        qual, is_function, _i = self.scope[-1]
        return f"{qual}.<locals>." if is_function else f"{qual}."

    def _add(self, node: ast.AST, name: str, is_function: bool, first: int) -> None:
        qual = self._prefix() + name
        last = getattr(node, "end_lineno", None) or first
        parent = self.scope[-1][2] if self.scope else -1
        self.defs.append(Definition(qual, name, first, last, parent))
        self.scope.append((qual, is_function, len(self.defs) - 1))
        self.generic_visit(node)
        self.scope.pop()

    def _def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        self._add(node, node.name, not isinstance(node, ast.ClassDef), first)

    visit_FunctionDef = _def
    visit_AsyncFunctionDef = _def
    visit_ClassDef = _def

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._add(node, "<lambda>", True, node.lineno)

    def _comprehension(self, node: ast.AST, name: str) -> None:
        # Python up to 3.11 compiles every comprehension into its own code object; 3.12+
        # inlines list, set and dict comprehensions (PEP 709), generator expressions stay.
        if name != "<genexpr>" and sys.version_info >= (3, 12):
            self.generic_visit(node)
            return
        self._add(node, name, True, getattr(node, "lineno", 0))

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, "<listcomp>")

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, "<setcomp>")

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, "<dictcomp>")

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, "<genexpr>")


def parse_definitions(source: bytes, module: types.CodeType | None = None) -> SourceDefs:
    """The definitions of a module's source (bytes, any PEP 263 encoding); ``module``: its
    code, compiled from exactly this source, when the caller has it (:func:`cached_code`).

    Raises SyntaxError, ValueError or RecursionError when the source does not parse.
    """
    if sys.version_info >= (3, 11):
        try:
            if module is None:
                module = compile(source, "<source>", "exec", dont_inherit=True, optimize=0)
            return SourceDefs(_code_definitions(module))
        except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError):
            pass  # e.g. ``return`` outside a function: the parser alone may still read it
    return _ast_definitions(source)


PYC_HEADER = 16
"""Magic number, flags, then source mtime and size (or the source's hash): PEP 552."""


def cached_code(path: str, source: bytes, size: int, mtime_ns: int) -> types.CodeType | None:
    """The module code in ``path``'s ``__pycache__`` file when this Python compiled it from
    exactly ``source`` (this interpreter's magic number; the source's mtime and size, or
    its hash, in the header: what the import system checks before it runs the file), else
    None. Reading it takes a third of the time of compiling (Django's 885 modules: 0.57 s
    against 1.78 s); installed libraries have one for every module (pip compiles them).

    :class:`SourceIndex` reads such a file only under this Python's own library directories
    (:func:`library_roots`), where it is what this interpreter runs for that module: marshal
    is not made to be safe on hostile bytes, and a checkout being analysed (the current
    directory) may hold bytecode made to match its source. Anything unexpected in the file
    means None.
    """
    if sys.version_info < (3, 11):
        return None
    try:
        cached = importlib.util.cache_from_source(path, optimization="")
        with open(cached, "rb") as f:  # its size as the first piece: no 1 MiB buffer per file
            data = read_at_most(f, 2 * MAX_SOURCE_BYTES, os.fstat(f.fileno()).st_size)
    except (OSError, ValueError, NotImplementedError):
        return None
    if len(data) <= PYC_HEADER or data[:4] != importlib.util.MAGIC_NUMBER:
        return None
    flags = int.from_bytes(data[4:8], "little")
    if flags & ~0b11:
        return None
    if flags & 1:  # hash-based (PEP 552): valid for this source whatever its mtime
        if data[8:16] != importlib.util.source_hash(source):
            return None
    elif (
        int.from_bytes(data[8:12], "little") != (mtime_ns // 10**9) & 0xFFFFFFFF
        or int.from_bytes(data[12:16], "little") != size & 0xFFFFFFFF
    ):
        return None
    try:
        code = marshal.loads(memoryview(data)[PYC_HEADER:])
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


def _code_definitions(module: types.CodeType) -> list[Definition]:
    """The definitions as the compiler itself makes them: its code objects (qualified name,
    first line) and, as last line, the last line holding code of each or of one nested in it.

    Compiling runs in C and builds no syntax tree in Python: 2.5 times faster than walking
    :mod:`ast` nodes, which was most of the time of naming a big profile's functions.
    """
    defs: list[Definition] = []

    def visit(code: types.CodeType, parent: int) -> int:
        """Adds ``code`` and the code nested in it; returns their last line."""
        index = len(defs)
        qualname: str = code.co_qualname  # type: ignore[attr-defined,unused-ignore]
        defs.append(Definition(qualname, code.co_name, code.co_firstlineno, 0, parent))
        last = max((line for _s, _e, line in code.co_lines() if line is not None), default=0)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                last = max(last, visit(const, index))
        d = defs[index]
        defs[index] = Definition(d.qualname, d.name, d.first_line, max(last, d.first_line), parent)
        return last

    for const in module.co_consts:
        if isinstance(const, types.CodeType):
            visit(const, -1)
    return defs


def _ast_definitions(source: bytes) -> SourceDefs:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    tree = ast.parse(source.decode(encoding, "replace"))
    collector = _Collector()
    collector.visit(tree)
    return SourceDefs(collector.defs)


def _regular_file(path: str) -> os.stat_result | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SOURCE_BYTES:
        return None
    return st


def _load(path: str, size: int, mtime_ns: int, bytecode: bool = False) -> SourceDefs | None:
    """``bytecode``: the module's ``__pycache__`` file may be read (:func:`cached_code`)."""
    try:
        with open(path, "rb") as f:
            data = read_at_most(f, MAX_SOURCE_BYTES, size)
    except OSError:
        return None
    if len(data) > MAX_SOURCE_BYTES:
        return None
    try:
        code = cached_code(path, data, size, mtime_ns) if bytecode else None
        return parse_definitions(data, code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, UnicodeError):
        return None


def search_roots() -> list[str]:
    """Directories a relative or foreign file name is looked up under, in order:
    ``HOTPATH_SOURCE_PATH`` (``os.pathsep``-separated), the current directory, ``sys.path``."""
    extra = [p for p in os.environ.get("HOTPATH_SOURCE_PATH", "").split(os.pathsep) if p]
    return [*extra, os.curdir, *(entry or os.curdir for entry in sys.path)]


def allowed_roots() -> list[str]:
    """The only directories source files are opened under: ``HOTPATH_SOURCE_PATH``, the
    current directory (the default source root) and this Python's own library
    directories (stdlib, site-packages). A profile's paths are labels, not instructions:
    ``/etc/passwd`` or ``../secret.py`` in a hostile profile is never opened."""
    extra = [p for p in os.environ.get("HOTPATH_SOURCE_PATH", "").split(os.pathsep) if p]
    roots = [os.path.realpath(p) for p in [*extra, os.curdir]]
    return list(dict.fromkeys([*roots, *library_roots()]))


def library_roots() -> list[str]:
    """This Python's own library directories (stdlib, site-packages), links resolved: the
    only places whose bytecode is read (:func:`cached_code`)."""
    import sysconfig

    paths = sysconfig.get_paths()
    libs = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths]
    return list(dict.fromkeys(os.path.realpath(p) for p in libs))


def _under(real: str, roots: list[str]) -> bool:
    """``real`` (a path with its links resolved) is one of ``roots`` or inside one."""
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def candidate_paths(file: str, roots: list[str] | None = None) -> list[str]:
    """Where the source of a profile's file name may be on this machine.

    The name itself when absolute; a relative name (py-spy shortens paths to the part
    below a ``sys.path`` entry of the profiled process) under each of ``roots``
    (:func:`search_roots` by default); an absolute path of another machine
    (``/srv/app/shop/orm.py``, ``/venv/lib/python3.11/site-packages/jinja2/nodes.py``) by
    its tails of two or more parts under each root: ``shop/orm.py``, ``jinja2/nodes.py``.
    A file found this way is used only where its definitions match the profile's names.
    """
    if not file or file.startswith("<") or file == "~" or "\0" in file:
        return []  # a NUL is in no path a file system can hold
    roots = search_roots() if roots is None else roots
    if not os.path.isabs(file):
        return [os.path.join(root, file) for root in roots]
    out = [file]
    parts = file.replace("\\", "/").strip("/").split("/")
    tails = []
    for marker in _LIB_DIRS:
        i = file.rfind(marker)
        if i >= 0:
            tails.append(file[i + len(marker) :])
            break
    tails.extend("/".join(parts[-n:]) for n in range(min(len(parts) - 1, _MAX_TAIL), 1, -1))
    for tail in dict.fromkeys(tails):
        out.extend(os.path.join(root, tail) for root in roots)
    return out


class SourceIndex:
    """Source definitions per profile file name, found once per name."""

    def __init__(
        self,
        roots: list[str] | None = None,
        off: bool = False,
        allowed: list[str] | None = None,
        bytecode: list[str] | None = None,
    ) -> None:
        """``roots``: see :func:`candidate_paths`; ``off``: find no source at all (also when
        ``HOTPATH_NO_SOURCE`` is set); ``allowed``: the directories files may be opened
        under (:func:`allowed_roots` by default); ``bytecode``: those under which a module's
        ``__pycache__`` file may stand in for compiling it (:func:`library_roots` by
        default)."""
        self._found: dict[str, SourceDefs | None] = {}
        self._loaded: dict[tuple[str, int, int, bool], SourceDefs | None] = {}
        """Tables by (absolute path, size, mtime, bytecode): two names of one file, one read."""
        self._roots = search_roots() if roots is None else roots
        self._allowed = [
            os.path.realpath(p) for p in (allowed_roots() if allowed is None else allowed)
        ]
        self._bytecode = [
            os.path.realpath(p) for p in (library_roots() if bytecode is None else bytecode)
        ]
        self._off = off or os.environ.get("HOTPATH_NO_SOURCE", "") not in ("", "0")

    def defs(self, file: str) -> SourceDefs | None:
        """The definitions of ``file``'s source, or None when it is not on this machine."""
        if self._off:
            return None
        if file in self._found:
            return self._found[file]
        got = None
        for path in candidate_paths(file, self._roots):
            # One stat first: most candidates do not exist, and resolving a path's links
            # (realpath, a syscall per part) for each cost seconds on a big pstats file.
            st = _regular_file(path)
            if st is None:
                continue
            real = os.path.realpath(path)
            if _under(real, self._allowed):
                bytecode = _under(real, self._bytecode)
                key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, bytecode)
                if key not in self._loaded:
                    self._loaded[key] = _load(*key)
                got = self._loaded[key]
                if got is not None:
                    break
        self._found[file] = got
        return got

"""Is a sample's time spent in interpreted Python, or in code that is already native?

Rust only speeds up what the interpreter executes. The leaf of each sample decides, from the
best evidence available, in this order:

1. ``native frames``: the leaf is a native frame (py-spy ``--native``, cProfile builtins
   ``~``, shared libraries);
2. ``C-backed stdlib``: the leaf is a thin stdlib wrapper over a C module (``json``, ``re``,
   ``zlib``, ``sqlite3`` ...): the sampled Python line is the call into C;
3. ``source lines``: the leaf is app code under the source root, or library code in a
   library directory (site-packages of the analysing interpreter, or of the target as
   recorded live), and its sampled statement calls something known to run in C
   (``cursor.execute``, ``json.dumps``, ``zlib.compress``, ``re.``, ``hashlib``, ``.sort(``
   ...) or is interpreted Python. Source is read only from ``.py`` files under the root or
   those directories: paths in profiles are untrusted;
4. ``Python files, source not read``: the leaf is a ``.py`` file whose source could not be
   read (another machine's paths, no ``--source-root``): interpreted Python as far as is
   known, but a call into C on its sampled line is not seen.

Otherwise (a generated ``<string>`` frame, no file) the sample is assumed interpreted, without
evidence. Each native leaf gets a category: ``db`` (database driver calls), ``io`` (files,
sockets, sleeping, lock and condition waits) or ``native`` (compute in C).
"""

from __future__ import annotations

import ast
import os
import re
from array import array
from dataclasses import dataclass, field
from typing import Literal, get_args

from hotpath.analysis.classify import Classifier
from hotpath.analysis.sourcefile import read_source
from hotpath.model import Frame

Category = Literal["python", "native", "db", "io"]
Evidence = Literal[
    "native frames", "C-backed stdlib", "source lines", "Python files, source not read"
]

# Statement text -> category. Ordered: the first match wins. Only calls whose cost grows with
# the data they process are listed: min()/str.strip() on small values are interpreter-bound.
_LINE_PATTERNS: tuple[tuple[re.Pattern[str], Category], ...] = (
    (
        re.compile(r"\.(execute|executemany|executescript|fetchall|fetchone|fetchmany|commit)\("),
        "db",
    ),
    (re.compile(r"\b(sqlite3|psycopg2?|pymysql|MySQLdb|redis)\."), "db"),
    # Iterating a cursor fetches the rows inside the driver.
    (re.compile(r"^\s*(async\s+)?for\b.+\bin\s+[\w.]*(cursor|cur|rows|result|conn)\b"), "db"),
    (re.compile(r"\b(time\.sleep|socket\.|urlopen|requests\.|httpx\.|select\.|signal\.sig)"), "io"),
    (re.compile(r"\.(serve_forever|accept|shutdown|sigwait)\("), "io"),
    (re.compile(r"\.(recv|recv_into|sendall|send|read|readinto|write|flush|wait)\("), "io"),
    # Lock and condition waits, a blocking queue get.
    (re.compile(r"\.(acquire|wait_for)\(|\.get\((block|timeout)="), "io"),
    (
        re.compile(
            r"\b(json|zlib|gzip|bz2|lzma|re|hashlib|hmac|pickle|marshal|struct|base64|binascii|"
            r"orjson|ujson|numpy|np|pandas|pd|csv)\."
        ),
        "native",
    ),
    (re.compile(r"\.(sort|compress|decompress|digest|hexdigest|findall|finditer|sub)\("), "native"),
    (re.compile(r"\bsorted\("), "native"),
)

# Stdlib modules whose Python functions are thin wrappers over C: a leaf there is C time.
_C_BACKED_STDLIB: dict[str, Category] = {
    "json": "native",
    "re": "native",
    "sre_compile": "native",
    "zlib": "native",
    "gzip": "native",
    "bz2": "native",
    "lzma": "native",
    "hashlib": "native",
    "hmac": "native",
    "pickle": "native",
    "base64": "native",
    "struct": "native",
    "csv": "native",
    "sqlite3": "db",
    "socket": "io",
    "ssl": "io",
    "selectors": "io",
    "select": "io",
    "signal": "io",
}

_DB_NAME = re.compile(r"sqlite|psycopg|mysql|libpq|execute|fetch", re.IGNORECASE)
_IO_NAME = re.compile(r"recv|send|read|write|poll|select|epoll|sleep|wait|accept", re.IGNORECASE)
# Blocking stdlib calls whose names say nothing of waiting (queue.get waits on a condition,
# a Lock's acquire is C).
_STDLIB_WAITS = re.compile(
    r"^(Queue|SimpleQueue|LifoQueue|PriorityQueue)\.get$|\.acquire$|^Event\."
)


@dataclass
class LeafJudge:
    """Decides the category of sample leaves; caches parsed source files (under the root only)."""

    classifier: Classifier
    _statements: dict[str, _Spans | None] = field(default_factory=dict)
    """Per file, its simple statements' line spans and what each one's text says."""
    _cache: dict[Frame, tuple[Category, Evidence | None]] = field(default_factory=dict)
    _loops: dict[str, list[tuple[int, int]] | None] = field(default_factory=dict)
    _sources: dict[str, tuple[str, ast.Module] | None] = field(default_factory=dict)
    """Texts and trees kept for :meth:`source` (briefs: a few files). Judging leaves keeps
    only spans: the trees of the 5,000 files of a 100 MB profile were 10 MiB."""

    def judge(self, leaf: Frame) -> tuple[Category, Evidence | None]:
        """(category, evidence) of a sample whose innermost frame is ``leaf``."""
        hit = self._cache.get(leaf)
        if hit is None:
            hit = self._judge(leaf)
            self._cache[leaf] = hit
        return hit

    def _judge(self, leaf: Frame) -> tuple[Category, Evidence | None]:
        kind = self.classifier.kind(leaf.name, leaf.file)
        if kind == "native":
            text = f"{leaf.name} {leaf.file}"
            if _DB_NAME.search(text):
                return "db", "native frames"
            if _IO_NAME.search(leaf.name):
                return "io", "native frames"
            return "native", "native frames"
        if kind == "stdlib":
            top = re.split(r"[\\/]", leaf.file.replace("<frozen ", "").rstrip(">"))
            module = _stdlib_module(top)
            if module in _C_BACKED_STDLIB:
                return _C_BACKED_STDLIB[module], "C-backed stdlib"
            if _IO_NAME.search(leaf.name.rsplit(".", 1)[-1]) or _STDLIB_WAITS.search(leaf.name):
                return "io", "C-backed stdlib"  # e.g. Condition.wait, selector.select
            if leaf.file.endswith(".py"):
                return "python", "Python files, source not read"
            return "python", None
        if kind in ("app", "library") and leaf.line is not None:
            category = self.line_category(leaf.file, leaf.line)
            if category is not None:
                return category, "source lines"
        if leaf.file.endswith(".py"):
            return "python", "Python files, source not read"
        return "python", None

    def resolve(self, file: str) -> str | None:
        """The real path of ``file`` when it lies under the source root or is a library
        file in a library directory, else None."""
        root = self.classifier.source_root
        if not file or file.startswith("<") or "\0" in file:
            return None
        if root is not None:
            path = os.path.realpath(file if os.path.isabs(file) else os.path.join(root, file))
            if path.startswith(root + os.sep) and os.path.isfile(path):
                return path
        return self.classifier.library_file(file)

    def source(self, file: str) -> tuple[str, ast.Module] | None:
        """Text and syntax tree of a source file under the root, read and parsed once."""
        if file not in self._sources:
            self._sources[file] = _parse(self.resolve(file))
        return self._sources[file]

    def _read(self, file: str) -> None:
        """The statement and loop spans of ``file``, from one parse whose tree is dropped."""
        parsed = self._sources[file] if file in self._sources else _parse(self.resolve(file))
        self._statements[file] = _statements(parsed)
        self._loops[file] = _loops(parsed)

    def line_category(self, file: str, line: int) -> Category | None:
        """What the source text of the innermost simple statement covering ``line`` says
        (a database or I/O call, else Python), or None when the source is not read."""
        if file not in self._statements:
            self._read(file)
        spans = self._statements[file]
        if not spans:
            return None
        best = -1
        starts, ends, categories = spans.starts, spans.ends, spans.categories
        for i in range(len(starts)):
            if starts[i] <= line <= ends[i] and (
                best < 0 or ends[i] - starts[i] < ends[best] - starts[best]
            ):
                best = i
        return _CATEGORY_OF[categories[best]] if best >= 0 else None

    def in_loop(self, file: str, line: int) -> bool | None:
        """Whether ``line`` sits in a loop body or comprehension (None: source unavailable)."""
        if file not in self._loops:
            self._read(file)
        spans = self._loops[file]
        if spans is None:
            return None
        return any(start <= line <= end for start, end in spans)


def _parse(path: str | None) -> tuple[str, ast.Module] | None:
    if path is None:
        return None
    text = read_source(path)  # regular files only: a FIFO named x.py must not hang us
    if text is None:
        return None
    try:
        return text, ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _loops(parsed: tuple[str, ast.Module] | None) -> list[tuple[int, int]] | None:
    if parsed is None:
        return None
    tree = parsed[1]
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.AsyncFor | ast.While) and node.body:
            spans.append((node.body[0].lineno, node.end_lineno or node.lineno))
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans


def is_db_call(name: str) -> bool:
    """Whether a native function's name says it is a database driver call."""
    return bool(_DB_NAME.search(name))


def c_backed(file: str) -> bool:
    """Whether a stdlib file belongs to a module that is a thin wrapper over C."""
    parts = re.split(r"[\\/]", file.replace("<frozen ", "").rstrip(">"))
    return _stdlib_module(parts) in _C_BACKED_STDLIB


def _stdlib_module(parts: list[str]) -> str:
    # "json/encoder.py" -> json; "/usr/lib/python3.11/json/decoder.py" -> json
    for i, part in enumerate(parts):
        if re.fullmatch(r"python\d+(\.\d+)?t?", part) and i + 1 < len(parts):
            parts = parts[i + 1 :]
            break
    first = parts[0] if parts else ""
    return first[:-3] if first.endswith(".py") else first


_CATEGORY_OF: tuple[Category, ...] = get_args(Category)


@dataclass(frozen=True, slots=True)
class _Spans:
    """Statements as arrays: a tuple per statement of 5,000 files was 16 MiB."""

    starts: array[int]
    ends: array[int]
    categories: bytes
    """Per statement, its category's index in :data:`_CATEGORY_OF`."""

    def __len__(self) -> int:
        return len(self.starts)


def _category(statement: str) -> int:
    for pattern, category in _LINE_PATTERNS:
        if pattern.search(statement):
            return _CATEGORY_OF.index(category)
    return _CATEGORY_OF.index("python")


def _statements(parsed: tuple[str, ast.Module] | None) -> _Spans | None:
    if parsed is None:
        return None
    source, tree = parsed
    lines = source.splitlines()
    spans: list[tuple[int, int, int]] = []
    for node in ast.walk(tree):
        # Simple statements only: a compound statement's span would swallow its body.
        if isinstance(node, ast.stmt) and not isinstance(
            node,
            ast.FunctionDef
            | ast.AsyncFunctionDef
            | ast.ClassDef
            | ast.If
            | ast.For
            | ast.AsyncFor
            | ast.While
            | ast.With
            | ast.AsyncWith
            | ast.Try,
        ):
            end = node.end_lineno or node.lineno
            spans.append((node.lineno, end, _category("\n".join(lines[node.lineno - 1 : end]))))
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While | ast.If | ast.With):
            # The header line (e.g. ``for row in conn.execute(...)``) is a statement of its own.
            body_start = node.body[0].lineno if node.body else node.lineno
            head_end = max(node.lineno, body_start - 1)
            text = "\n".join(lines[node.lineno - 1 : head_end])
            spans.append((node.lineno, head_end, _category(text)))
    return _Spans(
        array("i", [a for a, _b, _c in spans]),
        array("i", [b for _a, b, _c in spans]),
        bytes(c for _a, _b, c in spans),
    )

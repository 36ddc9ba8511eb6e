"""cProfile / profile stats files (``cProfile -o``, ``Profile.dump_stats``, pstats).

The file is one ``marshal``-ed dict, read with :func:`marshal.loads` (never pickle): keys
``(file, line, name)``; values ``(primitive calls, calls, tottime, cumtime, callers)``;
``callers`` maps each caller's key to ``(calls, primitive calls, tottime, cumtime)`` for
cProfile, or to a plain call count for the pure-Python ``profile`` module (whose edge times
are then apportioned by calls, as gprof does). Builtins have file ``~`` and line 0; their
names are shown as pstats shows them: ``{built-in method builtins.getattr}``.

The ``profile`` module names its builtins ``('', 0, 'len')`` and its command's frame with a
code object instead of a string (its ``co_name`` is used). Functions are keyed by (name, file) like every other format; two functions with one name in
one file (two ``<lambda>``) are summed. Units are seconds.
"""

from __future__ import annotations

import marshal
import types
from typing import Any, BinaryIO, NoReturn

from hotpath.errors import ProfileParseError
from hotpath.formats import FormatSpec
from hotpath.model import EdgeStats, FunctionKey, FunctionStats, Metadata, Profile

_DICT = ord("{")
_FLAG_REF = 0x80
# Type codes that can start the first key (a tuple) or end an empty dict.
_FIRST_KEY = {ord(")"), ord("("), ord("0")}
_MAX_BYTES = 2 * 1024**3

FuncTuple = tuple[str, int, 'str | types.CodeType']


def _fail(path: str, reason: str) -> NoReturn:
    raise ProfileParseError(path, reason)


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def _is_func(k: object) -> bool:
    return (
        isinstance(k, tuple)
        and len(k) == 3
        and isinstance(k[0], str)
        and isinstance(k[1], int)
        and isinstance(k[2], (str, types.CodeType))
    )


def function_key(func: FuncTuple) -> FunctionKey:
    """The hotpath identity of a pstats function ``(file, line, name)``."""
    file, line, name = func
    if isinstance(name, types.CodeType):  # the profile module's fake frame for its command
        name = name.co_name
    if file == "~" and line == 0 and name.startswith("<") and name.endswith(">"):
        name = "{" + name[1:-1] + "}"  # as pstats prints builtins
    return FunctionKey(name, file)


def _load(stream: BinaryIO, path: str) -> Any:
    data = stream.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        _fail(path, "larger than 2 GiB: not a pstats file")
    if not sniff(data[:2]):
        _fail(path, "not a cProfile/pstats file (expected a marshal-ed dict)")
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError, MemoryError, OverflowError) as exc:
        raise ProfileParseError(path, f"truncated or corrupt pstats data ({exc})") from exc


def _check_entry(path: str, func: object, value: object) -> None:
    if not _is_func(func):
        _fail(path, f"entry key {str(func)[:80]} is not (file, line, name)")
    if not (
        isinstance(value, tuple)
        and len(value) == 5
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value[:2])
        and _num(value[2])
        and _num(value[3])
        and isinstance(value[4], dict)
    ):
        _fail(path, f"entry {func}: expected (calls, calls, tottime, cumtime, callers)")
    for caller, cv in value[4].items():
        ok = (isinstance(cv, int) and not isinstance(cv, bool) and cv >= 0) or (
            isinstance(cv, tuple) and len(cv) == 4 and all(_num(x) for x in cv)
        )
        if not _is_func(caller) or not ok:
            _fail(path, f"entry {func}: bad caller record {str(caller)[:80]}: {str(cv)[:80]}")


def read(stream: BinaryIO, path: str) -> Profile:
    """Read a stats dump into exact per-function and per-edge statistics."""
    stats = _load(stream, path)
    if not isinstance(stats, dict):
        _fail(path, "not a pstats file: the marshal-ed value is not a dict")
    if not stats:
        _fail(path, "no functions (empty profile)")
    profile = Profile(Metadata(unit="seconds"))
    fstats = profile.function_stats
    edges = profile.call_edges
    counts_only = False
    for func, value in stats.items():
        _check_entry(path, func, value)
        cc, nc, tt, ct, callers = value
        key = function_key(func)
        st = FunctionStats(float(tt), float(ct), nc, cc, func[1] if func[1] > 0 else None)
        prev = fstats.get(key)
        fstats[key] = st if prev is None else prev + st
        for caller, cv in callers.items():
            if isinstance(cv, tuple):
                e = EdgeStats(float(cv[2]), float(cv[3]), int(cv[0]))
            else:  # profile module: a count only; apportion the callee's time by calls
                counts_only = True
                share = cv / nc if nc else 0.0
                e = EdgeStats(tt * share, ct * share, cv)
            ekey = (function_key(caller), key)
            eprev = edges.get(ekey)
            edges[ekey] = e if eprev is None else eprev + e
    profile.meta.tools["profile" if counts_only else "cProfile"] = ""
    return profile


def sniff(head: bytes) -> bool:
    # marshal writes a dict as '{' (0x7b, or 0xfb with the ref flag) and its first key,
    # a tuple, as ')' / '(' (again maybe flagged). JSON's '{' is followed by '"', space or '}'.
    return len(head) >= 2 and head[0] & ~_FLAG_REF == _DICT and head[1] & ~_FLAG_REF in _FIRST_KEY


SPEC = FormatSpec(
    name="pstats",
    description="cProfile / profile stats dump (marshal), with exact call counts",
    extensions=(".pstats", ".prof", ".cprof", ".cprofile", ".profile"),
    sniff=sniff,
    read=read,
)

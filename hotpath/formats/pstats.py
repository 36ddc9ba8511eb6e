"""cProfile / profile stats files (``cProfile -o``, ``Profile.dump_stats``, pstats).

The file is one ``marshal``-ed dict, read with :func:`marshal.loads` (never pickle): keys
``(file, line, name)``; values ``(primitive calls, calls, tottime, cumtime, callers)``;
``callers`` maps each caller's key to ``(calls, primitive calls, tottime, cumtime)`` for
cProfile, or to a plain call count for the pure-Python ``profile`` module (whose edge times
are then apportioned by calls, as gprof does). Builtins have file ``~`` and line 0; their
names are shown as pstats shows them: ``{built-in method builtins.getattr}``.

The ``profile`` module names its builtins ``('', 0, 'len')`` and its command's frame with a
code object instead of a string (its ``co_name`` is used). pyinstrument's ``-r pstats``
output writes -1 for every call count (a sampling profiler does not count calls): read as 0,
unknown. A function is (file, def line, name): two functions with one name in one file (two
``<lambda>``, ``__init__`` of two classes) stay two, named by
:func:`hotpath.formats.identity.name_functions` (``Class.__init__`` from the source, else
``__init__:LINE``). Units are seconds.
"""

from __future__ import annotations

import marshal
import sys
import types
from typing import Any, BinaryIO, NoReturn

from hotpath.errors import ProfileParseError
from hotpath.formats import checks
from hotpath.formats.opening import read_at_most
from hotpath.formats.spec import FormatSpec
from hotpath.model import EdgeStats, FunctionKey, FunctionStats, Metadata, Profile

_DICT = ord("{")
_FLAG_REF = 0x80
# Type codes that can start the first key (a tuple) or end an empty dict.
_FIRST_KEY = {ord(")"), ord("("), ord("0")}
_MAX_BYTES = 2 * 1024**3

FuncTuple = tuple[str, int, "str | types.CodeType"]


def _fail(path: str, reason: str) -> NoReturn:
    raise ProfileParseError(path, reason)


def _num(v: object) -> bool:
    """A finite non-negative number within the range every reader accepts."""
    return checks.out_of_range(v) is None


def _count(v: object) -> bool:
    """A call count: a non-negative int, or pyinstrument's -1 (unknown)."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= -1


def _calls(v: int) -> int:
    return max(v, 0)


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
    return FunctionKey(checks.clean_text(name), checks.clean_text(file))


# Code objects are marshalled as raw 4-byte ints and nested objects in a per-version order.
_CODE_FIELDS: list[tuple[str, int]] = (
    [("raw", 24), ("obj", 8), ("raw", 4), ("obj", 1)]
    if sys.version_info < (3, 11)
    else [("raw", 20), ("obj", 8), ("raw", 4), ("obj", 2)]
)
_FIXED = {"N": 0, "F": 0, "T": 0, "S": 0, ".": 0, "i": 4, "I": 8, "g": 8, "y": 16, "r": 4}
_LEN4 = set("stuaA")  # 4-byte length, then that many bytes
_LEN1 = set("zZ")  # 1-byte length
_SEQ4 = set("([<>")  # 4-byte count, then that many objects


def check_marshal_sizes(data: bytes) -> int:
    """Bytes taken by the first marshal object; ValueError when a count or length in it
    exceeds the bytes left.

    ``marshal.loads`` allocates a tuple or list of the declared size before reading its
    items, so ten hostile bytes can claim 2**31 items (16 GiB). Every item takes at least
    one byte, so a count larger than what is left is garbage: refuse before allocating.
    """
    end = len(data)
    pos = 0
    pending: list[list[Any]] = [["obj", 1]]  # [kind, count]; "dict" reads until '0'
    while pending:
        top = pending[-1]
        kind = top[0]
        if kind == "raw":
            pos += top[1]
            pending.pop()
            continue
        if kind == "obj" and top[1] == 0:
            pending.pop()
            continue
        if pos >= end:
            raise ValueError("data ends inside an object")
        code = chr(data[pos] & 0x7F)
        pos += 1
        if kind == "dict" and code == "0":
            pending.pop()
            continue
        if kind == "obj":
            top[1] -= 1
        left = end - pos
        if code in _FIXED:
            pos += _FIXED[code]
        elif code in _LEN4 or code in _SEQ4 or code == "l":
            n = int.from_bytes(data[pos : pos + 4], "little", signed=True)
            pos += 4
            need = abs(n) * 2 if code == "l" else n
            if (n < 0 and code != "l") or need > left - 4:
                raise ValueError(f"type {code!r} claims {n} items or bytes, {left} left")
            if code in _SEQ4:
                pending.append(["obj", n])
            else:
                pos += need
        elif code in _LEN1 or code == ")":
            n = data[pos] if pos < end else 0
            pos += 1
            if code == ")":
                pending.append(["obj", n])
            else:
                pos += n
        elif code == "f":
            pos += 1 + (data[pos] if pos < end else 0)
        elif code == "x":
            for _ in range(2):
                pos += 1 + (data[pos] if pos < end else 0)
        elif code == "{":
            pending.append(["dict", 0])
        elif code == ":":  # slice (3.14): start, stop, step
            pending.append(["obj", 3])
        elif code == "c":  # the profile module's dumps hold the code object it ran
            pending.extend([list(f) for f in reversed(_CODE_FIELDS)])
        else:
            raise ValueError(f"unknown marshal type code {code!r}")
        if pos > end:
            raise ValueError("data ends inside an object")
    return pos


def _load(stream: BinaryIO, path: str) -> Any:
    data = read_at_most(stream, _MAX_BYTES)  # not one 2 GiB buffer up front
    if len(data) > _MAX_BYTES:
        _fail(path, "larger than 2 GiB: not a pstats file")
    if not sniff(data[:2]):
        _fail(path, "not a cProfile/pstats file (expected a marshal-ed dict)")
    try:
        check_marshal_sizes(data)
        return marshal.loads(data)
    # SystemError: a hostile code object rejected inside the interpreter (found by the fuzzer).
    except (EOFError, ValueError, TypeError, MemoryError, OverflowError, SystemError) as exc:
        raise ProfileParseError(path, f"truncated or corrupt pstats data ({exc})") from exc


def _check_entry(path: str, func: object, value: object) -> None:
    if not _is_func(func):
        _fail(path, f"entry key {str(func)[:80]} is not (file, line, name)")
    if not (
        isinstance(value, tuple)
        and len(value) == 5
        and all(_count(v) and v <= checks.MAX_VALUE for v in value[:2])
        and _num(value[2])
        and _num(value[3])
        and isinstance(value[4], dict)
    ):
        _fail(path, f"entry {func}: expected (calls, calls, tottime, cumtime, callers)")
    for caller, cv in value[4].items():
        ok = (isinstance(cv, int) and _num(cv)) or (
            isinstance(cv, tuple)
            and len(cv) == 4
            and all(_count(x) and x <= checks.MAX_VALUE for x in cv[:2])
            and all(_num(x) for x in cv[2:])
        )
        if not _is_func(caller) or not ok:
            _fail(path, f"entry {func}: bad caller record {str(caller)[:80]}: {str(cv)[:80]}")


def _keys(path: str, stats: dict[Any, Any]) -> dict[FuncTuple, FunctionKey]:
    """Keys of every function (and caller): one name in one file at several def lines gets
    a ``:LINE`` suffix, so they stay apart until the source names them."""
    funcs: set[FuncTuple] = set()
    for func, value in stats.items():
        _check_entry(path, func, value)
        funcs.add(func)
        funcs.update(value[4])
    plain = {func: function_key(func) for func in funcs}
    lines: dict[FunctionKey, set[int]] = {}
    for func, key in plain.items():
        lines.setdefault(key, set()).add(func[1])
    return {
        func: FunctionKey(f"{key.name}:{func[1]}", key.file) if len(lines[key]) > 1 else key
        for func, key in plain.items()
    }


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
    keys = _keys(path, stats)
    counts_only = False
    unknown_counts = False
    for func, value in stats.items():
        cc, nc, tt, ct, callers = value
        unknown_counts = unknown_counts or nc < 0
        cc, nc = _calls(cc), _calls(nc)
        key = keys[func]
        line = func[1] if 0 < func[1] <= checks.MAX_VALUE else None
        st = FunctionStats(float(tt), float(ct), nc, cc, line)
        prev = fstats.get(key)
        fstats[key] = st if prev is None else prev + st
        for caller, cv in callers.items():
            if isinstance(cv, tuple):
                e = EdgeStats(float(cv[2]), float(cv[3]), _calls(int(cv[0])))
            else:  # profile module: a count only; apportion the callee's time by calls
                counts_only = True
                share = cv / nc if nc else 0.0
                e = EdgeStats(tt * share, ct * share, cv)
            ekey = (keys[caller], key)
            eprev = edges.get(ekey)
            edges[ekey] = e if eprev is None else eprev + e
    if unknown_counts:
        profile.meta.attrs["calls"] = "unknown (a sampling profiler's pstats output)"
    tool = "pyinstrument" if unknown_counts else "profile" if counts_only else "cProfile"
    profile.meta.tools[tool] = ""
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

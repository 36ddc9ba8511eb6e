"""Callgrind profiles: valgrind's ``callgrind.out.PID`` and yappi's ``save(type="callgrind")``.

A text format of per-function cost lines and calls, read line by line:

- header ``events: A B ...`` names the costs; hotpath keeps the first. yappi's ``Ticks`` are
  microseconds of its clock (read as seconds); valgrind's events (``Ir`` …) are counts, read
  in unit ``samples`` (``meta.attrs["event"]`` names them).
- ``fl=``/``fi=``/``fe=`` set the file, ``fn=`` the function, with name compression: ``(12)
  name`` defines id 12, a later ``(12)`` refers to it (files and functions have separate ids).
  A function belongs to the ``fl=`` file it was named under.
- a cost line (``POSITION... COST...``, positions maybe relative: ``+N``, ``-N``, ``*``) adds
  self cost to the current function; after ``cfl=``/``cfi=``, ``cfn=`` and ``calls=COUNT
  TARGET``, the next cost line is the inclusive cost of those calls instead.

Like cProfile, callgrind holds per-function totals and caller→callee edges, not stacks: the
profile gets exact :attr:`~hotpath.model.Profile.function_stats` (self; inclusive = self + the
cost of calls to other functions, or the cost of the calls it received when that is more,
which is where yappi's data lack the edges of calls made through C functions; calls = calls
received) and
:attr:`~hotpath.model.Profile.call_edges` (calls and inclusive cost; the callee's self cost is
apportioned to its callers by calls). yappi names a function ``Class.name FILE:LINE``: the
suffix becomes the def line.
"""

from __future__ import annotations

import re
from typing import BinaryIO, NoReturn

from hotpath.errors import LimitExceeded, ProfileParseError
from hotpath.formats.spec import FormatSpec
from hotpath.model import EdgeStats, FunctionKey, FunctionStats, Metadata, Profile

MAX_LINE_BYTES = 64 * 1024**2
_MAX_COST = 2**63
_digits = re.compile(r"[0-9]+\Z").match
"""ASCII digits only: str.isdigit() accepts '²', which int() refuses."""
_NAME_RE = re.compile(r"\A\((\d{1,18})\)(?: (.*))?\Z", re.S)
_HEADER_KEYS = (
    "version", "creator", "pid", "cmd", "part", "desc", "positions", "events", "summary",
    "totals", "event", "thread", "timeframe (bb)", "trigger",
)  # fmt: skip
_FILE_KEYS = ("fl", "fi", "fe")
_CALLED_FILE_KEYS = ("cfl", "cfi")
_IGNORED_KEYS = ("ob", "cob", "jump", "jcnd")
_Fn = tuple[str, str, int | None]


def _int(text: str) -> int:
    """A callgrind number: decimal, or hexadecimal with 0x (instruction addresses)."""
    if text[:2] in ("0x", "0X"):
        return int(text[2:], 16)
    if _digits(text) is None:
        raise ValueError(text)
    return int(text)


"""(name, file, def line) of a function as the file names it."""


def _function_keys(funcs: set[_Fn]) -> dict[_Fn, FunctionKey]:
    """Keys: one name in one file at several def lines gets a ``:LINE`` suffix."""
    lines: dict[tuple[str, str], set[int | None]] = {}
    for name, file, first in funcs:
        lines.setdefault((name, file), set()).add(first)
    return {
        (name, file, first): FunctionKey(
            f"{name}:{first}" if len(lines[(name, file)]) > 1 and first else name, file
        )
        for name, file, first in funcs
    }


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lineno = 0
        self.files: dict[str, str] = {}
        self.functions: dict[str, str] = {}
        self.n_positions = 1
        self.events: list[str] = []
        self.file = ""
        self.fn: _Fn | None = None
        self.called_file: str | None = None
        self.called: _Fn | None = None
        self.pending_calls: int | None = None
        self.last_pos: list[int] = []
        self.self_cost: dict[_Fn, int] = {}
        self.edges: dict[tuple[_Fn, _Fn], list[int]] = {}
        self.header: dict[str, str] = {}
        self.keys: dict[tuple[str, str], _Fn] = {}
        self.fl_file = ""

    def fail(self, reason: str) -> NoReturn:
        raise ProfileParseError(self.path, reason, self.lineno)

    def name(self, table: dict[str, str], text: str, what: str) -> str:
        m = _NAME_RE.match(text)
        if m is None:
            return text  # uncompressed name
        ident, name = m.group(1), m.group(2)
        if name is not None:
            table[ident] = name
            return name
        if ident not in table:
            self.fail(f"{what} ({ident}) is used before it is named")
        return table[ident]

    def key(self, name: str, file: str) -> _Fn:
        """The function; yappi's ``name FILE:LINE`` names give their def line."""
        got = self.keys.get((name, file))
        if got is None:
            first, shown = None, name
            suffix = f" {file}:"
            at = name.rfind(suffix) if file else -1
            if at > 0 and _digits(name[at + len(suffix) :]):
                first, shown = int(name[at + len(suffix) :][:10]) or None, name[:at]
            got = self.keys[(name, file)] = (shown, file, first)
        return got

    def cost_line(self, line: str) -> None:
        parts = line.split()
        if len(parts) < self.n_positions:
            self.fail(f"cost line {line[:40]!r} has fewer than {self.n_positions} positions")
        pos: list[int] = []
        for i, p in enumerate(parts[: self.n_positions]):
            prev = self.last_pos[i] if i < len(self.last_pos) else 0
            try:
                if p == "*":
                    value = prev
                elif p[0] in "+-":
                    value = prev + (-1 if p[0] == "-" else 1) * _int(p[1:])
                else:
                    value = _int(p)
            except ValueError:
                self.fail(f"position {p[:30]!r} is not a number")
            pos.append(value)
        self.last_pos = pos
        costs = parts[self.n_positions : self.n_positions + 1]
        cost = 0
        if costs:
            try:
                cost = _int(costs[0])
            except ValueError:
                self.fail(f"cost {costs[0][:30]!r} is not an integer")
            if not 0 <= cost < _MAX_COST:
                self.fail(f"cost {cost} is out of range")
        if self.fn is None:
            self.fail("a cost line before any fn=")
        if self.pending_calls is not None:
            callee = self.called
            if callee is None:
                self.fail("calls= without a cfn=")
            edge = self.edges.setdefault((self.fn, callee), [0, 0])
            edge[0] += self.pending_calls
            edge[1] += cost
            self.pending_calls = None
            self.called_file = None
        else:
            self.self_cost[self.fn] = self.self_cost.get(self.fn, 0) + cost

    def spec_line(self, key: str, value: str) -> None:
        if key in _FILE_KEYS:
            self.file = self.name(self.files, value, "file")
            if key == "fl":
                self.fl_file = self.file
        elif key == "fn":
            # The function is the one named under the current fl= (yappi names them all
            # in a header first, under whichever file came last).
            self.fn = self.key(self.name(self.functions, value, "function"), self.fl_file)
        elif key in _CALLED_FILE_KEYS:
            self.called_file = self.name(self.files, value, "file")
        elif key == "cfn":
            file = self.called_file if self.called_file is not None else self.fl_file
            self.called = self.key(self.name(self.functions, value, "function"), file)
        elif key == "calls":
            count = value.split()[0] if value.split() else ""
            if not _digits(count) or int(count) >= _MAX_COST:
                self.fail(f"calls={value[:30]!r}: the call count is not a non-negative integer")
            self.pending_calls = int(count)
        elif key in _IGNORED_KEYS:
            return
        elif key in _HEADER_KEYS:
            self.header_line(key, value)
        else:
            self.fail(f"unknown callgrind line '{key}='")

    def header_line(self, key: str, value: str) -> None:
        if key == "positions":
            names = value.split()
            if not names or any(n not in ("line", "instr") for n in names):
                self.fail(f"positions: {value[:40]!r} (expected 'line' and/or 'instr')")
            self.n_positions = len(names)
        elif key == "events":
            self.events = value.split()
            if not self.events:
                self.fail("events: names no event")
        self.header.setdefault(key, value.strip())

    def feed(self, raw: bytes) -> None:
        self.lineno += 1
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            line = raw.decode("latin-1").rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            return
        c = line[0]
        if _digits(c) or c in "+-*":
            self.cost_line(line)
            return
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep or key.strip() not in _HEADER_KEYS:
                self.fail(f"not a callgrind line: {line[:60]!r}")
            self.header_line(key.strip(), value)
            return
        self.spec_line(key.strip(), value.strip())


def read(stream: BinaryIO, path: str) -> Profile:
    r = _Reader(path)
    for raw in iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""):
        if len(raw) > MAX_LINE_BYTES:
            raise LimitExceeded(path, "a line is longer than 64 MiB", r.lineno + 1)
        r.feed(raw)
    if not r.events:
        raise ProfileParseError(path, "no 'events:' line: not a callgrind profile")
    if not r.self_cost:
        raise ProfileParseError(path, "no functions (no fn= lines)")
    creator = r.header.get("creator", "")
    event = r.events[0]
    yappi = creator.startswith("yappi") or event == "Ticks"
    scale = 1e-6 if yappi else 1.0
    profile = Profile(Metadata(unit="seconds" if yappi else "samples"))
    meta = profile.meta
    meta.tools["yappi" if yappi else (creator.split()[0] if creator else "callgrind")] = (
        creator.split()[-1] if len(creator.split()) > 1 else ""
    )
    meta.attrs["event"] = event
    if "cmd" in r.header:
        meta.attrs["command"] = r.header["cmd"]
    funcs = set(r.self_cost) | {f for edge in r.edges for f in edge}
    keys = _function_keys(funcs)
    calls_in: dict[_Fn, int] = {}
    primitive_in: dict[_Fn, int] = {}
    out_cost: dict[_Fn, int] = {}
    in_cost: dict[_Fn, int] = {}
    for (caller, callee), (calls, cost) in r.edges.items():
        calls_in[callee] = calls_in.get(callee, 0) + calls
        if caller != callee:
            primitive_in[callee] = primitive_in.get(callee, 0) + calls
            out_cost[caller] = out_cost.get(caller, 0) + cost
            in_cost[callee] = in_cost.get(callee, 0) + cost
    for fn in funcs:
        own = r.self_cost.get(fn, 0)
        # Inclusive: self + calls made, or the calls received, whichever is more. They agree
        # on complete data; yappi records no edge for calls made through a C function
        # (exec(), sum() resuming a generator), which only the received side then covers.
        inclusive = max(own + out_cost.get(fn, 0), in_cost.get(fn, 0))
        profile.function_stats[keys[fn]] = FunctionStats(
            own * scale,
            inclusive * scale,
            calls_in.get(fn, 0),
            primitive_in.get(fn, 0),
            fn[2],
        )
    for (caller, callee), (calls, cost) in r.edges.items():
        total_calls = calls_in.get(callee, 0)
        share = calls / total_calls if total_calls else 0.0
        own_share = r.self_cost.get(callee, 0) * share
        profile.call_edges[(keys[caller], keys[callee])] = EdgeStats(
            own_share * scale, cost * scale, calls
        )
    return profile


def sniff(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first = text.split(b"\n", 1)[0].strip()
    if first.startswith(b"# callgrind format"):
        return True
    keys = (b"version:", b"creator:", b"pid:", b"cmd:", b"part:", b"positions:", b"events:")
    if not first.startswith(keys):
        return False
    return (b"events:" in text) and (b"\nfn=" in text or b"\nfl=" in text)


SPEC = FormatSpec(
    name="callgrind",
    description="callgrind profile (valgrind --tool=callgrind, yappi save(type='callgrind'))",
    extensions=(".callgrind",),
    sniff=sniff,
    read=read,
)

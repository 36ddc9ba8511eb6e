"""Values at a function's boundary as JSON with type tags: no pickle, nothing run on reading.

A JSON ``null``, ``true``/``false``, number or string is that Python value; a JSON array is a
``list``; every JSON object is a tagged node ``{"$t": TAG, ...}``:

======================  ======================================================================
``tuple``/``set``/      ``"v"``: the items (``frozenset`` too)
``frozenset``
``dict``                ``"v"``: ``[[key, value], ...]`` in insertion order (keys of any type)
``bytes``/``bytearray`` ``"b64"``: the bytes, base64
``int``                 ``"hex"``: an integer outside 64 bits
``float``               ``"v"``: ``"nan"``, ``"inf"`` or ``"-inf"``
``complex``             ``"v"``: ``[real, imag]``
``sub``                 a subclass of a builtin (an ``IntEnum``, a ``str`` subclass):
                        ``"type"`` and ``"v"``, the builtin value (replayed as the builtin)
``cut``                 a value cut at a limit: ``"type"``, ``"len"``, ``"v"`` the kept prefix
``cycle``               a container that contains itself (``"type"``)
``deep``                nesting beyond ``max_depth`` (``"type"``)
``object``              anything else: its ``"type"`` only (no ``repr``, no attribute read)
``redacted``            replaced by the redaction hook (``"type"``)
======================  ======================================================================

Encoding never calls the value's own methods (no ``repr``, ``__len__``, ``__eq__``, ``__iter__``
of user classes): only exact builtin types are walked, so an object whose ``__repr__`` raises,
or a huge or self-containing structure, costs a bounded amount of work. A node that is ``cut``,
``cycle``, ``deep``, ``object`` or ``redacted`` (or holds one) is *inexact*: a call with such an
argument cannot be replayed, and such a result can only be compared by its type.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

TAG = "$t"
INEXACT_TAGS = frozenset({"cut", "cycle", "deep", "object", "redacted"})
_I64 = 1 << 63


@dataclass(frozen=True)
class ValueLimits:
    """How much of one value is kept (each bound caps the work of encoding it too)."""

    max_str: int = 4096
    """Characters of a string (bytes of a bytes value) kept; longer ones are ``cut``."""
    max_items: int = 1000
    """Items of one container kept."""
    max_depth: int = 16
    max_nodes: int = 20_000
    """Nodes of one call's arguments (or of its result) in all; the rest are ``cut``."""
    max_int_bits: int = 4096


class Redacted:
    """A value the redaction hook withheld: encoded as ``redacted`` with its type only."""

    __slots__ = ("type",)

    def __init__(self, of: object) -> None:
        self.type = type_name(of)


class Unreplayable(Exception):
    """A node that does not stand for a whole value (``cut``, ``object`` ...)."""


class ValueFormatError(ValueError):
    """A node that is not of this format (unknown tag, wrong field types)."""


def type_name(value: object) -> str:
    """``module.QualName`` of a value's type, read without running the value's code."""
    t = type(value)
    try:
        module, qual = t.__module__, t.__qualname__
    except Exception:  # a hostile metaclass
        return "<unknown type>"
    if not isinstance(module, str) or not isinstance(qual, str):
        return "<unknown type>"
    return qual if module == "builtins" else f"{module}.{qual}"


class Encoder:
    """Encodes the values of one call; ``exact`` turns False once anything was left out."""

    __slots__ = ("exact", "limits", "nodes")

    def __init__(self, limits: ValueLimits) -> None:
        self.limits = limits
        self.nodes = 0
        self.exact = True

    def encode(self, value: object) -> Any:
        return self._node(value, 0, set())

    def _inexact(self, tag: str, value: object, **extra: Any) -> dict[str, Any]:
        self.exact = False
        return {TAG: tag, "type": type_name(value), **extra}

    def _node(self, v: object, depth: int, path: set[int]) -> Any:
        self.nodes += 1
        lim = self.limits
        if self.nodes > lim.max_nodes:
            return self._inexact("cut", v)
        t = type(v)
        if v is None or t is bool:
            return v
        if t is int:
            return self._int(v)  # type: ignore[arg-type]
        if t is float:
            return _float(v)  # type: ignore[arg-type]
        if t is str:
            s: str = v  # type: ignore[assignment]
            if len(s) > lim.max_str:
                return self._inexact("cut", v, len=len(s), v=s[: lim.max_str])
            return s
        if t is bytes or t is bytearray:
            b: bytes = v  # type: ignore[assignment]
            if len(b) > lim.max_str:
                kept = base64.b64encode(bytes(b[: lim.max_str])).decode("ascii")
                return self._inexact("cut", v, len=len(b), v=kept)
            return {TAG: t.__name__, "b64": base64.b64encode(bytes(b)).decode("ascii")}
        if t is Redacted:
            self.exact = False
            return {TAG: "redacted", "type": v.type}  # type: ignore[attr-defined]
        if t is complex:
            c: complex = v  # type: ignore[assignment]
            return {TAG: "complex", "v": [_float(c.real), _float(c.imag)]}
        if t in (list, tuple, set, frozenset, dict):
            return self._container(v, t, depth, path)
        copy = _builtin_copy(t)
        if copy is not None:
            try:
                plain = copy(v)  # the builtin's own slot: no method of the subclass runs
            except Exception:
                return self._inexact("object", v)
            if type(plain) in _COPIES:
                return {TAG: "sub", "type": type_name(v), "v": self._node(plain, depth, path)}
        return self._inexact("object", v)

    def _int(self, i: int) -> Any:
        if -_I64 <= i < _I64:
            return i
        if i.bit_length() > self.limits.max_int_bits:
            return self._inexact("cut", i, len=i.bit_length(), v=None)
        return {TAG: "int", "hex": hex(i)}

    def _container(self, v: Any, t: type, depth: int, path: set[int]) -> Any:
        lim = self.limits
        if id(v) in path:
            return self._inexact("cycle", v)
        if depth >= lim.max_depth:
            return self._inexact("deep", v)
        path.add(id(v))
        try:
            n = len(v)
            if t is dict:
                items: list[Any] = []
                for i, (k, val) in enumerate(v.items()):
                    if i >= lim.max_items:
                        break
                    items.append([self._node(k, depth + 1, path), self._node(val, depth + 1, path)])
            else:
                items = []
                for i, item in enumerate(v):
                    if i >= lim.max_items:
                        break
                    items.append(self._node(item, depth + 1, path))
        finally:
            path.discard(id(v))
        if n > lim.max_items:
            return self._inexact("cut", v, len=n, v=items)
        if t is list:
            return items
        return {TAG: t.__name__, "v": items}


def _float(f: float) -> Any:
    if math.isfinite(f):
        return f
    return {TAG: "float", "v": "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")}


_WHOLE = slice(None)
_COPIES: dict[type, Any] = {
    int: int.__index__,
    float: float.__float__,
    str: str.__str__,
    bytes: lambda b: bytes.__getitem__(b, _WHOLE),
    tuple: lambda t: tuple.__getitem__(t, _WHOLE),
    list: lambda x: list.__getitem__(x, _WHOLE),
    dict: dict.copy,
    set: set.copy,
    frozenset: frozenset.copy,
}
"""The builtin value inside a subclass instance, read by the builtin's own slot (an
``IntEnum`` member -> its int), so an overridden ``__str__`` or ``__iter__`` never runs."""


def _builtin_copy(t: type) -> Any:
    """The copier of the builtin a subclass derives from, if any."""
    try:
        mro = type.__dict__["__mro__"].__get__(t)
    except Exception:
        return None
    for base in mro:
        if base in _COPIES:
            return _COPIES[base]
    return None


def encode(value: object, limits: ValueLimits | None = None) -> tuple[Any, bool]:
    """(node, exact) for one value."""
    enc = Encoder(limits or ValueLimits())
    try:
        node = enc.encode(value)
    except (RuntimeError, RecursionError):  # changed by another thread while being read
        return {TAG: "object", "type": type_name(value)}, False
    return node, enc.exact


# -- reading back ---------------------------------------------------------------------------
_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def decode(node: Any) -> Any:
    """The Python value of a node; :class:`Unreplayable` for an inexact one,
    :class:`ValueFormatError` for anything that is not a node of this format."""
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, int):
        return node
    if isinstance(node, float):
        if not math.isfinite(node):
            raise ValueFormatError("a non-finite number outside a float node")
        return node
    if isinstance(node, list):
        return [decode(x) for x in node]
    if not isinstance(node, dict):
        raise ValueFormatError(f"unexpected JSON value {type(node).__name__}")
    tag = node.get(TAG)
    if tag in INEXACT_TAGS:
        raise Unreplayable(f"{tag} {node.get('type', '?')}")
    if tag in ("tuple", "set", "frozenset"):
        items = _items(node)
        ctor: Any = {"tuple": tuple, "set": set, "frozenset": frozenset}[tag]
        try:
            return ctor(decode(x) for x in items)
        except TypeError as exc:  # an unhashable member of a set
            raise ValueFormatError(f"{tag}: {exc}") from None
    if tag == "dict":
        out = {}
        for pair in _items(node):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueFormatError("dict items must be [key, value] pairs")
            key = decode(pair[0])
            try:
                out[key] = decode(pair[1])
            except TypeError:
                raise ValueFormatError("unhashable dict key") from None
        return out
    if tag in ("bytes", "bytearray"):
        text = node.get("b64")
        if not isinstance(text, str):
            raise ValueFormatError(f"{tag} without b64 text")
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError:
            raise ValueFormatError(f"{tag}: bad base64") from None
        return raw if tag == "bytes" else bytearray(raw)
    if tag == "int":
        text = node.get("hex")
        if not isinstance(text, str) or len(text) > 4096:
            raise ValueFormatError("int without a hex text (or too long)")
        try:
            return int(text, 16)
        except ValueError:
            raise ValueFormatError("int: bad hex text") from None
    if tag == "float":
        if node.get("v") not in _FLOATS:
            raise ValueFormatError("float node must be nan, inf or -inf")
        return _FLOATS[node["v"]]
    if tag == "complex":
        parts = node.get("v")
        if not isinstance(parts, list) or len(parts) != 2:
            raise ValueFormatError("complex needs [real, imag]")
        re_, im = decode(parts[0]), decode(parts[1])
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (re_, im)):
            raise ValueFormatError("complex parts must be numbers")
        return complex(re_, im)
    if tag == "sub":
        if "v" not in node:
            raise ValueFormatError("sub without v")
        return decode(node["v"])
    raise ValueFormatError(f"unknown tag {str(tag)[:40]!r}")


def _items(node: dict[str, Any]) -> list[Any]:
    items = node.get("v")
    if not isinstance(items, list):
        raise ValueFormatError(f"{node.get(TAG)} without a list of items")
    return items


def is_exact(node: Any) -> bool:
    """True when no part of the node was left out (the value can be rebuilt)."""
    if isinstance(node, list):
        return all(is_exact(x) for x in node)
    if isinstance(node, dict):
        if node.get(TAG) in INEXACT_TAGS:
            return False
        inner = node.get("v")
        return is_exact(inner) if isinstance(inner, (list, dict)) else True
    return True


# -- describing: types and sizes at the boundary --------------------------------------------
def describe(node: Any) -> str:
    """A short Python type of a node: ``str``, ``list[str]``, ``dict[str, int]``, a class name."""
    if node is None:
        return "None"
    if isinstance(node, bool):
        return "bool"
    if isinstance(node, int):
        return "int"
    if isinstance(node, float):
        return "float"
    if isinstance(node, str):
        return "str"
    if isinstance(node, list):
        return f"list[{_union(node)}]" if node else "list"
    if not isinstance(node, dict):
        return "?"
    tag = node.get(TAG)
    items = node.get("v")
    if tag in ("tuple",) and isinstance(items, list):
        return "tuple[" + ", ".join(describe(x) for x in items) + "]" if items else "tuple"
    if tag in ("set", "frozenset") and isinstance(items, list):
        return f"{tag}[{_union(items)}]" if items else str(tag)
    if tag == "dict" and isinstance(items, list):
        pairs = [p for p in items if isinstance(p, list) and len(p) == 2]
        if not pairs:
            return "dict"
        return f"dict[{_union([p[0] for p in pairs])}, {_union([p[1] for p in pairs])}]"
    if tag in ("bytes", "bytearray", "int", "float", "complex"):
        return str(tag)
    if tag == "cut":
        kind = str(node.get("type", "?"))
        if kind == "list" and isinstance(items, list):
            return f"list[{_union(items)}]" if items else "list"
        return kind
    return str(node.get("type", tag))


def _union(nodes: list[Any]) -> str:
    kinds = sorted({describe(x) for x in nodes})
    return (
        kinds[0]
        if len(kinds) == 1
        else " | ".join(kinds[:4]) + (" | ..." if len(kinds) > 4 else "")
    )


def size_of(node: Any) -> int | None:
    """Length of a string, bytes value or container (its real length when it was cut)."""
    if isinstance(node, (str, list)):
        return len(node)
    if isinstance(node, dict):
        if isinstance(node.get("len"), int):
            return int(node["len"])
        tag = node.get(TAG)
        if tag in ("bytes", "bytearray") and isinstance(node.get("b64"), str):
            return len(base64.b64decode(node["b64"]))
        if isinstance(node.get("v"), list) and tag in ("tuple", "set", "frozenset", "dict"):
            return len(node["v"])
        if tag == "sub":
            return size_of(node.get("v"))
    return None


def json_size(node: Any) -> int:
    """Bytes of the plain JSON a service would exchange for this value (tags left out)."""
    return len(json.dumps(_plain(node), separators=(",", ":"), ensure_ascii=False).encode())


def _plain(node: Any) -> Any:
    if isinstance(node, list):
        return [_plain(x) for x in node]
    if not isinstance(node, dict):
        return node
    tag = node.get(TAG)
    if tag == "dict" and isinstance(node.get("v"), list):
        return {
            str(_plain(p[0])): _plain(p[1])
            for p in node["v"]
            if isinstance(p, list) and len(p) == 2
        }
    if tag in ("bytes", "bytearray"):
        return node.get("b64", "")
    if "v" in node:
        return _plain(node["v"])
    return None


# -- comparing --------------------------------------------------------------------------------
def same(recorded: Any, now: Any, rel_tol: float = 0.0) -> str | None:
    """None when two nodes stand for equal values, else what differs first (short).

    Types count (``3`` is not ``3.0``, a tuple is not a list); NaN equals NaN; dict items and
    set members are compared regardless of order; floats within ``rel_tol``."""
    if isinstance(recorded, bool) or isinstance(now, bool) or recorded is None or now is None:
        return None if type(recorded) is type(now) and recorded == now else _diff(recorded, now)
    if isinstance(recorded, (int, float, str)) or isinstance(now, (int, float, str)):
        if type(recorded) is not type(now):
            return _diff(recorded, now)
        if isinstance(recorded, float) and rel_tol:
            return None if math.isclose(recorded, now, rel_tol=rel_tol) else _diff(recorded, now)
        return None if recorded == now else _diff(recorded, now)
    if isinstance(recorded, list) and isinstance(now, list):
        if len(recorded) != len(now):
            return f"length {len(now)}, recorded {len(recorded)}"
        for i, (a, b) in enumerate(zip(recorded, now, strict=True)):
            d = same(a, b, rel_tol)
            if d is not None:
                return f"[{i}]: {d}"
        return None
    if isinstance(recorded, dict) and isinstance(now, dict):
        tag = recorded.get(TAG)
        if tag != now.get(TAG):
            return _diff(recorded, now)
        if tag in ("dict", "set", "frozenset") and isinstance(recorded.get("v"), list):
            a = sorted(recorded["v"], key=_canon)
            b = sorted(now.get("v") or [], key=_canon)
            return same(a, b, rel_tol)
        if tag == "float" or tag not in INEXACT_TAGS:
            return same(
                recorded.get("v", recorded.get("b64", recorded.get("hex"))),
                now.get("v", now.get("b64", now.get("hex"))),
                rel_tol,
            )
        return None if recorded.get("type") == now.get("type") else _diff(recorded, now)
    return _diff(recorded, now)


def _canon(node: Any) -> str:
    return json.dumps(node, sort_keys=True)


def _diff(recorded: Any, now: Any) -> str:
    return f"{short(now)} ({describe(now)}), recorded {short(recorded)} ({describe(recorded)})"


def short(node: Any, width: int = 40) -> str:
    """A node as at most ``width`` characters of JSON."""
    text = json.dumps(node, ensure_ascii=True)
    return text if len(text) <= width else text[: width - 3] + "..."

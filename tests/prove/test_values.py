"""Values at the boundary: tagged JSON that round-trips, and hostile values kept bounded."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest

from hotpath.prove.values import (
    Unreplayable,
    ValueFormatError,
    ValueLimits,
    decode,
    describe,
    encode,
    is_exact,
    same,
)


class Colour(enum.IntEnum):
    RED = 1


ROUND_TRIPS: list[Any] = [
    None,
    True,
    0,
    -(2**63),
    2**64 + 5,
    1.5,
    "héllo \x00 \ud800",
    b"\x00\xffbinary",
    bytearray(b"ab"),
    (1, "a", None),
    [1, [2, [3]]],
    {"a": 1, 2: "b", (1, 2): [3]},
    {1, 2, 3},
    frozenset({"x"}),
    3 + 4j,
]


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=lambda v: type(v).__name__)
def test_values_round_trip_through_json(value: Any) -> None:
    node, exact = encode(value)
    assert exact and is_exact(node)
    back = decode(json.loads(json.dumps(node)))
    assert back == value and type(back) is type(value)


def test_values_nan_and_infinities_are_tagged_and_compare_equal() -> None:
    for f in (math.nan, math.inf, -math.inf):
        node, exact = encode(f)
        assert exact and isinstance(node, dict)
        json.dumps(node, allow_nan=False)  # valid JSON, no NaN literal
        assert same(node, encode(f)[0]) is None
    assert math.isnan(decode(encode(math.nan)[0]))


def test_values_huge_string_is_cut_to_the_limit() -> None:
    node, exact = encode("x" * 10_000_000, ValueLimits(max_str=100))
    assert not exact and node["$t"] == "cut" and node["len"] == 10_000_000
    assert len(json.dumps(node)) < 300
    with pytest.raises(Unreplayable):
        decode(node)


def test_values_recursive_structures_end_in_a_cycle_node() -> None:
    a: list[Any] = [1]
    a.append(a)
    d: dict[str, Any] = {}
    d["self"] = d
    node, exact = encode([a, d])
    assert not exact
    assert node[0][1] == {"$t": "cycle", "type": "list"}
    assert node[1]["v"][0][1] == {"$t": "cycle", "type": "dict"}
    shared = [1]
    node, exact = encode([shared, shared])  # the same list twice is no cycle
    assert exact and node == [[1], [1]]


def test_values_repr_that_raises_is_never_called() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("repr")

        def __len__(self) -> int:
            raise RuntimeError("len")

        def __iter__(self) -> Any:
            raise RuntimeError("iter")

    node, exact = encode({"h": Hostile()})
    assert not exact
    assert node["v"][0][1] == {"$t": "object", "type": f"{__name__}.{Hostile.__qualname__}"}


def test_values_subclass_methods_are_not_run() -> None:
    class Loud(str):
        def __str__(self) -> str:
            raise RuntimeError("str")

    class Items(list):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            raise RuntimeError("iter")

    node, exact = encode([Loud("ab"), Items([1, 2]), Colour.RED])
    assert exact
    assert [decode(n) for n in node] == ["ab", [1, 2], 1]
    assert node[2]["type"].endswith("Colour")


def test_values_hostile_metaclass_type_name() -> None:
    class Meta(type):
        def __getattribute__(cls, name: str) -> Any:
            raise RuntimeError(name)

    class Odd(metaclass=Meta):
        pass

    node, exact = encode(Odd())
    assert not exact and node["$t"] == "object"


def test_values_work_is_bounded_by_depth_items_and_nodes() -> None:
    deep: list[Any] = []
    cur = deep
    for _ in range(10_000):
        cur.append([])
        cur = cur[0]
    node, exact = encode(deep, ValueLimits(max_depth=5))
    assert not exact and "deep" in json.dumps(node)
    wide = [[i] * 1000 for i in range(1000)]  # a million ints
    node, exact = encode(wide, ValueLimits(max_nodes=5000))
    assert not exact
    assert json.dumps(node).count("cut") >= 900
    big = list(range(5000))
    node, exact = encode(big, ValueLimits(max_items=10))
    assert not exact and node["len"] == 5000 and len(node["v"]) == 10
    huge_int = 1 << 100_000
    node, exact = encode(huge_int)
    assert not exact and node["$t"] == "cut"


def test_values_decode_rejects_what_is_not_a_node() -> None:
    for bad in ({"$t": "pickle", "v": "x"}, {"$t": "bytes", "b64": "!!"}, {"$t": "set"},
                {"$t": "dict", "v": [[[1], 2]]}, {"$t": "int", "hex": "zz"}):  # fmt: skip
        with pytest.raises(ValueFormatError):
            decode(bad)


def test_values_same_is_strict_on_types_and_loose_on_order() -> None:
    enc = lambda v: encode(v)[0]  # noqa: E731
    assert same(enc(3), enc(3.0)) is not None
    assert same(enc(True), enc(1)) is not None
    assert same(enc((1, 2)), enc([1, 2])) is not None
    assert same(enc({"a": 1, "b": 2}), enc({"b": 2, "a": 1})) is None
    assert same(enc({3, 1, 2}), enc({1, 2, 3})) is None
    assert same(enc([1.0, 2.0]), enc([1.0, 2.0000001]), rel_tol=1e-6) is None
    assert "[1]" in (same(enc([1, 2]), enc([1, 3])) or "")


def test_values_describe_gives_python_types() -> None:
    assert describe(encode(["a", "b"])[0]) == "list[str]"
    assert describe(encode({"a": 1})[0]) == "dict[str, int]"
    assert describe(encode(("a", 1))[0]) == "tuple[str, int]"
    assert describe(encode(b"x")[0]) == "bytes"

"""Callgrind: yappi's callgrind export against yappi's own pstat export of the same run
(read by the standard library's pstats), and valgrind's compressed syntax on a small case."""

from __future__ import annotations

import pstats
import re

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import detect, read_bytes
from hotpath.model import FunctionKey
from tests.formats.readers_helpers import READERS, read_raw

CALLGRIND = READERS / "yappi.callgrind"
PSTAT = READERS / "yappi.pstat"
TICK = 1e-6
"""yappi writes int(seconds * 1e6): each number is up to 1 µs below yappi's own."""

FuncTuple = tuple[str, int, str]


def _reference() -> dict[FuncTuple, tuple[int, int, float, float, dict[FuncTuple, tuple]]]:
    return pstats.Stats(str(PSTAT)).stats  # type: ignore[attr-defined, no-any-return]


def _func_of(key: FunctionKey, first_line: int | None) -> FuncTuple:
    # A name shared by several defs in one file is read as NAME:LINE.
    name = (
        key.name.rsplit(":", 1)[0]
        if first_line and key.name.endswith(f":{first_line}")
        else key.name
    )
    return (key.file, first_line or 0, name)


def test_callgrind_self_time_equals_yappi_for_every_function() -> None:
    profile = read_raw("callgrind", CALLGRIND)
    ref = _reference()
    got = {_func_of(k, st.first_line): st for k, st in profile.function_stats.items()}
    assert set(got) == set(ref)
    for func, st in got.items():
        assert st.self == pytest.approx(ref[func][2], abs=TICK), func
    assert profile.meta.unit == "seconds" and profile.meta.tools == {"yappi": ""}


def test_callgrind_every_edge_equals_yappi_calls_and_inclusive() -> None:
    profile = read_raw("callgrind", CALLGRIND)
    ref = _reference()
    firsts = {k: st.first_line for k, st in profile.function_stats.items()}
    assert len(profile.call_edges) > 100
    for (caller, callee), edge in profile.call_edges.items():
        record = ref[_func_of(callee, firsts[callee])][4][_func_of(caller, firsts[caller])]
        assert edge.calls == max(record[0], record[1]), (caller, callee)
        assert edge.inclusive == pytest.approx(record[3], abs=TICK), (caller, callee)


def test_callgrind_keeps_same_name_functions_and_recursion_apart() -> None:
    profile = read_raw("callgrind", CALLGRIND)
    ours = {k.name: st for k, st in profile.function_stats.items() if k.file == "workload.py"}
    # Two lambdas and three generator expressions: one function each.
    assert {"<lambda>:51", "<lambda>:52", "<genexpr>:31", "<genexpr>:51"} <= set(ours)
    fib = ours["fib"]
    ref = _reference()[("workload.py", 15, "fib")]
    assert (fib.calls, fib.primitive_calls) == (max(ref[:2]), min(ref[:2]))  # 25083/3
    # yappi names the inherited method after each runtime class: one def line.
    assert {st.first_line for n, st in ours.items() if n.endswith(".area_sum")} == {30}


_VALGRIND = b"""# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 42
cmd:  ./prog
part: 1
positions: instr line
events: Ir Dr
summary: 1200 10

ob=(1) /bin/prog
fl=(1) prog.c
fn=(1) main
0x10 3 5 1
+2 4 7
cfl=(2) lib.c
cfn=(2) helper
calls=2 0x40 20
* 5 1000 9
fn=(2)
0x40 20 188
fi=(3) inl.h
+4 -2 3
fl=(2)
fn=(2)
0x50 22 2
"""


def test_valgrind_compression_relative_positions_and_inlined_files() -> None:
    p = read_bytes(_VALGRIND, "callgrind.out.42")
    assert p.meta.sources[0].format == "callgrind"
    main, helper = FunctionKey("main", "prog.c"), FunctionKey("helper", "lib.c")
    # "fn=(2)" under fl=(1) is a second function named helper, in prog.c.
    helper_in_prog = FunctionKey("helper", "prog.c")
    st = p.function_stats
    assert (st[main].self, st[main].inclusive) == (12, 1012)
    assert (st[helper_in_prog].self, st[helper].self) == (191, 2)
    assert (st[helper].calls, p.call_edges[(main, helper)].inclusive) == (2, 1000)
    assert p.meta.unit == "samples" and p.meta.attrs["event"] == "Ir"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (b"events: Ir\nfn=(3)\n1 2\n", "function (3) is used before it is named", 2),
        (b"events: Ir\nfn=f\n1 x\n", "cost 'x' is not an integer", 3),
        (b"events: Ir\nfn=f\ncfn=g\ncalls=-1 0\n", "not a non-negative integer", 4),
        (b"events: Ir\n1 2\n", "a cost line before any fn=", 2),
        (b"events: Ir\nfn=f\nwhat is this\n", "not a callgrind line", 3),
    ],
)
def test_callgrind_bad_lines_name_their_line(text: bytes, message: str, line: int) -> None:
    with pytest.raises(ProfileParseError, match=re.escape(message)) as err:
        read_bytes(text, "c.out", "callgrind")
    assert str(err.value).startswith(f"c.out:{line}: ")


def test_callgrind_detected_by_content() -> None:
    assert detect(CALLGRIND.read_bytes()[:65536]).name == "callgrind"
    assert detect(_VALGRIND).name == "callgrind"


def test_callgrind_numbers_decimal_hex_relative_and_minimal_header() -> None:
    # No version/creator lines: 'events:' first is enough. Leading zeros are decimal.
    p = read_bytes(b"events: Ir\nfn=f\n010 5\n+0x2 7\n-1 3\n* 0x10\n", "min.out")
    assert p.meta.sources[0].format == "callgrind"
    assert p.function_stats[FunctionKey("f", "")].self == 5 + 7 + 3 + 16


def test_callgrind_inclusive_time_against_yappi() -> None:
    # yappi records no edge for calls made through C functions (exec(), sum() resuming a
    # generator): inclusive is self + calls made or the calls received, whichever is more.
    # Equal for the workload's functions. Elsewhere it can differ: roots whose caller yappi
    # did not record (module bodies run by exec()) are lower, mutually recursive importlib
    # functions higher (their nested calls are counted at each level).
    profile = read_raw("callgrind", CALLGRIND)
    ref = _reference()
    edges: dict[FunctionKey, int] = {}
    for a, b in profile.call_edges:
        edges[a] = edges.get(a, 0) + 1
        edges[b] = edges.get(b, 0) + 1
    checked = 0
    for key, st in profile.function_stats.items():
        func = _func_of(key, st.first_line)
        tolerance = TICK * (edges.get(key, 0) + 1)
        if key.file == "workload.py" and key.name != "<module>":
            assert st.inclusive == pytest.approx(ref[func][3], abs=tolerance), func
            checked += 1
    assert checked >= 10

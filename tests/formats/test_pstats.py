"""pstats reader: every number equals what the standard library's pstats module reports."""

from __future__ import annotations

import cProfile
import json
import marshal
import profile as pyprofile
import pstats
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.analysis.callgraph import build_callgraph
from hotpath.cli import main
from hotpath.errors import ProfileParseError
from hotpath.formats import read_profile
from hotpath.formats.identity import bare_name
from hotpath.formats.pstats import check_marshal_sizes, function_key, sniff
from hotpath.model import FunctionKey, Profile
from tests.formats.conftest import UNIT

FIXTURES = [UNIT / "cprofile.pstats", UNIT / "profile.pstats"]


def _fib(n: int) -> int:
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def _work() -> int:
    return sum(_fib(12) for _ in range(5)) + len(sorted(range(5000), key=str))


@pytest.fixture(scope="module")
def live_dumps(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Fresh dumps recorded here by cProfile and by the pure-Python profile module."""
    out = tmp_path_factory.mktemp("pstats")
    c = cProfile.Profile()
    c.runcall(_work)
    c.dump_stats(out / "live.cprofile")
    p = pyprofile.Profile()
    p.runcall(_work)
    p.dump_stats(out / "live.profile")
    return [out / "live.cprofile", out / "live.profile"]


Code = tuple[str, int, str]
"""(file, def line, name): a function's identity in pstats."""


def _expected(path: Path) -> dict[Code, tuple[float, float, int, int]]:
    """pstats' own numbers per function, as the standard library reports them."""
    out: dict[Code, tuple[float, float, int, int]] = {}
    for func, (cc, nc, tt, ct, _callers) in pstats.Stats(str(path)).stats.items():  # type: ignore[attr-defined]
        key = function_key(func)
        out[(key.file, func[1], key.name)] = (tt, ct, nc, cc)
    return out


def _by_code(prof: Profile) -> dict[Code, tuple[float, float, int, int]]:
    out = {}
    for k, s in prof.function_stats.items():
        code = (k.file, s.first_line or 0, bare_name(k.name, s.first_line))
        assert code not in out, f"two functions read as one: {code}"
        out[code] = (s.self, s.inclusive, s.calls, s.primitive_calls)
    return out


def _keys(prof: Profile) -> dict[Code, FunctionKey]:
    """(file, def line, name as pstats shows it) -> hotpath's key of that function."""
    return {
        (k.file, s.first_line or 0, bare_name(k.name, s.first_line)): k
        for k, s in prof.function_stats.items()
    }


def _code(func: tuple[str, int, str]) -> Code:
    key = function_key(func)
    return (key.file, func[1], key.name)


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_read_pstats_equals_stdlib_pstats(live_dumps: list[Path], index: int) -> None:
    path = (FIXTURES + live_dumps)[index]
    prof = read_profile(path)
    want = _expected(path)
    got = _by_code(prof)
    assert len(prof.function_stats) == len(want)
    assert got.keys() == want.keys()
    for key, values in want.items():
        assert got[key] == pytest.approx(values, rel=1e-12), key
    assert prof.meta.unit == "seconds"
    assert prof.total == pytest.approx(pstats.Stats(str(path)).total_tt)  # type: ignore[attr-defined]


def test_read_pstats_builtin_names_as_pstats_prints_them() -> None:
    path = UNIT / "cprofile.pstats"
    prof = read_profile(path)
    builtins = [f for f in pstats.Stats(str(path)).stats if f[0] == "~"]  # type: ignore[attr-defined]
    assert builtins
    for func in builtins:
        assert FunctionKey(pstats.func_std_string(func), "~") in prof.function_stats
    assert FunctionKey("{built-in method builtins.sorted}", "~") in prof.function_stats


def test_read_pstats_edges_equal_pstats_callers(live_dumps: list[Path]) -> None:
    path = live_dumps[0]
    prof = read_profile(path)
    keys = _keys(prof)
    n = 0
    for callee, (*_, callers) in pstats.Stats(str(path)).stats.items():  # type: ignore[attr-defined]
        for caller, (nc, _cc, tt, ct) in callers.items():
            edge = prof.call_edges[(keys[_code(caller)], keys[_code(callee)])]
            assert (edge.calls, edge.self, edge.inclusive) == pytest.approx((nc, tt, ct))
            n += 1
    assert n > 5
    fib = FunctionKey("_fib", __file__)
    assert prof.call_edges[(fib, fib)].calls > 0  # recursion is an edge to itself


def test_read_pstats_profile_module_edges_apportioned_by_calls(live_dumps: list[Path]) -> None:
    path = live_dumps[1]
    prof = read_profile(path)
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    keys = _keys(prof)
    for callee, (_cc, nc, tt, _ct, callers) in stats.items():
        for caller, count in callers.items():
            edge = prof.call_edges[(keys[_code(caller)], keys[_code(callee)])]
            assert edge.calls == count
            assert edge.self == pytest.approx(tt * count / nc)
    assert "profile" in prof.meta.tools


def test_read_pstats_recursive_fib_inclusive_within_total() -> None:
    cg = build_callgraph(read_profile(UNIT / "cprofile.pstats"))
    fib = next(f for k, f in cg.functions.items() if k.name == "fib")
    assert fib.calls is not None and fib.calls > 1000
    assert 0 < fib.inclusive <= cg.total


def test_analyze_json_reports_pstats_numbers_exactly() -> None:
    path = UNIT / "cprofile.pstats"
    result = CliRunner().invoke(main, ["analyze", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    want = _expected(path)
    assert len(report["functions"]) == len(want)
    for row in report["functions"]:
        first = row["first_line"]
        tt, ct, nc, _cc = want[(row["file"], first or 0, bare_name(row["name"], first))]
        assert (row["self"], row["inclusive"], row["calls"]) == (tt, ct, nc)


def _write(tmp_path: Path, data: bytes, name: str = "bad.pstats") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (marshal.dumps({}), "no functions"),
        (marshal.dumps({("a.py", 1, "f"): (1, 1, 0.1)}), "expected (calls, calls"),
        (marshal.dumps({("a.py", "x", "f"): (1, 1, 0.1, 0.1, {})}), "is not (file, line, name)"),
        (marshal.dumps({("a.py", 1, "f"): (1, 1, -0.1, 0.1, {})}), "expected (calls, calls"),
        (
            marshal.dumps({("a.py", 1, "f"): (1, 1, 0.1, 0.1, {("b", 2, "g"): "x"})}),
            "bad caller record",
        ),
    ],
)
def test_read_pstats_bad_structure(tmp_path: Path, data: bytes, reason: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(ProfileParseError) as err:
        read_profile(path, fmt="pstats")
    assert reason in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.9])
def test_read_pstats_truncated(tmp_path: Path, cut: float) -> None:
    data = (UNIT / "cprofile.pstats").read_bytes()
    path = _write(tmp_path, data[: int(len(data) * cut)])
    with pytest.raises(ProfileParseError) as err:
        read_profile(path)  # still detected as pstats by its first bytes
    assert "truncated or corrupt" in str(err.value)


def test_read_pstats_garbage_and_non_dict(tmp_path: Path) -> None:
    with pytest.raises(ProfileParseError):
        read_profile(_write(tmp_path, bytes(range(256)) * 4), fmt="pstats")
    with pytest.raises(ProfileParseError) as err:
        read_profile(_write(tmp_path, marshal.dumps([1, 2, 3]), "list.pstats"), fmt="pstats")
    assert "marshal-ed dict" in str(err.value)


def test_sniff_pstats_tells_marshal_from_json() -> None:
    assert sniff((UNIT / "cprofile.pstats").read_bytes()[:64])
    assert sniff(marshal.dumps({("a", 1, "f"): (1, 1, 0.0, 0.0, {})}))
    assert not sniff(b'{"profiles": []}')
    assert not sniff(b"{\n")
    assert not sniff(b"{}")


@pytest.mark.parametrize(
    "data",
    [
        b"{(\xff\xff\xff\x7f",  # a key tuple claiming 2**31 items: 16 GiB if allocated
        b"{)\x03[\xff\xff\xff\x7f",
        b"{)\x03l\xff\xff\xff\x7f",
        b"{)\x03u\xff\xff\xff\x7f",
        b"{)\x03(\xff\xff\xff\xff",
    ],
)
def test_read_pstats_huge_declared_size_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ProfileParseError) as err:
        read_profile(_write(tmp_path, data))
    assert "claims" in str(err.value)  # refused by the size check, before marshal allocates


def _code_sample() -> object:
    return compile("def f(x):\n    return [x * 2 for _ in range(3)]\n", "<s>", "exec")


@pytest.mark.parametrize("version", range(5))
def test_check_marshal_sizes_walks_exactly_one_object(version: int) -> None:
    values = [
        _code_sample(),
        (1, 2.5, 3j, 10**40, -(10**40), None, True, False, ..., frozenset({1}), {2}),
        [b"x" * 300, "\u00e9" * 3, "a" * 300, {("a", 1, "f"): (1, 2, 0.5, 1.5, {})}],
        marshal.loads((UNIT / "cprofile.pstats").read_bytes()),
        marshal.loads((UNIT / "profile.pstats").read_bytes()),  # holds a code object
    ]
    for value in values:
        data = marshal.dumps(value, version)
        assert check_marshal_sizes(data + b"trailing") == len(data)


def test_a_pstats_file_reads_under_an_address_space_limit(tmp_path: Path) -> None:
    """Under ``ulimit -v`` (containers, CI runners) the reader once asked for its 2 GiB
    size limit in one buffer before reading a byte: a MemoryError traceback, exit 1, for
    every pstats file. It now reads in pieces, as far as the file goes."""
    import resource
    import subprocess
    import sys

    limit = 1500 * 1024**2  # room for the interpreter and numpy, not for 2 GiB at once

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    for fixture in FIXTURES:
        done = subprocess.run(
            [sys.executable, "-m", "hotpath", "analyze", str(fixture), "--format", "json"],
            capture_output=True, text=True, timeout=120, preexec_fn=cap,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-1500:]
        assert json.loads(done.stdout)["functions"]

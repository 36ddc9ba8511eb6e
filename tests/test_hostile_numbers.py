"""Hostile numbers and text in profile files: the one-line error naming the file, exit 2, or
a valid result where the input is valid (docs/reliability.md, section 1).

Each case is the smallest file that used to crash with a traceback and exit 1 (the gate's
"regression" code) or to be accepted as given although it is nonsense.
"""

from __future__ import annotations

import gzip
import json
import marshal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.formats.pprof_proto import profile_pb2

SPEEDSCOPE = "https://www.speedscope.app/file-format-schema.json"
COMMANDS: list[Callable[[Path, Path], list[str]]] = [
    lambda f, _t: ["analyze", str(f)],
    lambda f, _t: ["analyze", str(f), "-f", "json"],
    lambda f, _t: ["analyze", str(f), "-f", "html"],
    lambda f, _t: ["analyze", str(f), "-f", "markdown"],
    lambda f, t: ["convert", str(f), "-o", str(t / "out.folded")],
    lambda f, t: ["convert", str(f), "-o", str(t / "out.speedscope.json")],
    lambda f, t: ["convert", str(f), "-o", str(t / "out.pb.gz")],
    lambda f, t: ["convert", str(f), "-o", str(t / "out.hotpath")],
    lambda f, _t: ["diff", str(f), str(f)],
    lambda f, _t: ["diff", str(f), str(f), "-f", "json"],
    lambda f, _t: ["gate", str(f), str(f)],
    lambda f, _t: ["gate", str(f), str(f), "-f", "markdown"],
]


def _hotpath_doc(mutate: Callable[[dict[str, Any]], None]) -> bytes:
    doc: dict[str, Any] = {
        "format": "hotpath.profile/1",
        "meta": {"unit": "samples", "sample_count": 10, "interval_s": 0.01},
        "frames": [["a", "app.py", 1, None], ["b", "app.py", 5, None]],
        "labels": [[]],
        "samples": [[[0, 1], 0, 6], [[0], 0, 4]],
        "function_stats": [],
        "call_edges": [],
        "requests": {"GET /": {"count": 3, "wall_s": 0.1, "cpu_s": 0.05}},
    }
    mutate(doc)
    return json.dumps(doc).encode()


def _speedscope(profile: dict[str, Any]) -> bytes:
    doc = {"$schema": SPEEDSCOPE, "profiles": [profile], "shared": {"frames": [{"name": "a"}]}}
    return json.dumps(doc).encode()


def _pprof(value: int) -> bytes:
    msg = profile_pb2.Profile()
    msg.string_table.extend(["", "samples", "count", "f", "x.py"])
    msg.sample_type.add(type=1, unit=2)
    msg.function.add(id=1, name=3, filename=4)
    msg.location.add(id=1).line.add(function_id=1, line=1)
    msg.sample.add(location_id=[1], value=[value])
    return gzip.compress(msg.SerializeToString())


def _pyinstrument(**meta: object) -> bytes:
    doc = {
        "start_time": 0,
        "duration": 1.0,
        "sample_count": 2,
        "min_interval": 0.001,
        "frame_records": [[["MainThread\x00<thread>\x001", "f\x00x.py\x001"], 0.5]],
        **meta,
    }
    return json.dumps(doc).encode()


BIG = 10**400
REFUSED: dict[str, tuple[str, bytes, str]] = {
    # name: (file name, content, words the error must contain)
    "folded 1e308 twice": ("a.txt", b"a (x.py:1) 1e308\nb (x.py:2) 1e308\n", ":1: sample count"),
    "folded 400 digits": ("a.txt", b"a;b " + b"9" * 400 + b"\n", ":1: sample count"),
    "folded 300 nines": ("a.txt", b"a;b " + b"9" * 300 + b"\n", "larger than"),
    "folded sum beyond range": (
        "a.txt",
        b"".join(b"f%d %d\n" % (i, 2**52) for i in range(3)),
        "add up to",
    ),
    "speedscope weights 1e308": (
        "a.speedscope.json",
        _speedscope(
            {
                "type": "sampled",
                "name": "p",
                "unit": "none",
                "startValue": 0,
                "endValue": 2,
                "samples": [[0], [0]],
                "weights": [1e308, 1e308],
            }
        ),
        "weights",
    ),
    "speedscope evented at +-1e308": (
        "a.speedscope.json",
        _speedscope(
            {
                "type": "evented",
                "name": "p",
                "unit": "none",
                "startValue": 0,
                "endValue": 1e308,
                "events": [
                    {"type": "O", "frame": 0, "at": -1e308},
                    {"type": "C", "frame": 0, "at": 1e308},
                ],
            }
        ),
        "events[0].at",
    ),
    "hotpath sample_count 10**400": (
        "a.hotpath",
        _hotpath_doc(lambda d: d["meta"].__setitem__("sample_count", BIG)),
        "sample_count",
    ),
    "hotpath requests.count 10**400": (
        "a.hotpath",
        _hotpath_doc(lambda d: d["requests"]["GET /"].__setitem__("count", BIG)),
        "request count",
    ),
    "hotpath stack count 10**400": (
        "a.hotpath",
        _hotpath_doc(lambda d: d["samples"][0].__setitem__(2, BIG)),
        "samples[0] weight",
    ),
    "hotpath interval_s 1e308": (
        "a.hotpath",
        _hotpath_doc(lambda d: d["meta"].__setitem__("interval_s", 1e308)),
        "interval_s",
    ),
    "hotpath interval_s 1e-300": (
        "a.hotpath",
        _hotpath_doc(lambda d: d["meta"].__setitem__("interval_s", 1e-300)),
        "sampling interval",
    ),
    "pstats calls 10**400": (
        "a.pstats",
        marshal.dumps({("x.py", 1, "f"): (BIG, BIG, 0.1, 0.2, {})}),
        "entry ('x.py', 1, 'f')",
    ),
    "pstats time inf": (
        "a.pstats",
        marshal.dumps({("x.py", 1, "f"): (1, 1, float("inf"), 0.2, {})}),
        "entry ('x.py', 1, 'f')",
    ),
    "pprof negative value": ("a.pb.gz", _pprof(-2), "sample 0 value -2 is negative"),
    "pyinstrument sample_count -5": (
        "a.pyisession",
        _pyinstrument(sample_count=-5),
        "sample_count -5 is negative",
    ),
    "pyinstrument duration -5": (
        "a.pyisession",
        _pyinstrument(duration=-5),
        "duration -5 is negative",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_hostile_number_is_one_line_exit_2_in_every_command(tmp_path: Path, case: str) -> None:
    name, content, needle = REFUSED[case]
    path = tmp_path / name
    path.write_bytes(content)
    for command in COMMANDS:
        args = command(path, tmp_path)
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert result.stdout == "", args
        assert result.stderr.startswith(f"hotpath: error: {path}"), (args, result.stderr)
        assert needle in result.stderr and result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.hotpath", _hotpath_doc(lambda d: d["frames"][0].__setitem__(0, "\ud800x"))),
        ("a.hotpath", _hotpath_doc(lambda d: d["requests"].__setitem__("GET /\udcff", {}))),
        ("a.pstats", marshal.dumps({("x\udcff.py", 1, "f\ud800"): (1, 1, 0.1, 0.2, {})})),
    ],
)
def test_lone_surrogate_in_a_name_is_shown_escaped_everywhere(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for command in COMMANDS:
        args = command(path, tmp_path)
        if "pstats" in name and args[0] == "convert":
            continue  # call statistics have no stacks to convert (a usage error, tested elsewhere)
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    result = CliRunner().invoke(main, ["analyze", str(path), "-f", "json"])
    assert "\\ud800" in result.stdout or "\\udcff" in result.stdout
    json.loads(result.stdout)  # the escape is valid JSON


def test_valid_extremes_are_read(tmp_path: Path) -> None:
    """The largest accepted values are valid input, not errors."""
    path = tmp_path / "big.txt"
    path.write_bytes(b"a;b %d\na %d\n" % (2**52, 2**52))
    result = CliRunner().invoke(main, ["analyze", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["profile"]["total"] == 2**53


@pytest.mark.parametrize("value", ["1e400", "nan", "-1", "many"])
def test_max_line_mb_out_of_range_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a;b 1\n")
    monkeypatch.setenv("HOTPATH_MAX_LINE_MB", value)
    result = CliRunner().invoke(main, ["analyze", str(path)])
    assert result.exit_code == 2
    assert "HOTPATH_MAX_LINE_MB" in result.stderr and result.stderr.count("\n") == 1

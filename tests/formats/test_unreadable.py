"""Detection of every recorded file of another tool by content, and the files hotpath does not
read: each fails with what it is (one line, exit 2), never as a folded-stacks parse error."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.formats import detect, read_profile
from tests.formats.readers_helpers import READERS

FIXTURES = {
    "pyspy.svg": "flamegraph-svg",
    "flamegraph-pl.svg": "flamegraph-svg",
    "flamegraph-pl.inverted.svg": "flamegraph-svg",
    "pyspy.svg.raw.txt": "folded",
    "pyinstrument.pyisession": "pyinstrument",
    "pyinstrument.html": "pyinstrument-html",
    "pyinstrument.json": "pyinstrument-json",
    "pyspy.chrometrace.json": "chrometrace",
    "pyspy.chrometrace.json.raw.txt": "folded",
    "viztracer.json": "chrometrace",
    "yappi.callgrind": "callgrind",
    "yappi.pstat": "pstats",
    "austin.txt": "austin",
    "austin.mojo": "mojo",
    "austin.mojo.txt": "austin",
    "scalene.json": "scalene",
}


def test_every_recorded_file_is_in_the_table() -> None:
    recorded = {p.name for p in READERS.iterdir() if not p.name.endswith(".py")}
    assert recorded == set(FIXTURES)


@pytest.mark.parametrize(("name", "fmt"), sorted(FIXTURES.items()))
def test_recorded_file_detected_by_content_even_gzipped(
    tmp_path: Path, name: str, fmt: str
) -> None:
    data = (READERS / name).read_bytes()
    assert detect(data[:65536]).name == fmt
    hidden = tmp_path / "profile.bin"  # an extension that says nothing
    hidden.write_bytes(gzip.compress(data))
    assert read_profile(hidden).meta.sources[0].format == fmt


_PERF_SCRIPT = (
    b"python3 12345 [001] 81234.567890:     250000 cpu-clock:pppH: \n"
    b"\t    7f0c1e2d3a4b _PyEval_EvalFrameDefault+0x1234 (/usr/lib/libpython3.11.so.1.0)\n"
    b"\t    55d4c3b2a190 main+0x20 (/usr/bin/python3.11)\n\n"
)
_GPROF = (
    b"Flat profile:\n\nEach sample counts as 0.01 seconds.\n"
    b"  %   cumulative   self              self     total\n"
    b" time   seconds   seconds    calls  ms/call  ms/call  name\n"
    b" 60.00      0.03     0.03        1    30.00    50.00  work\n"
)
UNREADABLE = {
    "page.html": (b"<!DOCTYPE html><html><body><p>report</p></body></html>", "HTML page"),
    "logo.svg": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
        "not a flame graph",
    ),
    "perf.txt": (_PERF_SCRIPT, "perf script output"),
    "perf.data": (b"PERFILE2" + bytes(200), "perf.data"),
    "gmon.out": (b"gmon\x01\x00\x00\x00" + bytes(100), "gmon.out"),
    "gprof.txt": (_GPROF, "gprof report"),
    "prof.ystat": (pickle.dumps({"stats": [1, 2]}), "pickle"),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_file_says_what_it_is(tmp_path: Path, name: str) -> None:
    data, words = UNREADABLE[name]
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["analyze", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and words in result.stderr
    assert "this is" in result.stderr

"""pyinstrument session reader, checked against pyinstrument's own Session.load frame tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotpath.analysis.callgraph import build_callgraph
from hotpath.errors import ProfileParseError
from hotpath.formats import read_profile
from hotpath.formats.pyinstrument import parse_identifier
from hotpath.model import IDLE, STATE, THREAD, THREAD_ID, Frame, FunctionKey
from tests.formats.conftest import UNIT, count_stacks, totals_by_code

SESSION = UNIT / "pyinstrument.pyisession"


def _pyinstrument_truth(path: Path) -> tuple[dict[Any, float], dict[Any, float], float]:
    """Per-function self/inclusive from pyinstrument's own frame tree (no processors)."""
    from pyinstrument.session import Session

    session = Session.load(path)
    root = session.root_frame(trim_stem=False)
    stacks: list[tuple[list[tuple[str, str, int | None]], float]] = []

    def walk(frame: Any, path: list[tuple[str, str, int | None]]) -> None:
        if frame.identifier == "[self]":
            stacks.append((path, frame.time))
            return
        if frame.file_path == "<thread>":  # hotpath keeps the thread as a label
            here = path
        elif frame.is_synthetic_leaf:
            stacks.append(([*path, (frame.identifier, "", None)], frame.time))
            return
        else:  # a function is its code: (name, file, def line), whatever class `self` had
            here = [*path, (frame.function, frame.file_path, frame.line_no or None)]
        for child in frame.children:
            walk(child, here)

    walk(root, [])
    return count_stacks(stacks)


def test_read_pyinstrument_matches_session_frame_tree() -> None:
    profile = read_profile(SESSION)
    cg = build_callgraph(profile)
    want_self, want_incl, want_total = _pyinstrument_truth(SESSION)
    got_self, got_incl = totals_by_code(profile)
    assert got_self == pytest.approx({k: v for k, v in want_self.items() if v}, rel=1e-9)
    assert got_incl == pytest.approx(want_incl, rel=1e-9)
    assert cg.total == pytest.approx(want_total, rel=1e-9)
    # qualified names from the source: the method's class, and the comprehension inside it
    assert {"Sorter.run", "Sorter.run.<locals>.<listcomp>"} <= {k.name for k in cg.functions}


def test_read_pyinstrument_metadata_and_thread_label() -> None:
    from pyinstrument.session import Session

    session = Session.load(SESSION)
    profile = read_profile(SESSION)
    meta = profile.meta
    assert meta.unit == "seconds"
    assert meta.duration_s == session.duration
    assert meta.sample_count == session.sample_count
    assert float(meta.attrs["cpu_time"]) == session.cpu_time
    assert float(meta.attrs["start_time"]) == session.start_time
    assert profile.label_values(THREAD) == {"MainThread"}
    assert all(f.file != "<thread>" for f in profile.frames)
    # the sampled line and the def line are both kept
    fib_lines = {(f.first_line, f.line) for f in profile.frames if f.name == "fib"}
    assert fib_lines and all(first == 15 and line in (16,) for first, line in fib_lines)


def test_read_pyinstrument_recursive_fib_inclusive_within_total() -> None:
    cg = build_callgraph(read_profile(SESSION))
    fib = next(f for k, f in cg.functions.items() if k.name == "fib")
    assert 0 < fib.inclusive <= cg.total


def test_parse_identifier_forms() -> None:
    assert parse_identifier("run\x00/a/b.py\x0027\x01cSorter\x01l29") == Frame(
        "Sorter.run", "/a/b.py", 29, 27
    )
    assert parse_identifier("sum\x00<built-in>\x000") == Frame("sum", "<built-in>", None, None)
    assert parse_identifier("MainThread\x00<thread>\x00140") == ("MainThread", "140")
    assert parse_identifier("[await]") == Frame("[await]")
    assert parse_identifier("f\x00x.py\x003\x01h1\x01l4") == Frame("f", "x.py", 4, 3)
    with pytest.raises(ValueError):
        parse_identifier("just a name")
    with pytest.raises(ValueError):
        parse_identifier("f\x00x.py\x00abc")


def _session(tmp_path: Path, records: Any, **extra: Any) -> Path:
    doc = {
        "start_time": 1.0,
        "duration": 0.5,
        "sample_count": 3,
        "start_call_stack": [],
        "target_description": "t",
        "cpu_time": 0.1,
        "frame_records": records,
        **extra,
    }
    path = tmp_path / "s.pyisession"
    path.write_text(json.dumps(doc))
    return path


def test_read_pyinstrument_await_is_idle(tmp_path: Path) -> None:
    t = "W\x00<thread>\x007"
    f = "handler\x00app.py\x003\x01l5"
    path = _session(tmp_path, [[[t, f], 0.25], [[t, f, "[await]"], 0.5]])
    profile = read_profile(path)
    idle = profile.filter(lambda labels: (STATE, IDLE) in labels)
    assert idle.total == 0.5
    assert profile.total == 0.75
    assert profile.label_values(THREAD_ID) == {"7"}
    cg = build_callgraph(profile)
    assert cg.functions[FunctionKey("handler", "app.py")].inclusive == 0.75


@pytest.mark.parametrize(
    ("records", "reason"),
    [
        ([["notalist", 1.0]], "expected [[identifier, ...], seconds]"),
        ([[["f\x00x.py\x001"], -1]], "not a non-negative number"),
        ([[["f\x00x.py\x001"], "1"]], "not a non-negative number"),
        ([[["f only"], 1.0]], "frame_records[0]"),
        ([[[5], 1.0]], "identifiers must be strings"),
        ([], "no samples"),
        ("records", "must be a list"),
    ],
)
def test_read_pyinstrument_bad_records(tmp_path: Path, records: Any, reason: str) -> None:
    path = _session(tmp_path, records)
    with pytest.raises(ProfileParseError) as err:
        read_profile(path)
    assert reason in str(err.value)
    assert str(path) in str(err.value)


def test_read_pyinstrument_other_json_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.pyisession"
    path.write_text('{"start_time": 1}')
    with pytest.raises(ProfileParseError) as err:
        read_profile(path, fmt="pyinstrument")
    assert "not a pyinstrument session" in str(err.value)


def test_read_pyinstrument_truncated(tmp_path: Path) -> None:
    data = SESSION.read_bytes()
    path = tmp_path / "cut.pyisession"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ProfileParseError) as err:
        read_profile(path)
    assert "truncated" in str(err.value)
    assert err.value.line == 1


def test_read_pyinstrument_builtin_frames_are_native(tmp_path: Path) -> None:
    from hotpath.analysis.classify import make_classifier

    t = "MainThread\x00<thread>\x001"
    path = _session(tmp_path, [[[t, "f\x00app.py\x001\x01l2", "sorted\x00<built-in>\x000"], 0.5]])
    frame = next(f for f in read_profile(path).frames if f.name == "sorted")
    assert frame == Frame("sorted", "<built-in>", None, None)
    assert make_classifier(str(tmp_path)).kind(frame.name, frame.file) == "native"

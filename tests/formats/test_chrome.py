"""Chrome trace JSON: py-spy's -f chrometrace (B/E events) against py-spy's raw output of the
same seconds and a plain replay of the events; viztracer's X events against a plain nesting
count of its events."""

from __future__ import annotations

import json

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import detect, read_bytes, read_profile
from tests.formats.readers_helpers import (
    READERS,
    WORKLOAD,
    per_function,
    read_raw,
    sampling_tolerance,
    shares,
)

PYSPY = READERS / "pyspy.chrometrace.json"
PYSPY_RAW = READERS / "pyspy.chrometrace.json.raw.txt"
VIZ = READERS / "viztracer.json"


def _replay_begin_end(events: list[dict[str, object]]) -> dict[str, float]:
    """Inclusive seconds per function name: each span between two events of a thread goes
    to every distinct function open during it."""
    open_: dict[object, list[str]] = {}
    last: dict[object, float] = {}
    incl: dict[str, float] = {}
    for ev in events:
        tid, ts = ev["tid"], float(ev["ts"]) / 1e6  # type: ignore[arg-type]
        stack = open_.setdefault(tid, [])
        if tid in last:
            for name in set(stack):
                incl[name] = incl.get(name, 0.0) + ts - last[tid]
        last[tid] = ts
        if ev["ph"] == "B":
            stack.append(str(ev["name"]))
        else:
            stack.pop()
    return incl


def test_pyspy_chrometrace_equals_a_plain_replay() -> None:
    events = json.loads(PYSPY.read_text())
    truth = _replay_begin_end(events)
    _self, incl = per_function(read_raw("chrometrace", PYSPY))
    got: dict[str, float] = {}
    for (name, _file), w in incl.items():
        got[name] = got.get(name, 0.0) + w
    assert got == pytest.approx(truth, abs=1e-9)


def test_pyspy_chrometrace_agrees_with_raw_of_the_same_seconds() -> None:
    # Two py-spy processes at 100 Hz on one workload (fixtures/readers/record.py). The trace
    # weighs stacks by time between stack changes, raw counts samples. Committed recording:
    # 2.13 s of spans vs 199 samples; the largest share difference 2.2 points, within the
    # binomial tolerance. (Three other recordings of 1 s: 4.6, 4.8 and 12.1 points.)
    trace = read_raw("chrometrace", PYSPY)
    raw = read_profile(PYSPY_RAW)
    assert trace.meta.unit == "seconds"
    assert trace.total == pytest.approx(raw.total * 0.01, rel=0.15)
    s_trace = shares(per_function(trace)[1], trace.total)
    s_raw = shares(per_function(raw)[1], raw.total)
    big = {n for n, s in s_raw.items() if s >= 0.05}
    assert {"loop", "fib"} <= big
    for name in big:
        tolerance = sampling_tolerance(s_raw[name], raw.total)
        assert s_trace.get(name, 0.0) == pytest.approx(s_raw[name], abs=tolerance), name
    assert trace.meta.tools == {"py-spy": "unknown"}


def _viztracer_truth() -> tuple[dict[tuple[str, int | None], float], float]:
    """Inclusive seconds per (name, def line), each function once per nesting, and total:
    the events' intervals, nested by plain containment (O(n²) on a small file)."""
    doc = json.loads(VIZ.read_text())
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    spans = [(e["ts"], e["ts"] + e["dur"], e["name"]) for e in xs]
    incl: dict[tuple[str, int | None], float] = {}
    total = 0.0
    for start, end, name in spans:
        outer = [n for s, e, n in spans if s <= start and end <= e and (s, e) != (start, end)]
        if not outer:
            total += (end - start) / 1e6
        if name in outer:
            continue  # recursion: the outermost call already counts this time
        base, _, rest = name.partition(" (")
        line = int(rest.rsplit(":", 1)[1][:-1]) if rest else None
        key = (base, line)
        incl[key] = incl.get(key, 0.0) + (end - start) / 1e6
    return incl, total


def test_viztracer_complete_events_nest_like_a_containment_count() -> None:
    truth, total = _viztracer_truth()
    trace = read_raw("chrometrace", VIZ)
    assert trace.total == pytest.approx(total, rel=1e-9)
    incl: dict[tuple[str, int | None], float] = {}
    for frames, _labels, w in trace.iter_samples():
        for key in {(f.name, f.first_line) for f in frames}:
            incl[key] = incl.get(key, 0.0) + w
    got = incl
    assert got == pytest.approx(truth, abs=1e-9)
    assert {"fib", "loop", "<lambda>"} <= {n for n, _l in got}
    assert {line for n, line in got if n == "<lambda>"} == {51, 52}


def test_viztracer_frames_have_def_lines_and_thread_labels() -> None:
    trace = read_raw("chrometrace", VIZ)
    fib = next(f for f in trace.frames if f.name == "fib")
    assert (fib.file, fib.first_line, fib.line) == (WORKLOAD, 15, None)
    assert trace.label_values("thread") == {"MainThread"}
    assert trace.meta.tools == {"viztracer": "unknown"}


def test_chrometrace_detected_in_both_layouts() -> None:
    assert detect(PYSPY.read_bytes()[:65536]).name == "chrometrace"
    assert detect(VIZ.read_bytes()[:65536]).name == "chrometrace"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b'[{"ph": "X", "ts": 1, "dur": -5, "name": "f", "pid": 1, "tid": 1}]', "out of range"),
        (b'[{"ph": "B", "ts": "x", "name": "f", "pid": 1, "tid": 1}]', "is not a number"),
        (b'[{"ph": "B", "ts": 1, "name": 7, "pid": 1, "tid": 1}]', "'name' must be a string"),
        (b'{"traceEvents": [{"ph": "C", "ts": 1, "name": "c"}]}', "no stack time"),
        (b'[{"ph": "B", "ts": 1, "name": "f", "pid": 1, "tid": 1}', "truncated"),
    ],
)
def test_chrometrace_bad_events_are_one_line_errors(doc: bytes, message: str) -> None:
    with pytest.raises(ProfileParseError, match=message) as err:
        read_bytes(doc, "t.json", "chrometrace")
    assert str(err.value).startswith("t.json") and "\n" not in str(err.value)

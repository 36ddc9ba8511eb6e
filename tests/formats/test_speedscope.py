"""speedscope reader and writer, checked against speedscope's own samples, py-spy and
pyinstrument output, plain counts of the files, and speedscope's published schema."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotpath.analysis.callgraph import build_callgraph
from hotpath.errors import ProfileParseError, UsageError
from hotpath.formats import read_profile, speedscope
from hotpath.formats.identity import name_functions
from hotpath.model import THREAD, Frame, FunctionKey, Metadata, Profile
from tests.formats.conftest import SPEEDSCOPE_REF, UNIT, count_stacks, totals_by_code

PYSPY = UNIT / "pyspy.speedscope.json"
PYINST = UNIT / "pyinstrument.speedscope.json"


def _doc_file(tmp_path: Path, doc: Any, name: str = "p.speedscope.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _doc(profiles: list[dict[str, Any]], frames: list[dict[str, Any]] | None = None) -> Any:
    return {
        "$schema": speedscope.SCHEMA_URL,
        "shared": {"frames": frames if frames is not None else [{"name": "a"}, {"name": "b"}]},
        "profiles": profiles,
    }


def _sampled(unit: str, samples: list[list[int]], weights: list[float], name: str = "p") -> Any:
    return {
        "type": "sampled",
        "name": name,
        "unit": unit,
        "startValue": 0,
        "endValue": sum(w for w in weights if isinstance(w, (int, float))),
        "samples": samples,
        "weights": weights,
    }


def _plain_count(path: Path) -> tuple[dict[Any, float], dict[Any, float], float]:
    """Per-function self/inclusive of a sampled speedscope file, counted straight from JSON."""
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    stacks = []
    for p in doc["profiles"]:
        for sample, w in zip(p["samples"], p["weights"], strict=True):
            stacks.append(([(frames[i]["name"], frames[i].get("file", "")) for i in sample], w))
    return count_stacks(stacks)


def _totals(profile: Profile) -> tuple[dict[Any, float], dict[Any, float]]:
    cg = build_callgraph(profile)
    self_w = {(k.name, k.file): f.self for k, f in cg.functions.items() if f.self}
    incl_w = {(k.name, k.file): f.inclusive for k, f in cg.functions.items()}
    return self_w, incl_w


def _sample_map(profile: Profile) -> dict[Any, float]:
    out: dict[Any, float] = {}
    for frames, labels, w in profile.iter_samples():
        key = (frames, labels)
        out[key] = out.get(key, 0.0) + w
    return out


def test_read_speedscope_evented_sample_totals_match_readme() -> None:
    profile = read_profile(SPEEDSCOPE_REF / "simple-evented.speedscope.json")
    cg = build_callgraph(profile)
    fn = {k.name: f for k, f in cg.functions.items()}
    assert profile.meta.unit == "samples"
    assert (fn["a"].inclusive, fn["b"].inclusive, fn["c"].self, fn["d"].inclusive) == (14, 14, 5, 4)
    assert cg.total == 14


def test_read_speedscope_two_sampled_profiles_become_thread_labels() -> None:
    profile = read_profile(SPEEDSCOPE_REF / "two-sampled.speedscope.json")
    assert profile.label_values(THREAD) == {"one", "two"}
    assert profile.meta.unit == "seconds"
    for name in ("one", "two"):
        part = profile.filter(lambda labels, n=name: (THREAD, n) in labels)
        assert part.total == 14
    assert profile.meta.sample_count is None  # weights differ: entries are not samples


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("invalid-incomplete-trace.json", "opened but never closed"),
        ("invalid-out-of-order-events.json", "out of order"),
    ],
)
def test_read_speedscope_rejects_speedscopes_invalid_samples(name: str, reason: str) -> None:
    path = SPEEDSCOPE_REF / name
    with pytest.raises(ProfileParseError) as err:
        read_profile(path)
    assert reason in str(err.value)
    assert err.value.path == str(path)


def test_read_speedscope_pyspy_equals_plain_count_of_file() -> None:
    profile = read_profile(PYSPY)
    self_w, incl_w = _totals(profile)
    want_self, want_incl, want_total = _plain_count(PYSPY)
    assert self_w == pytest.approx(want_self)
    assert incl_w == pytest.approx(want_incl)
    assert profile.total == pytest.approx(want_total)
    doc = json.loads(PYSPY.read_text())
    assert profile.label_values(THREAD) == {p["name"] for p in doc["profiles"]}
    assert len(doc["profiles"]) >= 2  # one per thread: several profiles in one file
    assert profile.meta.sample_count == sum(len(p["samples"]) for p in doc["profiles"])
    assert profile.meta.interval_s == pytest.approx(0.01)  # recorded at 100 Hz
    assert profile.meta.tools["py-spy"]
    assert profile.meta.duration_s is None  # py-spy's endValue is a sum of weights


def _raw_shares(path: Path) -> tuple[dict[str, float], dict[str, float]]:
    """py-spy's own totals from the raw output of the same seconds, by function name."""
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        names = [f.rsplit(" (", 1)[0] for f in stack.split(";") if not f.startswith("thread (")]
        stacks.append(([(n, "") for n in names], float(count)))
    self_w, incl_w, total = count_stacks(stacks)
    return (
        {k[0]: v / total for k, v in self_w.items()},
        {k[0]: v / total for k, v in incl_w.items()},
    )


def test_read_speedscope_pyspy_same_top_functions_as_pyspy_raw() -> None:
    profile = read_profile(PYSPY)
    cg = build_callgraph(profile)
    raw_self, raw_incl = _raw_shares(UNIT / "pyspy.raw.txt")
    ours_self = {f.key.name: f.self / cg.total for f in cg.ranked("self")}
    ours_incl = {f.key.name: f.inclusive / cg.total for f in cg.ranked("inclusive")}
    top_self = [n for n, _ in sorted(raw_self.items(), key=lambda kv: -kv[1])[:2]]
    assert [f.key.name for f in cg.ranked("self")[:2]] == top_self == ["loop", "fib"]
    for name in ("<module>", "main", "loop", "fib"):
        # Two py-spy processes sampled the same seconds: shares agree within sampling noise.
        assert ours_incl[name] == pytest.approx(raw_incl[name], abs=0.1)
    for name in top_self:
        assert ours_self[name] == pytest.approx(raw_self[name], abs=0.1)


def _pyinstrument_speedscope_truth(session_path: Path) -> tuple[dict[Any, float], ...]:
    """What pyinstrument's speedscope renderer puts in the file, from its own frame tree."""
    from pyinstrument.renderers.speedscope import SpeedscopeRenderer
    from pyinstrument.session import Session

    session = Session.load(session_path)
    root = SpeedscopeRenderer(show_all=True).preprocess(session.root_frame())
    stacks: list[tuple[list[tuple[str, str, int | None]], float]] = []

    def walk(frame: Any, path: list[tuple[str, str, int | None]]) -> None:
        here = [*path, (frame.function, frame.file_path or "", frame.line_no or None)]
        own = frame.absorbed_time + (frame.time if frame.is_synthetic_leaf else 0.0)
        if own:
            stacks.append((here, own))
        for child in frame.children:
            walk(child, here)

    walk(root, [])
    return count_stacks(stacks)


def test_read_speedscope_pyinstrument_matches_pyinstrument_frame_tree() -> None:
    profile = read_profile(PYINST)
    self_w, incl_w = totals_by_code(profile)
    want_self, want_incl, want_total = _pyinstrument_speedscope_truth(
        UNIT / "pyinstrument.pyisession"
    )
    assert self_w == pytest.approx(want_self, rel=1e-9, abs=1e-9)
    assert incl_w == pytest.approx(want_incl, rel=1e-9, abs=1e-9)
    assert profile.total == pytest.approx(want_total, rel=1e-9)
    # pyinstrument writes the def line as `line`: it becomes first_line, not the sampled line.
    fib = next(f for f in profile.frames if f.name == "fib")
    assert fib.first_line == 15 and fib.line is None


def test_read_speedscope_recursive_fib_inclusive_within_total() -> None:
    for path in (PYSPY, PYINST):
        cg = build_callgraph(read_profile(path))
        fib = next(f for k, f in cg.functions.items() if k.name == "fib")
        assert 0 < fib.inclusive <= cg.total


@pytest.mark.parametrize(
    ("unit", "factor", "hotpath_unit"),
    [
        ("nanoseconds", 1e-9, "seconds"),
        ("microseconds", 1e-6, "seconds"),
        ("milliseconds", 1e-3, "seconds"),
        ("seconds", 1.0, "seconds"),
        ("none", 1.0, "samples"),
        ("bytes", 1.0, "bytes"),
    ],
)
def test_read_speedscope_every_unit(
    tmp_path: Path, unit: str, factor: float, hotpath_unit: str
) -> None:
    path = _doc_file(tmp_path, _doc([_sampled(unit, [[0, 1], [0]], [1500, 500])]))
    profile = read_profile(path)
    assert profile.meta.unit == hotpath_unit
    assert profile.total == pytest.approx(2000 * factor)
    b = build_callgraph(profile).functions[FunctionKey("b", "")]
    assert b.self == pytest.approx(1500 * factor)


def test_read_speedscope_evented_units_normalised(tmp_path: Path) -> None:
    events = [
        {"type": "O", "frame": 0, "at": 0},
        {"type": "O", "frame": 1, "at": 1000},
        {"type": "C", "frame": 1, "at": 3000},
        {"type": "C", "frame": 0, "at": 4000},
    ]
    prof = {"type": "evented", "name": "t", "unit": "microseconds"}
    prof |= {"startValue": 0, "endValue": 4000, "events": events}
    profile = read_profile(_doc_file(tmp_path, _doc([prof])))
    cg = build_callgraph(profile)
    assert cg.functions[FunctionKey("a", "")].inclusive == pytest.approx(0.004)
    assert cg.functions[FunctionKey("b", "")].self == pytest.approx(0.002)
    assert profile.meta.duration_s == pytest.approx(0.004)


@pytest.mark.parametrize(
    ("profiles", "reason"),
    [
        ([_sampled("none", [[0, 7]], [1])], "frame index 7 out of range"),
        ([_sampled("none", [[0, -1]], [1])], "out of range"),
        ([_sampled("none", [[0, 1], [0]], [1])], "2 samples but 1 weights"),
        ([_sampled("none", [[0]], [-1])], "not a non-negative number"),
        ([_sampled("none", [[0], [1]], [1, "2"])], "weights[1]: '2' is not a non-negative"),
        ([_sampled("none", [[0], 5], [1, 1])], "samples[1]: a sample must be a list"),
        ([_sampled("none", [[0], [1.5]], [1, 1])], "frame index 1.5 out of range"),
        ([_sampled("parsecs", [[0]], [1])], "unknown unit"),
        ([_sampled("none", [[0]], [1]), _sampled("bytes", [[0]], [1])], "mix units"),
        ([_sampled("none", [], [])], "no samples"),
        ([], "no samples"),
        (
            [
                {
                    "type": "evented",
                    "name": "x",
                    "unit": "none",
                    "startValue": 0,
                    "endValue": 1,
                    "events": [{"type": "O", "frame": 9, "at": 0}],
                }
            ],
            "frame index 9 out of range",
        ),
        (
            [
                {
                    "type": "evented",
                    "name": "x",
                    "unit": "none",
                    "startValue": 0,
                    "endValue": 2,
                    "events": [
                        {"type": "O", "frame": 0, "at": 2},
                        {"type": "C", "frame": 0, "at": 1},
                    ],
                }
            ],
            "earlier than",
        ),
        ([{"type": "flamegraph", "name": "x", "unit": "none"}], "unknown profile type"),
    ],
)
def test_read_speedscope_invalid_structure_names_place(
    tmp_path: Path, profiles: list[Any], reason: str
) -> None:
    path = _doc_file(tmp_path, _doc(profiles))
    with pytest.raises(ProfileParseError) as err:
        read_profile(path)
    assert reason in str(err.value)
    assert str(path) in str(err.value)


def test_read_speedscope_truncated_json_names_line(tmp_path: Path) -> None:
    text = json.dumps(json.loads(PYSPY.read_text()), indent=1)
    path = tmp_path / "cut.speedscope.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ProfileParseError) as err:
        read_profile(path)
    assert err.value.line is not None and err.value.line > 1
    assert "truncated" in str(err.value)


def test_read_speedscope_other_json_rejected(tmp_path: Path) -> None:
    path = _doc_file(tmp_path, {"traceEvents": []}, "trace.json")
    with pytest.raises(ProfileParseError):
        read_profile(path)  # detection: not a known format
    with pytest.raises(ProfileParseError) as err:
        read_profile(path, fmt="speedscope")
    assert "not a speedscope file" in str(err.value)


def _write_read(profile: Profile, tmp_path: Path) -> tuple[Any, Profile]:
    buf = io.BytesIO()
    speedscope.write(profile, buf)
    path = tmp_path / "out.speedscope.json"
    path.write_bytes(buf.getvalue())
    return json.loads(buf.getvalue()), read_profile(path)


@pytest.fixture(scope="module")
def schema() -> Any:
    return json.loads((SPEEDSCOPE_REF / "file-format-schema.json").read_text())


@pytest.mark.parametrize(
    "source", [PYSPY, PYINST, UNIT / "pyinstrument.pyisession", UNIT / "pyspy.raw.txt"]
)
def test_write_speedscope_round_trip_keeps_every_weight(
    tmp_path: Path, schema: Any, source: Path
) -> None:
    original = read_profile(source)
    doc, again = _write_read(original, tmp_path)
    jsonschema.Draft6Validator(schema).validate(doc)
    assert _sample_map(again) == _sample_map(original)
    meta, back = original.meta, again.meta
    assert (back.unit, back.sample_count, back.interval_s, back.duration_s) == (
        meta.unit,
        meta.sample_count,
        meta.interval_s,
        meta.duration_s,
    )
    assert meta.tools.items() <= back.tools.items()


def test_write_speedscope_one_profile_per_thread(tmp_path: Path) -> None:
    doc, _ = _write_read(read_profile(PYSPY), tmp_path)
    original = json.loads(PYSPY.read_text())
    assert sorted(p["name"] for p in doc["profiles"]) == sorted(
        p["name"] for p in original["profiles"]
    )


def test_write_speedscope_rejects_call_statistics() -> None:
    with pytest.raises(UsageError):
        speedscope.write(read_profile(UNIT / "cprofile.pstats"), io.BytesIO())


_names = st.sampled_from(["a", "b", "<script>alert(1)</script>", "f;g", "h (x.py:1)", "ü"])
_frames = st.builds(
    Frame,
    _names,
    st.sampled_from(["", "app.py", "/abs/path with space.py"]),
    st.one_of(st.none(), st.integers(1, 500)),
    st.one_of(st.none(), st.integers(1, 500)),
)
_labels = st.one_of(
    st.just({}),
    st.dictionaries(st.sampled_from(["thread", "endpoint", "state"]), _names, max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(
    unit=st.sampled_from(["samples", "seconds", "bytes"]),
    stacks=st.lists(
        st.tuples(
            st.lists(_frames, max_size=6),
            st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
            _labels,
        ),
        min_size=1,
        max_size=20,
    ),
)
def test_write_speedscope_round_trip_generated(
    tmp_path_factory: pytest.TempPathFactory, unit: Any, stacks: Any
) -> None:
    profile = Profile(Metadata(unit=unit))
    for frames, w, labels in stacks:
        profile.add_frames(frames, w, labels)
    if not profile.samples:
        return
    _, again = _write_read(profile, tmp_path_factory.mktemp("rt"))
    # Reading names functions (one name, one file, two def lines: `a:1`, `a:2`): the round
    # trip keeps every stack and weight of the named profile.
    assert _sample_map(again) == _sample_map(name_functions(profile))


def _events_of(timeline: list[tuple[list[int], int]]) -> list[dict[str, Any]]:
    """Open/close events for consecutive stacks, each lasting its duration (a plain model)."""
    events: list[dict[str, Any]] = []
    open_: list[int] = []
    at = 0
    for stack, duration in [*timeline, ([], 0)]:
        common = 0
        while common < min(len(open_), len(stack)) and open_[common] == stack[common]:
            common += 1
        for f in reversed(open_[common:]):
            events.append({"type": "C", "frame": f, "at": at})
        for f in stack[common:]:
            events.append({"type": "O", "frame": f, "at": at})
        open_ = list(stack)
        at += duration
    return events


@settings(max_examples=80, deadline=None)
@given(
    timeline=st.lists(
        st.tuples(st.lists(st.integers(0, 3), min_size=1, max_size=5), st.integers(0, 50)),
        min_size=1,
        max_size=15,
    )
)
def test_read_speedscope_evented_generated_timelines(
    tmp_path_factory: pytest.TempPathFactory, timeline: list[tuple[list[int], int]]
) -> None:
    frames = [{"name": n} for n in "abcd"]
    end = sum(d for _, d in timeline)
    prof = {"type": "evented", "name": "t", "unit": "milliseconds", "startValue": 0}
    prof |= {"endValue": end, "events": _events_of(timeline)}
    path = _doc_file(tmp_path_factory.mktemp("ev"), _doc([prof], frames))
    want: dict[tuple[str, ...], float] = {}
    for stack, duration in timeline:
        if duration:
            key = tuple("abcd"[i] for i in stack)
            want[key] = want.get(key, 0.0) + duration / 1000
    if not want:
        with pytest.raises(ProfileParseError):
            read_profile(path)
        return
    got: dict[tuple[str, ...], float] = {}
    for frs, _labels, w in read_profile(path).iter_samples():
        key = tuple(f.name for f in frs)
        got[key] = got.get(key, 0.0) + w
    assert got == pytest.approx(want)

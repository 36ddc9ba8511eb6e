from __future__ import annotations

import pickle

import pytest

from hotpath.analysis.plan import REWRITTEN_LINE
from hotpath.errors import MergeError
from hotpath.model import (
    CPU,
    IDLE,
    MEASURE,
    STATE,
    WALL,
    Frame,
    FunctionKey,
    FunctionStats,
    Metadata,
    Profile,
    RequestStats,
    cpu_view,
    merge,
    unchecked_frame,
    wall_view,
)


def _profile(
    stacks: list[tuple[list[str], float, dict[str, str] | None]], **meta: object
) -> Profile:
    p = Profile(Metadata(**meta))  # type: ignore[arg-type]
    for names, w, labels in stacks:
        p.add_frames([Frame(n, "app.py", 1) for n in names], w, labels)
    return p


def test_profile_interns_frames_and_labels_once() -> None:
    p = Profile()
    a = p.intern_frame(Frame("a", "x.py", 1))
    assert p.intern_frame(Frame("a", "x.py", 1)) == a
    assert p.intern_frame(Frame("a", "x.py", 2)) != a
    assert p.intern_labels({"thread": "t"}) == p.intern_labels((("thread", "t"),))
    assert p.intern_labels(None) == 0


def test_profile_add_accumulates_identical_stacks() -> None:
    p = _profile([(["a", "b"], 2, None), (["a", "b"], 3, None), (["a"], 1, {"thread": "x"})])
    assert p.total == 6
    assert len(p.samples) == 2


def test_merge_adds_weights_and_keeps_sources() -> None:
    a = _profile([(["a", "b"], 2, None)], sample_count=2)
    b = _profile([(["a", "b"], 3, None), (["c"], 1, None)], sample_count=4)
    m = a + b
    assert m.total == 6
    weights = {tuple(f.name for f in fr): w for fr, _l, w in m.iter_samples()}
    assert weights == {("a", "b"): 5, ("c",): 1}
    assert m.meta.sample_count == 6


def test_merge_converts_samples_to_seconds_when_interval_known() -> None:
    a = _profile([(["a"], 100, None)], unit="samples", interval_s=0.01)
    b = _profile([(["a"], 0.5, None)], unit="seconds")
    assert merge([a, b]).total == pytest.approx(1.5)
    assert merge([a, b]).meta.unit == "seconds"


def test_merge_refuses_samples_without_interval_and_seconds() -> None:
    a = _profile([(["a"], 100, None)], unit="samples")
    b = _profile([(["a"], 0.5, None)], unit="seconds")
    with pytest.raises(MergeError):
        merge([a, b])


def test_merge_refuses_call_stats_with_stacks() -> None:
    a = _profile([(["a"], 1, None)])
    b = Profile(Metadata(unit="seconds"))
    b.function_stats[FunctionKey("f", "x.py")] = FunctionStats(1.0, 2.0, 3, 3)
    with pytest.raises(MergeError):
        merge([a, b])


def test_merge_adds_call_stats_and_requests() -> None:
    def stats_profile(t: float) -> Profile:
        p = Profile(Metadata(unit="seconds"))
        p.function_stats[FunctionKey("f", "x.py")] = FunctionStats(t, 2 * t, 3, 2, 10)
        p.requests["GET /"] = RequestStats(count=2, wall_s=0.1, cpu_s=0.05, status={"2xx": 2})
        return p

    m = merge([stats_profile(1.0), stats_profile(2.0)])
    st = m.function_stats[FunctionKey("f", "x.py")]
    assert (st.self, st.inclusive, st.calls, st.primitive_calls) == (3.0, 6.0, 6, 4)
    assert m.requests["GET /"].count == 4
    assert m.requests["GET /"].status == {"2xx": 4}


def test_cpu_and_wall_views_follow_measure_labels() -> None:
    p = _profile(
        [
            (["a"], 0.3, {MEASURE: CPU}),
            (["a"], 0.5, {MEASURE: WALL}),
            (["b"], 0.2, {MEASURE: WALL, STATE: IDLE}),
        ]
    )
    assert cpu_view(p).total == pytest.approx(0.3)
    assert wall_view(p).total == pytest.approx(0.7)


def test_cpu_view_drops_idle_when_no_measure_labels() -> None:
    p = _profile([(["a"], 3, None), (["b"], 2, {STATE: IDLE})])
    assert cpu_view(p).total == 3
    assert wall_view(p).total == 5


@pytest.mark.parametrize(
    "bad", [-(2**31) - 1, -1, 2**31, 111111111111111120396815433971561152905216]
)
def test_a_line_outside_a_code_objects_range_is_unknown(bad: int) -> None:
    """Readers take line numbers from files as they are; one outside 0 to a C int's maximum
    (a fuzzed speedscope file's ``"line": 1.1e41``; a format's -1 for "unknown") becomes
    None, so every output with 64-bit integers (pprof, orjson) can write the frame, and no
    frame from a file equals the plan's marker for rewritten leaves."""
    fr = Frame("f", "a.py", bad, bad)
    assert fr.line is None and fr.first_line is None
    ok = Frame("f", "a.py", 2**31 - 1, 0)
    assert (ok.line, ok.first_line) == (2**31 - 1, 0)


def test_the_plans_marker_never_equals_a_frame_from_a_file_and_survives_pickling() -> None:
    marked = unchecked_frame("f", "a.py", REWRITTEN_LINE, 3)
    assert marked != Frame("f", "a.py", REWRITTEN_LINE, 3) == Frame("f", "a.py", None, 3)
    p = Profile()
    p.add((p.intern_frame(Frame("f", "a.py", None, 3)), p.intern_frame(marked)), 1.0)
    back = pickle.loads(pickle.dumps(p))
    assert back.frames == p.frames and back.frames[1].line == REWRITTEN_LINE
    assert back.intern_frame(marked) == 1 and back.intern_frame(Frame("f", "a.py", -1, 3)) == 0


def test_derived_profiles_intern_frames_into_their_own_tables() -> None:
    # A filtered view and a merge share no frame-id dict with their source (they rebuild
    # one from their frames when a frame is first interned into them).
    a, b, c = Frame("a", "m.py", 1), Frame("b", "m.py", 2), Frame("c", "m.py", 3)
    p = Profile()
    p.add_frames([a, b], 2.0, {"endpoint": "GET /x"})
    p.add_frames([a], 1.0)
    view = p.filter(lambda labels: bool(labels))
    assert view.intern_frame(b) == 1 and view.intern_frame(c) == 2
    assert view.frames == [a, b, c] and p.frames == [a, b]
    assert p.intern_frame(c) == 2 and p.intern_frame(a) == 0
    q = Profile()
    q.add_frames([c, a], 4.0)
    merged = view + q
    assert merged.frames == [a, b, c]
    assert {(merged.stack_frames(s), w) for (s, _), w in merged.samples.items()} == {
        ((a, b), 2.0),
        ((c, a), 4.0),
    }
    assert merged.intern_frame(Frame("d", "m.py", 4)) == 3

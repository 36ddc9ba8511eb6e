"""Replay: equal, unequal and raising replacements, reported per call; the speed-up timed."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from hotpath.prove.capture import capture
from hotpath.prove.files import CaptureFile, read_capture
from hotpath.prove.replay import ReplayOptions, load_function, replay
from tests.prove import textlib

WORDS = ["kitten", "sitting", "fizz", "buzz", "lazy", "zebra", "", "a" * 30, "b" * 25]


@pytest.fixture
def recorded(tmp_path: Path) -> CaptureFile:
    out = tmp_path / "c.json"
    with capture("tests.prove.textlib:distance", out, max_overhead=1000.0):
        for a in WORDS:
            for b in WORDS:
                textlib.distance(a, b)
    return read_capture(str(out))


def _run(cap: CaptureFile, name: str, timed: bool = False) -> object:
    original = load_function(cap.function, "original") if timed else None
    return replay(
        cap, load_function(name, "--with"), name, original, cap.function if timed else None,
        ReplayOptions(rounds=3, max_seconds=5),
    )  # fmt: skip


def test_replay_equal_replacement_is_all_equal_and_timed(recorded: CaptureFile) -> None:
    r = _run(recorded, "tests.prove.textlib:distance_fast", timed=True)
    n = len(recorded.records)
    assert recorded.calls == len(WORDS) ** 2 and n >= 20  # the overhead bound may skip some
    assert r.replayed == r.equal == n and r.all_equal  # type: ignore[attr-defined]
    s = r.speedup  # type: ignore[attr-defined]
    assert s is not None and s[0] <= s[1] <= s[2] and len(r.rounds) == 3  # type: ignore[attr-defined]
    # The Rust function is faster than this Python loop on 30-character strings.
    assert s[1] > 1.0
    text = r.summary()  # type: ignore[attr-defined]
    assert text.startswith(f"all {n} replayed calls equal; ") and "faster" in text
    doc = r.document()  # type: ignore[attr-defined]
    assert doc["all_equal"] is True and doc["speedup"]["median"] == s[1]


def test_replay_unequal_replacement_names_the_calls_that_differ(recorded: CaptureFile) -> None:
    r = _run(recorded, "tests.prove.textlib:distance_wrong")
    wrong = sum(textlib.distance_wrong(*rec.args) != rec.result for rec in recorded.records)
    assert wrong > 0
    assert r.n_differ == wrong and r.equal == len(recorded.records) - wrong  # type: ignore[attr-defined]
    assert not r.all_equal and len(r.differ) == min(wrong, 10)  # type: ignore[attr-defined]
    i, what = r.differ[0]  # type: ignore[attr-defined]
    rec = recorded.records[i]
    assert textlib.distance_wrong(*rec.args) != rec.result
    assert f"recorded {rec.result}" in what
    assert r.summary().startswith(f"{wrong} differ of ")  # type: ignore[attr-defined]


def test_replay_raising_replacement_is_reported_per_call(recorded: CaptureFile) -> None:
    r = _run(recorded, "tests.prove.textlib:distance_raises", timed=True)
    raising = sum("z" in rec.args[0] for rec in recorded.records)
    assert raising > 0
    assert r.n_raised == raising and r.n_differ == 0  # type: ignore[attr-defined]
    assert r.raised[0][1] == "ValueError: no z please"  # type: ignore[attr-defined]
    assert f"{raising} raise of" in r.summary()  # type: ignore[attr-defined]
    assert r.speedup is not None  # the calls that returned are still timed  # type: ignore[attr-defined]


def test_replay_skips_calls_recorded_as_types_only(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    with capture("tests.prove.textlib:echo", out, max_overhead=1000.0):
        textlib.echo(1, k="v")
        textlib.echo(object())
        textlib.echo("x" * 10_000)
    r = replay(read_capture(str(out)), textlib.echo, "echo", None, None)
    assert r.replayed == 1 and r.equal == 1
    assert r.skipped == {"arguments recorded as types only": 2}
    assert "2 not replayable" in r.summary()


def test_replay_same_exception_counts_as_equal(tmp_path: Path) -> None:
    out = tmp_path / "f.json"
    with capture("tests.prove.textlib:fails", out, max_overhead=1000.0):
        for x in range(6):
            with contextlib.suppress(KeyError):
                textlib.fails(x)
    r = replay(read_capture(str(out)), textlib.fails, "fails", None, None)
    assert r.all_equal and r.equal == 6
    r = replay(read_capture(str(out)), lambda x: x, "identity", None, None)
    assert r.n_differ == 2 and "recorded raised KeyError" in r.differ[0][1]

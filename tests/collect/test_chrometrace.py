from __future__ import annotations

import io
import json

import pytest

from hotpath.collect.chrometrace import iter_events, read_spans
from hotpath.errors import ProfileParseError


def _ev(ph: str, name: str, ts: int, tid: int = 7, file: str = "", line: int = 0) -> dict:  # type: ignore[type-arg]
    return {"args": {"filename": file, "line": line}, "cat": "py-spy", "name": name,
            "ph": ph, "pid": 42, "tid": tid, "ts": ts}  # fmt: skip


def test_read_spans_replays_begin_end_per_thread() -> None:
    root = "thread (1234): Worker 1 (x)"
    events = [
        _ev("B", root, 1000), _ev("B", "main", 1000, file="/a.py", line=3),
        _ev("B", "spin", 1000, file="/a.py", line=9),
        _ev("E", "spin", 4000, file="/a.py", line=9), _ev("B", "io", 4000, file="/a.py", line=12),
        _ev("E", "io", 6000), _ev("E", "main", 6000), _ev("E", root, 6000),
    ]  # fmt: skip
    spans = list(read_spans(io.BytesIO(json.dumps(events).encode()), "t.json"))
    assert [(s.stack[-1].name, s.start, s.end) for s in spans] == [
        ("spin", 0.001, 0.004),
        ("io", 0.004, 0.006),
    ]
    s = spans[0]
    assert (s.pid, s.tid, s.thread_name) == (42, 1234, "Worker 1 (x)")
    assert [f.name for f in s.stack] == ["main", "spin"]  # the thread frame became labels


def test_read_spans_process_frame_sets_pid() -> None:
    events = [
        _ev("B", 'process 99:"gunicorn: worker"', 0), _ev("B", "thread (99)", 0),
        _ev("B", "f", 0, file="/w.py", line=1), _ev("E", "f", 500), _ev("E", "thread (99)", 500),
        _ev("E", 'process 99:"gunicorn: worker"', 500),
    ]  # fmt: skip
    (span,) = read_spans(io.BytesIO(json.dumps(events).encode()), "t.json")
    assert (span.pid, span.process, span.tid) == (99, "gunicorn: worker", 99)


def test_iter_events_streams_large_input_in_chunks() -> None:
    events = [_ev("B", f"f{i}" + "x" * 200, i) for i in range(20_000)]
    got = list(iter_events(io.BytesIO(json.dumps(events).encode()), "big.json"))
    assert len(got) == 20_000 and got[-1]["ts"] == 19_999


@pytest.mark.parametrize("data", [b"", b"{}", b'[{"ph": "B"'])
def test_iter_events_rejects_bad_input(data: bytes) -> None:
    with pytest.raises(ProfileParseError):
        list(iter_events(io.BytesIO(data), "bad.json"))

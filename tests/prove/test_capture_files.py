"""Capture files from elsewhere: whatever JSON they hold, reading and replaying them either
works or fails with one error naming the file; nothing in them is imported or run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hotpath.errors import ProfileParseError
from hotpath.prove.evidence import observe
from hotpath.prove.files import read_capture
from hotpath.prove.replay import replay

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["$t", "cut", "dict", "bytes", "int", "float", "sub", "set", "nan"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["$t", "v", "b64", "hex", "len", "type"]) | st.text(max_size=3),
        inner,
        max_size=4,
    ),
    max_leaves=20,
)  # fmt: skip


def _doc(record: Any) -> dict[str, Any]:
    return {
        "format": "hotpath-capture", "version": 1, "function": "m:f",
        "code": {"file": "m.py", "line": 1}, "params": [{"name": "a", "kind": "VAR_POSITIONAL"}],
        "calls": 1, "elapsed_s": 1.0, "records": [record],
    }  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    args=JSON, kwargs=JSON, result=JSON,
    exact=st.booleans(), raised=st.none() | st.text(max_size=5) | st.integers(),
)  # fmt: skip
def test_capture_files_hostile_records_never_crash(
    tmp_path_factory: Any, args: Any, kwargs: Any, result: Any, exact: bool, raised: Any
) -> None:
    path: Path = tmp_path_factory.mktemp("c") / "c.json"
    record = {"n": 0, "args": args, "kwargs": kwargs, "exact": exact, "result": result,
              "result_exact": exact, "raised": raised, "wall_s": 0.1, "cpu_s": 0.1}  # fmt: skip
    path.write_text(json.dumps(_doc(record)))
    try:
        cap = read_capture(str(path))
    except ProfileParseError as exc:
        assert str(exc).startswith(str(path))
        return
    called: list[Any] = []

    def replacement(*a: Any, **k: Any) -> Any:
        called.append((a, k))
        return a

    r = replay(cap, replacement, "r", None, None)
    assert r.replayed + sum(r.skipped.values()) == 1
    r.summary()
    observe(cap)


def test_capture_files_deep_nesting_is_not_a_crash(tmp_path: Path) -> None:
    deep = "[" * 5000 + "1" + "]" * 5000
    path = tmp_path / "deep.json"
    text = json.dumps(
        _doc({"n": 0, "args": [], "kwargs": {}, "result": 1, "wall_s": 0, "cpu_s": 0})
    )
    path.write_text(text.replace('"result": 1', '"result": ' + deep))
    try:
        read_capture(str(path))
    except ProfileParseError as exc:
        assert "invalid JSON" in str(exc)

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import read_profile, write_profile
from hotpath.formats.hotpath_file import FORMAT_ID, from_dict, to_dict
from hotpath.model import (
    EdgeStats,
    Frame,
    FunctionKey,
    FunctionStats,
    Metadata,
    Profile,
    RequestStats,
    Source,
)


def _rich_profile() -> Profile:
    p = Profile(Metadata(unit="seconds", interval_s=0.01, duration_s=2.5, sample_count=7,
                         tools={"py-spy": "0.4.3"}, attrs={"cmd": "python app.py"},
                         sources=[Source("x", "hotpath")]))  # fmt: skip
    p.add_frames([Frame("main", "app.py", 3, 1), Frame("<script>", "a;b.py", 9)], 0.05,
                 {"endpoint": "GET /x", "state": "active"})  # fmt: skip
    p.add_frames([Frame("main", "app.py", 4, 1)], 0.02)
    p.requests["GET /x"] = RequestStats(3, 0.3, 0.2, {"2xx": 3}, {17: 2, 40: 1})
    return p


def test_hotpath_file_roundtrip_keeps_everything(tmp_path: Path) -> None:
    p = _rich_profile()
    path = tmp_path / "p.hotpath"
    with path.open("wb") as f:
        write_profile(p, f, "hotpath")
    q = read_profile(path)
    assert to_dict(q) == to_dict(p)


def test_hotpath_file_roundtrip_call_stats() -> None:
    p = Profile(Metadata(unit="seconds"))
    f, g = FunctionKey("f", "x.py"), FunctionKey("g", "~")
    p.function_stats[f] = FunctionStats(1.0, 3.0, 1, 1, 5)
    p.call_edges[(f, g)] = EdgeStats(2.0, 2.0, 10)
    assert to_dict(from_dict(to_dict(p), "mem")) == to_dict(p)


def test_hotpath_file_output_is_deterministic() -> None:
    a, b = io.BytesIO(), io.BytesIO()
    write_profile(_rich_profile(), a, "hotpath")
    write_profile(_rich_profile(), b, "hotpath")
    assert a.getvalue() == b.getvalue()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["samples"].append([[99], 0, 1]), "frame id out of range"),
        (lambda d: d["samples"].append([[0], 7, 1]), "label set 7 out of range"),
        (lambda d: d["samples"].append([[0], 0, -1]), "must not be negative"),
        (lambda d: d["frames"].append("x"), r"frames\[3\] must be a list"),
        (lambda d: d.update(format="hotpath.profile/9"), "expected format"),
        (lambda d: d["meta"].update(unit="parsecs"), "unknown unit"),
    ],
)
def test_hotpath_file_rejects_invalid_documents(
    tmp_path: Path, mutate: object, needle: str
) -> None:
    doc = to_dict(_rich_profile())
    mutate(doc)  # type: ignore[operator]
    path = tmp_path / "bad.hotpath"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(ProfileParseError, match=needle):
        read_profile(path, "hotpath")


def test_hotpath_file_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    buf = io.BytesIO()
    write_profile(_rich_profile(), buf, "hotpath")
    path = tmp_path / "cut.hotpath"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ProfileParseError):
        read_profile(path)


def test_hotpath_file_is_detected_by_content(tmp_path: Path) -> None:
    buf = io.BytesIO()
    write_profile(_rich_profile(), buf, "hotpath")
    path = tmp_path / "no-extension"
    path.write_bytes(buf.getvalue())
    assert read_profile(path).meta.sources[0].format == "hotpath"
    assert FORMAT_ID == "hotpath.profile/1"

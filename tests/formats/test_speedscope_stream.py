"""The streaming speedscope reader against the whole-document reader (the truth)."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import speedscope, speedscope_stream
from hotpath.formats.jsondoc import load_json
from hotpath.model import Profile

EXTERNAL = Path("/work/shared/external/speedscope")


def _whole(data: bytes) -> Profile:
    return speedscope.from_document(load_json(io.BytesIO(data), "x"), "x")


def _streamed(data: bytes, seekable: bool = True) -> Profile:
    stream: Any = io.BufferedReader(io.BytesIO(data)) if seekable else _Unseekable(data)
    return speedscope.read(stream, "x")


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._inner.readinto(b)


def _same(a: Profile, b: Profile) -> None:
    def content(p: Profile) -> Counter[Any]:
        out: Counter[Any] = Counter()
        for frames, labels, w in p.iter_samples():
            out[(frames, labels)] += round(w, 9)
        return out

    assert content(a) == content(b)
    assert (a.meta.unit, a.meta.sample_count, a.meta.interval_s, a.meta.tools) == (
        b.meta.unit,
        b.meta.sample_count,
        b.meta.interval_s,
        b.meta.tools,
    )


def _pyspy_doc(seed: int, equal_weights: bool = True) -> dict[str, Any]:
    rng = random.Random(seed)
    frames = [{"name": f"f{i}", "file": f"/srv/app/m{i % 5}.py", "line": i} for i in range(30)]
    profiles = []
    for t in range(3):
        samples = [[rng.randrange(30) for _ in range(rng.randint(0, 6))] for _ in range(200)]
        weights = [0.01 if equal_weights else rng.choice((0.01, 0.02, 0.5)) for _ in samples]
        profiles.append(
            {
                "type": "sampled",
                "name": f'Thread {t} "worker" [x], {{y}}',  # brackets and quotes in names
                "unit": "seconds",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        )
    return {
        "$schema": speedscope.SCHEMA_URL,
        "profiles": profiles,
        "shared": {"frames": frames},
        "activeProfileIndex": 0,
        "exporter": "py-spy@0.4.3",
        "name": "samples weights",
    }


@pytest.mark.parametrize("equal", [True, False])
@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("block", [7, 64, 4 * 1024**2])
def test_stream_equals_whole_document(
    monkeypatch: pytest.MonkeyPatch, equal: bool, indent: int | None, block: int
) -> None:
    monkeypatch.setattr(speedscope_stream, "BLOCK_BYTES", block)
    data = json.dumps(_pyspy_doc(1, equal), indent=indent).encode()
    _same(_streamed(data), _whole(data))


@pytest.mark.parametrize("name", ["two-sampled.speedscope.json", "simple-evented.speedscope.json"])
def test_stream_equals_whole_document_on_speedscope_samples(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    data = (EXTERNAL / name).read_bytes()
    monkeypatch.setattr(speedscope_stream, "BLOCK_BYTES", 5)
    _same(_streamed(data), _whole(data))


def test_stream_keeps_frames_hotpath_wrote() -> None:
    p = _whole(json.dumps(_pyspy_doc(2)).encode())
    buf = io.BytesIO()
    speedscope.write(p, buf)  # hotpath's own file: hotpathMeta and hotpathLabels
    _same(_streamed(buf.getvalue()), _whole(buf.getvalue()))


def test_stream_errors_match_whole_reader_when_seekable() -> None:
    doc = _pyspy_doc(3)
    doc["profiles"][1]["weights"][4] = -1
    data = json.dumps(doc).encode()
    with pytest.raises(ProfileParseError) as whole:
        _whole(data)
    with pytest.raises(ProfileParseError) as streamed:
        _streamed(data)
    assert str(streamed.value) == str(whole.value)


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["profiles"][0]["samples"].__setitem__(2, "x"), "list of frame indices"),
        (lambda d: d["profiles"][0]["weights"].__setitem__(2, None), "non-negative"),
        (lambda d: d["profiles"][0]["weights"].pop(), "must be equal"),
    ],
)
def test_stream_errors_on_unseekable_input(mutate: Any, needle: str) -> None:
    doc = _pyspy_doc(4)
    mutate(doc)
    with pytest.raises(ProfileParseError, match=needle):
        _streamed(json.dumps(doc).encode(), seekable=False)


def test_stream_truncated_file_is_an_error() -> None:
    data = json.dumps(_pyspy_doc(5)).encode()
    cut = data[: data.index(b'"weights"') + 40]
    with pytest.raises(ProfileParseError, match="truncated"):
        _streamed(cut, seekable=False)
    with pytest.raises(ProfileParseError):
        _streamed(cut)

"""Austin's text and MOJO formats: the text against a plain count of its lines, MOJO against
austin-python's own decoding of the same file (``mojo2austin``, kept next to it)."""

from __future__ import annotations

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import detect, read_bytes
from hotpath.model import Profile
from tests.formats.readers_helpers import READERS, WORKLOAD, per_function, read_raw

TEXT = READERS / "austin.txt"
MOJO = READERS / "austin.mojo"
MOJO_DECODED = READERS / "austin.mojo.txt"


def _count_lines(path: str) -> tuple[dict[tuple[str, str], float], float, int]:
    """Inclusive seconds per (function, file), total seconds and samples, by splitting lines."""
    incl: dict[tuple[str, str], float] = {}
    total, n = 0.0, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("P"):
                continue
            stack, metric = line.rstrip("\n").rsplit(" ", 1)
            seconds = int(metric) / 1e6
            total += seconds
            n += 1
            functions = {(f.rsplit(":", 2)[1], f.rsplit(":", 2)[0]) for f in stack.split(";")[2:]}
            for key in functions:  # a function once per sample, whatever its lines
                incl[key] = incl.get(key, 0.0) + seconds
    return incl, total, n


def _stacks(p: Profile) -> dict[tuple[object, ...], float]:
    out: dict[tuple[object, ...], float] = {}
    for frames, labels, w in p.iter_samples():
        key = (tuple((f.name, f.file, f.line) for f in frames), labels)
        out[key] = out.get(key, 0.0) + w
    return out


def test_austin_text_equals_a_plain_count_of_its_lines() -> None:
    truth, total, n = _count_lines(str(TEXT))
    p = read_raw("austin", TEXT)
    assert p.total == pytest.approx(total) and p.meta.sample_count == n
    _self, incl = per_function(p)
    assert incl == pytest.approx(truth)
    assert {"loop", "fib", "<lambda>"} <= {name for name, _f in incl}


def test_austin_text_metadata_and_labels() -> None:
    p = read_raw("austin", TEXT)
    assert p.meta.unit == "seconds" and p.meta.interval_s == 0.005
    assert p.meta.duration_s is not None and p.meta.duration_s > 0.5
    assert p.meta.tools == {"austin": "3.7.0"} and p.meta.attrs["austin_mode"] == "wall"
    assert len(p.label_values("pid")) == 1 and p.label_values("tid") == p.label_values("pid")
    loop = next(f for f in p.frames if f.name == "loop")
    assert loop.file == WORKLOAD and loop.line in (21, 22)  # the sampled line


def test_mojo_equals_austin_pythons_decoding() -> None:
    mojo = read_raw("mojo", MOJO)
    decoded = read_raw("austin", MOJO_DECODED)
    assert _stacks(mojo) == pytest.approx(_stacks(decoded))
    assert mojo.meta.sample_count == decoded.meta.sample_count > 20
    assert mojo.meta.interval_s == decoded.meta.interval_s


def test_austin_formats_detected_by_content() -> None:
    assert detect(TEXT.read_bytes()[:65536]).name == "austin"
    assert detect(MOJO.read_bytes()[:65536]).name == "mojo"


def test_austin_full_mode_idle_and_memory_mode() -> None:
    full = b"# mode: full\nP1;T0:7;a.py:f:3 100,1,0\nP1;T0:7;a.py:f:4 50,0,8\n"
    p = read_bytes(full, "full.austin")
    idle = {dict(labels).get("state"): w for _f, labels, w in p.iter_samples()}
    assert idle == {"idle": pytest.approx(100e-6), None: pytest.approx(50e-6)}
    mem = b"# mode: memory\nP1;T0:7;a.py:f:3 4096\nP1;T0:7;a.py:g:9 -4096\n"
    m = read_bytes(mem, "mem.austin")
    assert m.meta.unit == "bytes" and m.total == 4096


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"# austin: 3\nP1;T0:7;a.py:f:3 x\n", "austin", "is not an integer"),
        (b"# austin: 3\nP1;T0:7;justaname 5\n", "austin", "is not 'file:function:line'"),
        (b"# austin: 3\nQ;x 5\n", "austin", "expected 'P<pid>"),
        (MOJO.read_bytes()[:300], "mojo", "ends inside"),
        (b"MOJ\x03\x05\x07", "mojo", "before any stack"),
        (b"MOJ\x03\x63", "mojo", "unknown MOJO event"),
    ],
)
def test_austin_bad_input_is_one_line_error(data: bytes, fmt: str, message: str) -> None:
    with pytest.raises(ProfileParseError, match=message) as err:
        read_bytes(data, "a.out", fmt)
    assert str(err.value).startswith("a.out") and "\n" not in str(err.value)

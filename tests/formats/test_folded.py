from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import read_profile, write_profile
from hotpath.formats.folded import format_frame, parse_frame
from hotpath.model import PID, PROCESS, THREAD, THREAD_ID, Frame


def _write(tmp_path: Path, text: str | bytes, name: str = "p.folded") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _plain_count(text: str) -> int:
    """An independent count: the integer after the last space of every non-blank line."""
    return sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.strip())


def test_folded_total_equals_plain_count(tmp_path: Path) -> None:
    rng = random.Random(7)
    names = [f"fn_{i} (pkg/mod{i % 7}.py:{i})" for i in range(60)]
    lines = []
    for _ in range(500):
        depth = rng.randint(1, 12)
        lines.append(";".join(rng.choice(names) for _ in range(depth)) + f" {rng.randint(1, 50)}")
    text = "\n".join(lines) + "\n"
    profile = read_profile(_write(tmp_path, text))
    assert profile.total == _plain_count(text)
    assert profile.meta.sample_count == _plain_count(text)


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        ("handle (app/views.py:42)", Frame("handle", "app/views.py", 42)),
        ("exists (<frozen genericpath>:19)", Frame("exists", "<frozen genericpath>", 19)),
        ("render (table.html)", Frame("render", "table.html")),
        ("<module> (my app/run:3)", Frame("<module>", "my app/run", 3)),
        (
            "Database.execute.<locals>.sql_operation_in_thread (db.py:9)",
            Frame("Database.execute.<locals>.sql_operation_in_thread", "db.py", 9),
        ),
        ("0x7f3a2b1c (libfoo.so)", Frame("0x7f3a2b1c", "libfoo.so")),
        ("bare_name", Frame("bare_name")),
        ("C:\\code\\x.py", Frame("C:\\code\\x.py")),
    ],
)
def test_parse_frame_real_shapes(text: str, frame: Frame) -> None:
    assert parse_frame(text) == frame


def test_format_frame_roundtrips_parse() -> None:
    for f in [Frame("a b", "x y.py", 3), Frame("n", "f.py"), Frame("n")]:
        assert parse_frame(format_frame(f)) == f


def test_folded_threads_and_processes_become_labels(tmp_path: Path) -> None:
    text = (
        'process 10:"python -m app";process 11:"worker 1";thread (4242): Thread-1 (_execute);'
        "a (x.py:1);b (x.py:2) 3\n"
        "thread (4243);a (x.py:1) 2\n"
    )
    profile = read_profile(_write(tmp_path, text))
    samples = {labels: w for _f, labels, w in profile.iter_samples()}
    assert samples[((PID, "11"), (PROCESS, "worker 1"), (THREAD, "Thread-1 (_execute)"),
                    (THREAD_ID, "4242"))] == 3  # fmt: skip
    assert samples[((THREAD, "4243"), (THREAD_ID, "4243"))] == 2
    assert all(f.name in ("a", "b") for frames, _l, _w in profile.iter_samples() for f in frames)


def test_folded_keeps_lines_without_stack(tmp_path: Path) -> None:
    profile = read_profile(_write(tmp_path, "a (x.py:1) 5\n 2\n"))
    assert profile.total == 7


def test_folded_roundtrip_keeps_every_weight(tmp_path: Path) -> None:
    text = (
        "a (x.py:1);b (x.py:2) 3\n"
        "thread (9): main;a (x.py:1) 4\n"
        'process 1:"cmd";thread (9);c (y.py:3) 1\n'
        " 2\n"
        "x y (spaced name.py:3) 5\n"
    )
    first = read_profile(_write(tmp_path, text))
    buf = io.BytesIO()
    write_profile(first, buf, "folded")
    again = read_profile(_write(tmp_path, buf.getvalue(), "again.folded"))
    assert {(fr, lb): w for fr, lb, w in first.iter_samples()} == {
        (fr, lb): w for fr, lb, w in again.iter_samples()
    }
    assert _plain_count(buf.getvalue().decode()) == _plain_count(text)


def test_folded_reads_gzip(tmp_path: Path) -> None:
    path = _write(tmp_path, gzip.compress(b"a (x.py:1);b (x.py:2) 3\n"), "p.folded.gz")
    assert read_profile(path).total == 3


@pytest.mark.parametrize(
    ("text", "needle", "line"),
    [
        ("a;b 1\na;b\n", "no count", 2),
        ("a;b 1\na;b -3\n", "negative", 2),
        ("a;b abc\n", "not a number", 1),
        ("a;b nan\n", "finite", 1),
    ],
)
def test_folded_bad_lines_name_file_and_line(
    tmp_path: Path, text: str, needle: str, line: int
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ProfileParseError) as err:
        read_profile(path, "folded")
    assert err.value.line == line
    assert needle in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "content", [b"", b"\n\n  \n", bytes(range(256)) * 4, b"\x1f\x8b\x08garbage"]
)
def test_folded_rejects_empty_and_binary(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ProfileParseError):
        read_profile(_write(tmp_path, content))


def test_folded_hostile_names_pass_through_as_data(tmp_path: Path) -> None:
    profile = read_profile(_write(tmp_path, "<script>alert(1)</script> (<img src=x>.py:1) 4\n"))
    (frame,) = profile.frames
    assert frame.name == "<script>alert(1)</script>"
    assert frame.file == "<img src=x>.py"


def test_folded_thread_frame_below_root_is_a_frame(tmp_path: Path) -> None:
    profile = read_profile(_write(tmp_path, "a (x.py:1);thread (1): t;b (x.py:2) 3\n"))
    ((frames, labels, w),) = list(profile.iter_samples())
    assert [f.name for f in frames] == ["a", "thread (1): t", "b"] and labels == () and w == 3


def test_folded_limits_five_mb_line_and_deep_stack(tmp_path: Path) -> None:
    """Big but legitimate input is read, not refused: a 5 MB line, a 50,000-frame stack."""
    deep = ";".join(f"f{i % 500} (m.py:{i})" for i in range(50_000)) + " 7\n"
    assert len(deep) > 700_000
    wide = "a (x.py:1);" + "n" * 5_000_000 + " (y.py:2) 2\n"
    profile = read_profile(_write(tmp_path, deep + wide))
    assert profile.total == 9


def test_folded_line_limit_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotpath.errors import LimitExceeded
    from hotpath.formats import folded

    monkeypatch.setattr(folded, "MAX_LINE_BYTES", 1024)
    path = _write(tmp_path, "a 1\n" + "x" * 5000 + " 1\n")
    with pytest.raises(LimitExceeded, match=r":2: line longer than"):
        read_profile(path)


def test_gzip_bomb_is_refused_within_the_limit(tmp_path: Path) -> None:
    from hotpath.errors import LimitExceeded

    # 64 MiB of zeros compress to ~64 KiB; the cap (here 8 MiB) stops decompression early.
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        chunk = b"0" * 1024**2
        for _ in range(64):
            f.write(chunk)
    assert path.stat().st_size < 1024**2
    with pytest.raises(LimitExceeded, match="decompresses to more than 8 MiB"):
        read_profile(path, max_decompressed=8 * 1024**2)

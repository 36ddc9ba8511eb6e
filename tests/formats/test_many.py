from __future__ import annotations

import gzip
import random
from collections import Counter
from pathlib import Path

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import many, read_profile, read_profiles, write_profile
from hotpath.model import Frame, Profile, merge


def _worker_files(tmp_path: Path, n: int, seed: int = 3) -> list[Path]:
    """Worker files sharing functions, with thread roots, blank lines and a stackless line."""
    rng = random.Random(seed)
    funcs = [f"f{i} (app/m{i % 7}.py:{10 + i})" for i in range(40)]
    paths = []
    for w in range(n):
        lines = []
        for _ in range(rng.randint(20, 60)):
            depth = rng.randint(1, 12)
            stack = ";".join(rng.choice(funcs) for _ in range(depth))
            if rng.random() < 0.3:
                stack = f"thread (0x{w:x}): Worker-{w};{stack}"
            lines.append(f"{stack} {rng.randint(1, 9)}")
        lines.append(" 2")
        lines.append("")
        path = tmp_path / f"worker-{w:02d}.folded"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def _content(p: Profile) -> Counter[tuple[tuple[Frame, ...], tuple[tuple[str, str], ...]]]:
    out: Counter[tuple[tuple[Frame, ...], tuple[tuple[str, str], ...]]] = Counter()
    for frames, labels, w in p.iter_samples():
        out[(frames, labels)] += w
    return out


def test_read_profiles_shared_accumulator_equals_read_and_merge(tmp_path: Path) -> None:
    files = _worker_files(tmp_path, 9)
    truth = merge([read_profile(f) for f in files])
    got = read_profiles([tmp_path])
    assert _content(got) == _content(truth)
    assert [s.path for s in got.meta.sources] == [str(f) for f in files]
    assert got.meta.sample_count == truth.meta.sample_count == got.total
    # Each distinct frame is interned once, however many files repeat it.
    assert len(got.frames) == len(set(got.frames))


def test_read_profiles_in_two_processes_equals_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _worker_files(tmp_path, 8)
    one = read_profiles(files, jobs=1)
    monkeypatch.setattr(many, "PARALLEL_MIN_BYTES", 0)
    assert len(many.split_by_size(files, 2)) == 2
    called = []
    real = many._read_parallel

    def spy(*args: object) -> Profile:
        called.append(True)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(many, "_read_parallel", spy)
    two = read_profiles(files, jobs=2)
    assert called and _content(two) == _content(one)
    assert [s.path for s in two.meta.sources] == [str(f) for f in files]


def test_read_profiles_error_in_the_child_process_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _worker_files(tmp_path, 4)
    files[-1].write_text("a;b 1\na;b -3\n")  # the last group is read by the child
    monkeypatch.setattr(many, "PARALLEL_MIN_BYTES", 0)
    with pytest.raises(ProfileParseError) as err:
        read_profiles(files, jobs=2)
    assert err.value.path == str(files[-1]) and err.value.line == 2
    assert "negative" in str(err.value)


def test_read_profiles_mixes_formats_and_gzip(tmp_path: Path) -> None:
    files = _worker_files(tmp_path, 3)
    native = tmp_path / "x.hotpath"
    with open(native, "wb") as f:
        write_profile(read_profile(files[0]), f, "hotpath")
    gz = tmp_path / "w.folded.gz"
    gz.write_bytes(gzip.compress(files[1].read_bytes()))
    got = read_profiles([files[0], native, gz, files[2]])
    truth = merge([read_profile(p) for p in (files[0], native, gz, files[2])])
    assert _content(got) == _content(truth)


def test_read_profiles_empty_worker_file_is_named(tmp_path: Path) -> None:
    files = _worker_files(tmp_path, 2)
    files[1].write_text("\n\n")
    with pytest.raises(ProfileParseError, match="worker-01"):
        read_profiles(files)


def test_split_by_size_balances_contiguous_groups(tmp_path: Path) -> None:
    sizes = [10, 10, 10, 10, 40, 10, 10]
    files = []
    for i, n in enumerate(sizes):
        p = tmp_path / f"{i}.folded"
        with open(p, "wb") as f:
            f.truncate(n * 1024**2)  # sparse: only the size matters here
        files.append(p)
    assert many.split_by_size(files[:2], 2) == [files[:2]]  # 20 MiB: not worth a process
    groups = many.split_by_size(files, 2)
    assert [f for g in groups for f in g] == files
    assert len(groups) == 2
    weights = [sum(f.stat().st_size for f in g) for g in groups]
    assert abs(weights[0] - weights[1]) <= 40 * 1024**2

"""The block reader against a plain line-by-line count, at block sizes that cut everything."""

from __future__ import annotations

import io
import random
from collections import Counter

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import folded


def _lines(seed: int) -> list[str]:
    rng = random.Random(seed)
    funcs = [f"f{i} (app/m{i % 3}.py:{i})" for i in range(12)] + ["g h (<frozen x>:1)"]
    out = []
    for _ in range(300):
        r = rng.random()
        if r < 0.05:
            out.append(rng.choice(["", "   ", "\r"]))  # blank lines are skipped
        elif r < 0.08:
            out.append(f" {rng.randint(1, 5)}")  # a count with no stack
        else:
            stack = ";".join(rng.choice(funcs) for _ in range(rng.randint(1, 9)))
            if rng.random() < 0.2:
                stack = f"thread (0x{rng.randint(1, 3):x}): T;{stack}"
            out.append(f"{stack} {rng.randint(1, 20)}" + ("\r" if rng.random() < 0.1 else ""))
    return out


def _truth(lines: list[str]) -> Counter[str]:
    """Weight per stack text (thread root included), by splitting each line on its last space."""
    out: Counter[str] = Counter()
    for line in lines:
        line = line.rstrip("\r")
        if line.strip():
            stack, _, count = line.rpartition(" ")
            out[stack] += int(count)
    return out


def _read_back(profile: folded.Profile) -> Counter[str]:
    out: Counter[str] = Counter()
    for frames, labels, w in profile.iter_samples():
        d = dict(labels)
        prefix = [f"thread ({d['tid']}): {d['thread']}"] if d else []
        out[";".join(prefix + [folded.format_frame(f) for f in frames])] += int(w)
    return out


@pytest.mark.parametrize("block", [1, 7, 100, 1024**2])
@pytest.mark.parametrize("flush", [1, 300, 4 * 1024**2])
def test_block_reader_equals_line_count(
    monkeypatch: pytest.MonkeyPatch, block: int, flush: int
) -> None:
    monkeypatch.setattr(folded, "BLOCK_BYTES", block)
    monkeypatch.setattr(folded, "FLUSH_BYTES", flush)
    lines = _lines(block + flush)
    profile = folded.read(io.BytesIO("\n".join(lines).encode()), "x")
    assert _read_back(profile) == _truth(lines)
    assert profile.meta.sample_count == sum(_truth(lines).values())


@pytest.mark.parametrize("block", [3, 1024**2])
def test_block_reader_error_lines_are_exact(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(folded, "BLOCK_BYTES", block)
    lines = _lines(1)
    lines[150] = "a;b 1.5x"
    with pytest.raises(ProfileParseError) as err:
        folded.read(io.BytesIO("\n".join(lines).encode()), "x")
    assert err.value.line == 151 and "not a number" in str(err.value)


def test_accumulator_stacks_pending_across_files_still_name_the_empty_file() -> None:
    acc = folded.Accumulator()
    acc.feed(io.BytesIO(b"a (x.py:1);b (x.py:2) 3\n"), "w1")
    with pytest.raises(ProfileParseError, match="w2: no stacks"):
        acc.feed(io.BytesIO(b"\n \n"), "w2")
    acc.feed(io.BytesIO(b"a (x.py:1);b (x.py:2) 4\n"), "w3")
    assert acc.finish().total == 7

"""Property-based fuzzing of every registered reader (the coverage-guided fuzzers live in
fuzz/): random bytes and mutations of real seed files may only give a Profile that analyses
or a HotpathError — never another exception."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotpath.analysis.pipeline import analyze
from hotpath.errors import HotpathError
from hotpath.formats import REGISTRY, read_bytes

CORPUS = Path(__file__).parents[1] / "fuzz" / "corpus"
SEEDS = sorted(p for p in CORPUS.glob("*/*") if p.is_file())
FORMATS = [None, *REGISTRY]


def _outcome(data: bytes, fmt: str | None) -> None:
    try:
        profile = read_bytes(data, "<fuzz>", fmt, max_decompressed=16 * 1024**2)
    except HotpathError as exc:
        assert str(exc).startswith("<fuzz>"), str(exc)  # errors name the input
        return
    analyze(profile)


def test_fuzz_every_format_has_seeds() -> None:
    missing = [name for name in REGISTRY if not (CORPUS / name).is_dir()]
    assert not missing, f"fuzz/corpus lacks seeds for {missing}"


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2048))
def test_fuzz_random_bytes(fmt: str | None, data: bytes) -> None:
    _outcome(data, fmt)


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    seed = SEEDS[draw(st.integers(0, len(SEEDS) - 1))].read_bytes()
    if seed[:2] == b"\x1f\x8b" and draw(st.booleans()):
        seed = gzip.decompress(seed)  # mutate the content, not only the compression
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 64))]
    if draw(st.booleans()):
        return gzip.compress(bytes(data))
    return bytes(data)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_seed())
def test_fuzz_mutated_seeds(fmt: str | None, data: bytes) -> None:
    _outcome(data, fmt)

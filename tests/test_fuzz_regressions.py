"""Every input a fuzzer ever crashed on (fuzz/crashers/<format>/) must now be handled:
a Profile that analyses, or a HotpathError. Found by `python -m fuzz`; kept forever."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotpath.analysis.pipeline import analyze
from hotpath.errors import HotpathError
from hotpath.formats import REGISTRY, read_bytes

CRASHERS = sorted((Path(__file__).parents[1] / "fuzz" / "crashers").glob("*/*"))


def test_fuzz_crasher_corpus_is_not_empty() -> None:
    # The corpus is where fixed crashes live; an empty glob would make the test below vacuous.
    assert CRASHERS, "fuzz/crashers/ holds no inputs"


@pytest.mark.parametrize("path", CRASHERS, ids=lambda p: f"{p.parent.name}/{p.name[:20]}")
def test_fuzz_crasher_is_handled(path: Path) -> None:
    fmt = path.parent.name
    data = path.read_bytes()
    try:
        profile = read_bytes(data, str(path), None if fmt == "auto" else fmt)
    except HotpathError:
        return
    assert fmt == "auto" or fmt in REGISTRY
    analyze(profile)

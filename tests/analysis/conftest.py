"""Helpers for the advisor tests: small hand-made profiles and the sample monolith's paths."""

from __future__ import annotations

from pathlib import Path

from hotpath.analysis.options import AdvisorOptions, AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.analysis.results import Candidate
from hotpath.model import Frame, Profile

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "fixtures" / "sample"


def profile_of(
    stacks: list[tuple[list[tuple[str, str, int]], float, dict[str, str] | None]],
) -> Profile:
    """A sampled profile from (frames as (name, file, line) root first, count, labels)."""
    p = Profile()
    for frames, weight, labels in stacks:
        p.add_frames([Frame(n, f, line) for n, f, line in frames], weight, labels)
    return p


def candidates(
    profile: Profile, source_root: Path | str | None = None, **advisor: float
) -> dict[str, Candidate]:
    opts = AnalyzeOptions(
        source_root=None if source_root is None else str(source_root),
        advisor=AdvisorOptions(**advisor),  # type: ignore[arg-type]
    )
    result = analyze(profile, opts)
    assert result.candidates is not None
    return {c.target: c for c in result.candidates}


def reason_keys(c: Candidate) -> set[str]:
    return {r.split(":", 1)[0] for r in c.reasons}

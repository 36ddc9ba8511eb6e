"""The analysis result that every report renders: rows of functions, endpoints, candidates.

Plain frozen dataclasses: the producers (endpoints, pareto, advisor) build them, the
pipeline (:mod:`hotpath.analysis.pipeline`) assembles them, the reports read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotpath.analysis.calltree import CallTreeNode
from hotpath.analysis.classify import Kind
from hotpath.analysis.options import AnalyzeOptions
from hotpath.model import Source, Unit


@dataclass(frozen=True)
class FunctionRow:
    name: str
    file: str
    first_line: int | None
    line: int | None
    """first_line where known, else the smallest sampled line (for display)."""
    kind: Kind
    self: float
    inclusive: float
    self_share: float
    inclusive_share: float
    calls: int | None


@dataclass(frozen=True)
class ProfileSummary:
    sources: list[Source]
    unit: Unit
    total: float
    samples: int | None
    duration_s: float | None
    tools: dict[str, str] = field(default_factory=dict)
    interval_s: float | None = None


@dataclass(frozen=True)
class EndpointRow:
    """One endpoint: its share of the CPU (and of wall time), traffic and latency."""

    name: str
    samples: float
    """Weight (in the profile's unit) of the samples attributed to this endpoint."""
    share: float
    """CPU share: fraction of the profile's on-CPU weight spent serving this endpoint."""
    wall_share: float | None = None
    requests: int | None = None
    cpu_per_request_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    top_functions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pareto:
    """Cumulative curves: (fraction of items, fraction of CPU), items hottest first."""

    functions: list[tuple[float, float]]
    endpoints: list[tuple[float, float]]
    sentence: str
    """E.g. "8 functions (4% of the app's functions) take 90% of the CPU"."""


@dataclass(frozen=True)
class Candidate:
    """An extraction candidate (a function region or an endpoint) and the advisor's verdict."""

    target: str
    kind: str  # "function" | "endpoint"
    recommendation: str  # "microservice" | "extension" | "leave"
    score: float
    share: float
    cpu_bound: float | None
    pure_python: float | None
    isolation: float | None
    saving_share: tuple[float, float]
    reasons: list[str]
    file: str = ""
    line: int | None = None
    evidence: dict[str, str] = field(default_factory=dict)
    """Which evidence each number came from (e.g. pure_python: "native frames")."""
    brief: str | None = None
    """The extraction brief (Markdown-free plain text) for recommended candidates."""
    confidence: str = ""
    """"high" | "medium" | "low" from sample counts; "exact" for call statistics."""
    samples: float | None = None
    """Samples under the candidate (None: exact call statistics)."""
    share_interval: tuple[float, float] | None = None
    callers: int | None = None
    per_call_s: float | None = None
    """CPU seconds per call (functions, from call counts) or per request (endpoints)."""
    granularity: str | None = None
    """"fine" | "coarse" | None (unknown)."""
    speedup: tuple[float, float] | None = None
    """Whole-process speed-up by Amdahl's law, for the saving interval."""
    cores_saved: tuple[float, float] | None = None
    money_per_month: tuple[float, float] | None = None


@dataclass(frozen=True)
class PlanStep:
    """One extraction of the plan, measured on the profile with the earlier steps applied."""

    number: int
    target: str
    kind: str  # "function" | "endpoint"
    entry: str
    """The function extracted: the target itself, or an endpoint's view."""
    recommendation: str  # "microservice" | "extension"
    speedup: float
    """The Rust speed-up k this step assumes (the advisor's, for this candidate)."""
    saving: float
    """Share of the original CPU this step saves after the earlier ones (point estimate)."""
    saving_share: tuple[float, float]
    """Its interval, by the advisor's formula on the re-measured candidate."""
    cumulative: float
    """Share of the original CPU saved by this step and every earlier one."""
    cumulative_share: tuple[float, float]
    cores_saved: tuple[float, float] | None = None
    """Cumulative, at the observed load."""
    money_per_month: tuple[float, float] | None = None
    """Cumulative, when a core-hour price is given."""
    covers: list[tuple[str, str]] = field(default_factory=list)
    """(target, kind) of the candidates whose entry lies inside this step's region (their
    samples are counted here)."""


@dataclass(frozen=True)
class PlanLeft:
    """A recommended candidate that is not a step of the plan, and why."""

    target: str
    kind: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """The advisor's recommended candidates as non-overlapping extractions, in order."""

    steps: list[PlanStep]
    left: list[PlanLeft]
    rule: str
    """How the steps were chosen and when the plan stops, in one sentence."""
    note: str | None = None
    """Why there is no plan, when there is none."""


@dataclass(frozen=True)
class Analysis:
    """Everything the reports show; renderers read this, never the raw profile."""

    profile: ProfileSummary
    functions: list[FunctionRow]
    """Every function, by inclusive weight, descending."""
    recursion: list[list[str]]
    """Groups of mutually recursive functions (display names)."""
    options: AnalyzeOptions
    endpoints: list[EndpointRow] | None = None
    """None when the profile carries no endpoint information."""
    pareto: Pareto | None = None
    candidates: list[Candidate] | None = None
    flame: CallTreeNode | None = None
    """Merged, pruned call tree for flame graphs; None without stacks (pstats)."""
    endpoint_note: str | None = None
    """One line saying that no endpoint was recognised and what to do, when that is so."""
    plan: Plan | None = None
    """The extraction plan; None when the advisor did not run."""

    def top_by(self, by: str, n: int) -> list[FunctionRow]:
        if by == "self":
            return sorted(self.functions, key=lambda r: (-r.self, r.name, r.file))[:n]
        return self.functions[:n]

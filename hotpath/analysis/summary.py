"""The analysis result that every report renders: one pure function from a profile to rows."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from hotpath.analysis.callgraph import CallGraph, build_callgraph, recursion_groups
from hotpath.analysis.calltree import CallTreeNode, build_calltree
from hotpath.analysis.classify import Kind, make_classifier
from hotpath.analysis.recognize import label_endpoints
from hotpath.errors import LimitExceeded
from hotpath.model import ENDPOINT, Profile, Source, Unit, cpu_view

if TYPE_CHECKING:
    from hotpath.analysis.advisor import AdvisorOptions


@dataclass(frozen=True)
class AnalyzeOptions:
    """What ``hotpath analyze`` was asked for."""

    source_root: str | None = None
    """Directory of the app's own code; None: everything not stdlib/library/native is app."""
    top: int = 20
    advisor: AdvisorOptions | None = None
    """Options of the advisor (Rust speed-up, cores, price); None: its defaults."""
    max_functions: int = 500_000
    """Refuse profiles with more distinct functions (``--max-functions``): a million take
    about a minute and 2 GB to analyse; real services have thousands to tens of thousands."""
    flame: bool = True
    """Build the call tree for a flame graph (only the HTML report draws one; building it
    for a 100 MB profile costs 0.4 s and 60 MiB, so ``hotpath analyze`` asks only for HTML)."""


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

    def top_by(self, by: str, n: int) -> list[FunctionRow]:
        if by == "self":
            return sorted(self.functions, key=lambda r: (-r.self, r.name, r.file))[:n]
        return self.functions[:n]


def summarize_profile(profile: Profile, cpu: Profile | None = None) -> ProfileSummary:
    """``cpu``: the profile's CPU view, whose total is the one analysed (a profile recording
    CPU and wall time holds both; their sum is no quantity anyone measured)."""
    meta = profile.meta
    return ProfileSummary(
        sources=list(meta.sources),
        unit=meta.unit,
        total=(cpu if cpu is not None else cpu_view(profile)).total,
        samples=meta.sample_count,
        duration_s=meta.duration_s,
        tools=dict(meta.tools),
        interval_s=meta.interval_s,
    )


def function_rows(cg: CallGraph, source_root: str | None) -> list[FunctionRow]:
    classifier = make_classifier(source_root)
    total = cg.total
    rows = []
    for f in cg.ranked("inclusive"):
        rows.append(
            FunctionRow(
                name=f.key.name,
                file=f.key.file,
                first_line=f.first_line,
                line=f.first_line if f.first_line is not None else f.min_line,
                kind=classifier.kind(f.key.name, f.key.file),
                self=f.self,
                inclusive=f.inclusive,
                # cProfile's cumtime can exceed the sum of tottimes by a fraction of a per
                # mille (its own timer overhead): the weights stay exact, shares stop at 1.
                self_share=min(1.0, f.self / total) if total else 0.0,
                inclusive_share=min(1.0, f.inclusive / total) if total else 0.0,
                calls=f.calls,
            )
        )
    return rows


def _check_size(profile: Profile, limit: int) -> None:
    functions = {f.function for f in profile.frames}
    if len(functions) > limit:
        where = profile.meta.sources[0].path if profile.meta.sources else "<profile>"
        raise LimitExceeded(
            where,
            f"{len(functions):,} distinct functions, more than the limit of {limit:,} "
            "(raise it with --max-functions)",
        )


def analyze(profile: Profile, options: AnalyzeOptions | None = None) -> Analysis:
    """Analyse a profile: every function with self and inclusive weight and share."""
    options = options or AnalyzeOptions()
    if options.source_root is not None:
        options = replace(options, source_root=os.path.abspath(options.source_root))
    from hotpath.analysis.endpoints import endpoint_rows, no_endpoints_note

    _check_size(profile, options.max_functions)
    profile = label_endpoints(profile)  # endpoints from stacks where no middleware said
    # Functions are ranked by CPU: idle samples, where recorded, do not count.
    cpu = cpu_view(profile)
    cg = build_callgraph(cpu)
    rows = function_rows(cg, options.source_root)
    groups = [[str(k) for k in g] for g in recursion_groups(cg)] if cg.functions else []
    endpoints = endpoint_rows(profile)
    flame = (
        build_calltree(cpu, source_root=options.source_root)
        if options.flame and cpu.samples
        else None
    )
    pareto, candidates = _advise(profile, cpu, cg, options)
    return Analysis(
        summarize_profile(profile, cpu),
        rows,
        groups,
        options,
        endpoints=endpoints,
        pareto=pareto,
        candidates=candidates,
        flame=flame,
        endpoint_note=no_endpoints_note(profile) if endpoints is None else None,
    )


def _advise(
    profile: Profile, cpu: Profile, cg: CallGraph, options: AnalyzeOptions
) -> tuple[Pareto, list[Candidate]]:
    # Imported here: the advisor's modules import this one for the result dataclasses.
    from hotpath.analysis.advisor import AdvisorOptions, advise
    from hotpath.analysis.pareto import compute_pareto

    classifier = make_classifier(options.source_root)
    endpoint_weights: dict[str, float] = {}
    for (_stack, lid), w in cpu.samples.items():
        ep = dict(cpu.label_sets[lid]).get(ENDPOINT)
        if ep is not None:
            endpoint_weights[ep] = endpoint_weights.get(ep, 0.0) + w
    pareto = compute_pareto(cg, classifier, endpoint_weights)
    candidates = advise(profile, cg, classifier, options.advisor or AdvisorOptions())
    return pareto, candidates

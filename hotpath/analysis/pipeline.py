"""The analysis pipeline: one pure function from a profile to the :class:`Analysis`."""

from __future__ import annotations

import os
from dataclasses import replace

from hotpath.analysis.callgraph import CallGraph, build_callgraph, recursion_groups
from hotpath.analysis.calltree import build_calltree
from hotpath.analysis.classify import make_classifier
from hotpath.analysis.endpoints import endpoint_rows, no_endpoints_note, weight_by_endpoint
from hotpath.analysis.options import AdvisorOptions, AnalyzeOptions
from hotpath.analysis.pareto import compute_pareto
from hotpath.analysis.plan import advise_with_plan
from hotpath.analysis.recognize import label_endpoints
from hotpath.analysis.results import (
    Analysis,
    Candidate,
    FunctionRow,
    Pareto,
    Plan,
    ProfileSummary,
)
from hotpath.errors import LimitExceeded
from hotpath.model import Profile, cpu_view


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
    _check_size(profile, options.max_functions)
    profile = label_endpoints(profile)  # endpoints from stacks where no middleware said
    # Functions are ranked by CPU: idle samples, where recorded, do not count.
    cpu = cpu_view(profile)
    cg = build_callgraph(cpu)
    # The advisor first: the rows of the report are made after its temporaries are gone
    # (its tallies are the peak of a big profile's analysis).
    pareto, candidates, plan = _advise(profile, cpu, cg, options)
    rows = function_rows(cg, options.source_root)
    groups = [[str(k) for k in g] for g in recursion_groups(cg)] if cg.functions else []
    endpoints = endpoint_rows(profile)
    flame = (
        build_calltree(cpu, source_root=options.source_root)
        if options.flame and cpu.samples
        else None
    )
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
        plan=plan,
    )


def _advise(
    profile: Profile, cpu: Profile, cg: CallGraph, options: AnalyzeOptions
) -> tuple[Pareto, list[Candidate], Plan]:
    # Library frames are looked up in the target's site-packages too when it was recorded live.
    classifier = make_classifier(options.source_root, profile.meta.attrs.get("site_dirs"))
    pareto = compute_pareto(cg, classifier, weight_by_endpoint(cpu))
    candidates, plan = advise_with_plan(
        profile, cg, classifier, options.advisor or AdvisorOptions()
    )
    return pareto, candidates, plan

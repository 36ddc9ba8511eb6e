"""The extraction plan: the advisor's overlapping candidates as ordered, non-overlapping steps.

The advisor judges every candidate on the whole profile, so its savings overlap: a view, the
helper under it and the kernel under that each claim the kernel's samples. The plan takes the
recommended candidates one at a time and applies each step to the profile before choosing the
next, so no sample is saved twice:

1. a candidate whose entry lies inside the region of an earlier step is covered by it;
2. every other candidate is measured again (:func:`hotpath.analysis.advisor.measure`) on the
   profile with the earlier steps applied, and judged by the advisor's own verdict
   (:func:`hotpath.analysis.advisor.verdict_of`): the same saving formula, the same speed-up
   (:func:`hotpath.analysis.verdict.speedup_for`), the same "leave" rules;
3. the one with the largest saving (the lower end of its interval, as the advisor ranks) is
   the next step; the plan stops when every remaining candidate is left in Python.

Applying a step: each sample the step makes faster (its leaf runs interpreted Python under
the step's entry, or, for a library path, the sample enters the library below the entry;
for an endpoint, only that endpoint's samples) weighs 1/k of what it did and its leaf is
marked as native, so later steps see that time as already in Rust. A step's saving and the
cumulative saving are shares of the original profile's CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from hotpath.analysis.advisor import Advice, advice, measure, verdict_of
from hotpath.analysis.callgraph import CallGraph, build_callgraph
from hotpath.analysis.classify import Classifier, framework_of, package_of
from hotpath.analysis.evidence import Measured
from hotpath.analysis.nativeness import Category, Evidence, LeafJudge
from hotpath.analysis.options import AdvisorOptions
from hotpath.analysis.results import Candidate, Plan, PlanLeft, PlanStep
from hotpath.analysis.verdict import cost, estimate, gain_of, speedup_for, wilson
from hotpath.model import ENDPOINT, Frame, FunctionKey, Profile, Stack

__all__ = ["PLAN_RULE", "Applied", "advise_with_plan", "apply_step", "plan_extractions"]

PLAN_RULE = (
    "greedy by saving: each step is the recommended candidate saving the most (low end of "
    "its interval) on the profile with the earlier steps applied; candidates inside an "
    "earlier step's region are covered by it; the plan stops when the advisor would leave "
    "every remaining candidate in Python"
)
REWRITTEN_LINE = -1
"""The line of a leaf frame a step rewrote: no real frame has it."""


@dataclass
class _StepJudge(LeafJudge):
    """The advisor's leaf judge, except that leaves rewritten by a step are native code."""

    rewritten: set[Frame] = field(default_factory=set)

    def judge(self, leaf: Frame) -> tuple[Category, Evidence | None]:
        if leaf in self.rewritten:
            return "native", "native frames"
        return super().judge(leaf)


@dataclass(frozen=True)
class Applied:
    """A profile with one more step applied."""

    profile: Profile
    faster: float
    """Weight (before the step) of the samples the step made faster."""


def apply_step(
    profile: Profile,
    judge: _StepJudge,
    classifier: Classifier,
    key: FunctionKey,
    endpoint: str | None,
    library: str | None,
    k: float,
) -> Applied:
    """``profile`` with the samples under ``key`` that get faster divided by ``k`` and their
    leaves marked native (in ``judge``). ``endpoint``: only that endpoint's samples;
    ``library``: the samples entering that library below ``key`` (a drop-in replaces the
    whole call), else those whose leaf is interpreted Python."""
    frames = profile.frames
    functions = [f.function for f in frames]
    lib_of: dict[FunctionKey, str | None] = {}
    if library is not None:
        for fn in set(functions):
            is_lib = classifier.kind(fn.name, fn.file) == "library" and not framework_of(fn.file)
            lib_of[fn] = package_of(fn.file) if is_lib else None
    endpoint_of = [dict(labels).get(ENDPOINT) for labels in profile.label_sets]
    out = profile.filter(lambda _labels: False)  # frames, requests and metadata; no samples
    lid_of = [out.intern_labels(labels) for labels in profile.label_sets]
    samples: dict[tuple[Stack, int], float] = {}
    faster = 0.0
    for (stack, lid), w in profile.samples.items():
        hit = bool(stack) and (endpoint is None or endpoint_of[lid] == endpoint)
        if hit:
            leaf = frames[stack[-1]]
            fns = [functions[f] for f in stack]
            hit = leaf not in judge.rewritten and key in fns
        if hit:
            if library is not None:
                below = fns[fns.index(key) + 1 :]
                hit = next((lib_of[fn] for fn in below if lib_of[fn] is not None), None) == library
            else:
                hit = judge.judge(leaf)[0] == "python"
        at = lid_of[lid]
        if not hit:
            samples[stack, at] = samples.get((stack, at), 0.0) + w
            continue
        faster += w
        marked = Frame(leaf.name, leaf.file, REWRITTEN_LINE, leaf.first_line)
        judge.rewritten.add(marked)
        new = (*stack[:-1], out.intern_frame(marked))
        samples[new, at] = samples.get((new, at), 0.0) + (w / k if k > 0 else w)
    out.samples = samples
    return Applied(out, faster)


def advise_with_plan(
    profile: Profile, cg: CallGraph, classifier: Classifier, options: AdvisorOptions
) -> tuple[list[Candidate], Plan]:
    """The advisor's candidates and their extraction plan."""
    adv = advice(profile, cg, classifier, options)
    return adv.candidates, plan_extractions(adv, cg, classifier, options)


def plan_extractions(
    adv: Advice, cg: CallGraph, classifier: Classifier, options: AdvisorOptions
) -> Plan:
    """The plan of :data:`PLAN_RULE` over ``adv``'s recommended candidates (``cg``: the call
    graph they were measured on)."""
    pool = [c for c in adv.candidates if c.recommendation != "leave"]
    if not pool:
        return Plan([], [], PLAN_RULE, "no candidate is recommended, so there is nothing to plan")
    if not adv.cpu.samples:
        return Plan(
            [],
            [PlanLeft(c.target, c.kind, "not planned: no stacks") for c in pool],
            PLAN_RULE,
            "exact call statistics (cProfile) record no stacks, so the samples that "
            "overlapping candidates share cannot be told apart: no plan; each candidate's "
            "saving stands alone",
        )
    base = adv.judge
    judge = _StepJudge(
        base.classifier,
        _statements=base._statements,
        _cache=base._cache,
        _loops=base._loops,
        _sources=base._sources,
    )
    total, n = adv.total, adv.n
    current, current_cg = adv.cpu, cg
    steps: list[PlanStep] = []
    regions: list[
        tuple[Measured, list[tuple[str, str]]]
    ] = []  # per step: its measurements, what it covers
    left: list[PlanLeft] = []
    faster_sum = saved_sum = 0.0
    remaining = list(pool)
    while remaining:
        remaining = _drop_covered(remaining, adv, steps, regions, left)
        if not remaining:
            break
        judged = _judge_again(remaining, adv, current, current_cg, classifier, judge, options)
        eligible = [
            (c, m, v)
            for c, m, v in judged
            if m is not None and v is not None and v.recommendation != "leave"
        ]
        kept = {id(c) for c, _m, _v in eligible}
        for c, _m, v in judged:  # after a step: a candidate the advisor would now leave
            if id(c) not in kept:
                why = v.reasons[0] if v is not None and v.reasons else "below the listing share"
                left.append(PlanLeft(c.target, c.kind, f"after step {len(steps)}: {why}"))
        if not eligible:
            break
        c, m, v = max(eligible, key=lambda j: (j[2].score, j[2].saving_share[1], j[0].target))
        e = estimate(m, total, n, options)
        k = speedup_for(m, options)
        key = m.key if m.key is not None else FunctionKey(c.target, "")
        applied = apply_step(
            current,
            judge,
            classifier,
            key,
            c.target if c.kind == "endpoint" else None,
            e.library[0] if e.library is not None else None,
            k,
        )
        step_faster = applied.faster / total
        faster_sum += step_faster
        saved_sum += step_faster * gain_of(k)
        if n:
            lo, hi = wilson(faster_sum * n, n, options.z)
            scale = saved_sum / faster_sum if faster_sum else 0.0
            cumulative = (lo * scale, hi * scale)
        else:
            cumulative = (saved_sum, saved_sum)
        cores_saved, money = cost(cumulative, adv.cores, options)
        covers: list[tuple[str, str]] = []
        steps.append(
            PlanStep(
                number=len(steps) + 1,
                target=c.target,
                kind=c.kind,
                entry=key.name,
                recommendation=c.recommendation,
                speedup=k,
                saving=step_faster * gain_of(k),
                saving_share=v.saving_share,
                cumulative=saved_sum,
                cumulative_share=cumulative,
                cores_saved=cores_saved,
                money_per_month=money,
                covers=covers,
            )
        )
        regions.append((m, covers))
        remaining = [r for r in remaining if r is not c and id(r) in kept]
        current = applied.profile
        current_cg = build_callgraph(current)
    return Plan(steps, left, PLAN_RULE)


_Judged = tuple[Candidate, Measured | None, Candidate | None]


def _drop_covered(
    remaining: list[Candidate],
    adv: Advice,
    steps: Sequence[PlanStep],
    regions: Sequence[tuple[Measured, list[tuple[str, str]]]],
    left: list[PlanLeft],
) -> list[Candidate]:
    """The candidates whose entry lies in no earlier step's region; the others are noted as
    covered by the first step that holds them."""
    out = []
    for c in remaining:
        key = adv.measured[c.kind, c.target].key
        held = (i for i, (m, _c) in enumerate(regions) if key is not None and key in m.region)
        at = next(held, None)
        if at is None:
            out.append(c)
            continue
        step = steps[at]
        regions[at][1].append((c.target, c.kind))
        left.append(
            PlanLeft(
                c.target,
                c.kind,
                f"covered by step {step.number} ({step.target}): its entry is inside that "
                "step's region, whose samples that step already counts",
            )
        )
    return out


def _judge_again(
    cands: list[Candidate],
    adv: Advice,
    current: Profile,
    current_cg: CallGraph,
    classifier: Classifier,
    judge: _StepJudge,
    options: AdvisorOptions,
) -> list[_Judged]:
    """Each candidate measured on ``current`` and judged by the advisor's verdict, with the
    original profile's total, sample count and cores (savings stay shares of the original
    CPU) and the original split of wall time (the profile a step changes is CPU only)."""
    if current is adv.cpu:
        # Nothing applied yet: the advisor's own candidates are the verdicts.
        return [(c, adv.measured[c.kind, c.target], c) for c in cands]
    measured, children = measure(current, current_cg, classifier, judge, options)
    by = {(m.kind, m.key if m.kind == "function" else m.target): m for m in measured}
    inclusive = {k: f.inclusive for k, f in current_cg.functions.items()}
    out: list[_Judged] = []
    for c in cands:
        m0 = adv.measured[c.kind, c.target]
        m = by.get((c.kind, m0.key if c.kind == "function" else c.target))
        if m is None:
            out.append((c, None, None))
            continue
        m = replace(m, target=m0.target, cpu_bound=m0.cpu_bound, waits=m0.waits)
        v = verdict_of(m, adv.total, adv.n, adv.cores, options, inclusive, children)
        out.append((c, m, v))
    return out

"""The extraction plan: the advisor's overlapping candidates as ordered, non-overlapping steps.

The advisor judges every candidate on the whole profile, so its savings overlap: a view, the
helper under it and the kernel under that each claim the kernel's samples. The plan takes the
recommended candidates one at a time and applies each step to the profile before choosing the
next, so no sample is saved twice:

1. a candidate whose entry lies inside the region of an earlier step is covered by it;
2. every other candidate's measurements are brought up to date with the earlier steps
   (:class:`PlanState`: the advisor's tallies of the samples a step rewrote, before and
   after) and judged by the advisor's own verdict
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

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hotpath.analysis.advisor import Advice, advice, verdict_of
from hotpath.analysis.callgraph import CallGraph
from hotpath.analysis.classify import Classifier, framework_of, package_of
from hotpath.analysis.evidence import FrameIndex, Measured, Tally, plus, tally_stacks
from hotpath.analysis.nativeness import Category, Evidence, LeafJudge
from hotpath.analysis.options import AdvisorOptions
from hotpath.analysis.results import Candidate, Plan, PlanLeft, PlanStep
from hotpath.analysis.stacktable import entries, last_slot, store_arrays
from hotpath.analysis.verdict import cost, estimate, gain_of, speedup_for, wilson
from hotpath.model import ENDPOINT, Frame, FunctionKey, Profile, Samples, Stack, unchecked_frame

__all__ = [
    "PLAN_RULE",
    "Applied",
    "PlanState",
    "add_tally",
    "advise_with_plan",
    "apply_step",
    "plan_extractions",
]

PLAN_RULE = (
    "greedy by saving: each step is the recommended candidate saving the most (low end of "
    "its interval) on the profile with the earlier steps applied; candidates inside an "
    "earlier step's region are covered by it; the plan stops when the advisor would leave "
    "every remaining candidate in Python"
)
REWRITTEN_LINE = -1
"""The line of a leaf frame a step rewrote: no frame read from a file has a negative line
(:class:`~hotpath.model.Frame` makes it None), so a marked leaf never equals a real one."""


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
    """A profile with one more step applied, and the samples the step rewrote."""

    profile: Profile
    faster: float
    """Weight (before the step) of the samples the step made faster."""
    rewritten: list[tuple[Stack, Stack, int, float, float]]
    """(stack before, stack after, label set id, weight before, weight after) per sample."""


def apply_step(
    profile: Profile,
    judge: _StepJudge,
    classifier: Classifier,
    key: FunctionKey,
    endpoint: str | None,
    library: str | None,
    k: float,
    functions: list[FunctionKey] | None = None,
    whole: bool = False,
) -> Applied:
    """``profile`` with the samples under ``key`` that get faster divided by ``k`` and their
    leaves marked native (in ``judge``). ``endpoint``: only that endpoint's samples;
    ``library``: the samples entering that library below ``key`` (a drop-in replaces the
    whole call); ``whole``: every sample under ``key`` (a replacement measured to stand in
    for the whole call); else those whose leaf is interpreted Python. Label set ids are kept.
    ``functions``: each frame's function, when the caller keeps that list."""
    frames = profile.frames
    if functions is None:
        functions = [f.function for f in frames]
    lib_of: dict[FunctionKey, str | None] = {}
    if library is not None:
        for fn in set(functions):
            is_lib = classifier.kind(fn.name, fn.file) == "library" and not framework_of(fn.file)
            lib_of[fn] = package_of(fn.file) if is_lib else None
    endpoint_of = [dict(labels).get(ENDPOINT) for labels in profile.label_sets]
    out = profile.filter(lambda _labels: False)  # frames, requests and metadata; no samples
    for labels in profile.label_sets:  # in order, so every label set keeps its id
        out.intern_labels(labels)
    rewritten: list[tuple[Stack, Stack, int, float, float]] = []
    faster = 0.0
    at_key = {i for i, fn in enumerate(functions) if fn == key}  # frames of the entry
    source = profile.samples
    store = source.store  # shared: the step's new stacks are added to it
    stack_of = store.stack
    rows = list(source.rows)
    weights = list(source.weights)
    lids = source.lids
    hits = _entries_through(source, at_key)
    for i in hits:
        lid = lids[i]
        if endpoint is not None and endpoint_of[lid] != endpoint:
            continue
        stack = stack_of(rows[i])
        leaf = frames[stack[-1]]
        if leaf in judge.rewritten:
            continue
        if not whole:
            if library is not None:
                fns = [functions[f] for f in stack]
                below = fns[fns.index(key) + 1 :]
                if next((lib_of[fn] for fn in below if lib_of[fn] is not None), None) != library:
                    continue
            elif judge.judge(leaf)[0] != "python":
                continue
        w = weights[i]
        faster += w
        marked = unchecked_frame(leaf.name, leaf.file, REWRITTEN_LINE, leaf.first_line)
        judge.rewritten.add(marked)
        new = (*stack[:-1], out.intern_frame(marked))
        after = w / k if k > 0 else w
        rows[i] = store.intern(new)
        weights[i] = after
        rewritten.append((stack, new, lid, w, after))
    # Entries that now meet (two leaves rewritten to one) add up, in entry order.
    out.samples = source.with_entries(rows, lids, weights)
    return Applied(out, faster, rewritten)


def _entries_through(samples: Samples, frames: set[int]) -> list[int]:
    """The entries whose stack holds one of ``frames`` (ids), in order."""
    if not frames or not samples:
        return []
    flat, starts, ends = store_arrays(samples.store)
    marked = np.flatnonzero(np.isin(flat, np.fromiter(frames, dtype=np.int64)))
    through = last_slot(marked, starts, ends) >= 0  # per stack: a marked slot inside it
    rows = entries(samples)[0]
    hit: list[int] = np.flatnonzero(through[rows]).tolist()
    return hit


def add_tally(into: Tally, other: Tally, sign: float) -> None:
    """``into`` += ``sign`` x ``other``, field by field (a tally is a sum over samples)."""

    def add(d: dict[Any, float], o: dict[Any, float]) -> None:
        for k, v in o.items():
            d[k] = d.get(k, 0.0) + sign * v

    into.total += sign * other.total
    add(into.categories, other.categories)
    into.outside += sign * other.outside
    into.layer += sign * other.layer
    into.layer_classes = plus(into.layer_classes, other.layer_classes, sign)
    into.evidence |= other.evidence
    into.judged += sign * other.judged
    into.unread += sign * other.unread
    into.call_sites += sign * other.call_sites
    into.call_sites_in_loops += sign * other.call_sites_in_loops
    into.call_sites_known += sign * other.call_sites_known
    add(into.libraries, other.libraries)
    into.owners = plus(into.owners, other.owners, sign)


class PlanState:
    """The profile with the steps so far applied, and every remaining candidate's
    measurements on it.

    A tally is a sum over samples, so a step changes a candidate's measurements by what its
    rewritten samples weighed before and weigh after: those few samples are tallied (by the
    advisor's :func:`~hotpath.analysis.evidence.tally_stacks`) instead of the whole profile.
    The dominator tree does not change (a step changes weights and leaf frames, never which
    function calls which), nor does an endpoint's view.
    """

    def __init__(
        self, adv: Advice, classifier: Classifier, cg: CallGraph, watch: list[Candidate]
    ) -> None:
        base = adv.judge
        self.judge = _StepJudge(
            base.classifier,
            _statements=base._statements,
            _cache=base._cache,
            _loops=base._loops,
            _sources=base._sources,
        )
        self.adv = adv
        self.classifier = classifier
        self.profile = adv.cpu
        self.functions = [f.function for f in adv.cpu.frames]
        self.index = (
            copy.copy(adv.index) if adv.index is not None else FrameIndex(adv.cpu, classifier)
        )
        self.index.fn_of = list(self.index.fn_of)
        """Per-frame facts, extended by the frames the steps add (old frame ids stay)."""
        self.measured = dict(adv.measured)
        self.watch = list(dict.fromkeys((c.kind, c.target) for c in watch))
        """The candidates kept up to date (the plan's pool)."""
        self.inclusive = {k: f.inclusive for k, f in cg.functions.items()}
        self.steps = 0

    def apply(
        self,
        m: Measured,
        endpoint: str | None,
        library: str | None,
        k: float,
        whole: bool = False,
    ) -> float:
        """Apply one step (entry ``m.key``, see :func:`apply_step`); the weight of the
        samples it made faster."""
        key = m.key if m.key is not None else FunctionKey(m.target, "")
        applied = apply_step(
            self.profile,
            self.judge,
            self.classifier,
            key,
            endpoint,
            library,
            k,
            self.functions,
            whole=whole,
        )
        frames = applied.profile.frames  # a rewritten leaf is a new frame of the same function
        new = frames[len(self.functions) :]
        self.functions += [f.function for f in new]
        index = self.index
        index.fn_of += [index.id_of[f.function] for f in new]
        index.frames = frames
        self._update(applied)
        self.profile = applied.profile
        self.steps += 1
        return applied.faster

    def _update(self, applied: Applied) -> None:
        """Every watched candidate's measurements less its rewritten samples as they were,
        plus those samples as they are now."""
        rows = applied.rewritten
        before = [(old, lid, w) for old, _new, lid, w, _w2 in rows]
        after = [(new, lid, w2) for _old, new, lid, _w, w2 in rows]
        endpoint_of = [dict(labels).get(ENDPOINT) for labels in self.profile.label_sets]
        functions = self.functions
        # A new dict: the dispatcher rule caches its tree by the identity of this one.
        self.inclusive = dict(self.inclusive)
        for stack, _new, _lid, w, w2 in applied.rewritten:
            for fn in set(map(functions.__getitem__, stack)):
                self.inclusive[fn] = self.inclusive.get(fn, 0.0) + w2 - w
        # Functions in one pass over the samples; each endpoint over its own samples.
        groups: list[tuple[str | None, list[tuple[str, str]]]] = []
        fn_targets = [kt for kt in self.watch if kt[0] == "function"]
        if fn_targets:
            groups.append((None, fn_targets))
        groups += [(kt[1], [kt]) for kt in self.watch if kt[0] == "endpoint"]
        for ep, targets in groups:
            ms = {kt: self.measured[kt] for kt in targets}
            entries = {m.key: m.region for m in ms.values() if m.key is not None}
            tallies = {kt: _copy(m.tally) for kt, m in ms.items()}
            weights = {kt: m.weight for kt, m in ms.items()}
            for samples, sign in ((before, -1.0), (after, 1.0)):
                picked = [(st, w) for st, lid, w in samples if ep is None or endpoint_of[lid] == ep]
                got = tally_stacks(self.index, picked, entries, self.judge)
                moved = sum(w for _st, w in picked)
                for kt, m in ms.items():
                    if m.key is None:
                        continue
                    g = got[m.key]
                    add_tally(tallies[kt], g, sign)
                    if ep is None:
                        weights[kt] += sign * g.total
                    else:
                        # Samples of the endpoint outside its view stay framework time.
                        weights[kt] += sign * moved
                        tallies[kt].outside += sign * (moved - g.total)
                        tallies[kt].total += sign * (moved - g.total)
            for kt, m in ms.items():
                self.measured[kt] = replace(m, tally=tallies[kt], weight=max(0.0, weights[kt]))

    def verdict(self, c: Candidate, options: AdvisorOptions) -> tuple[Measured, Candidate]:
        """The advisor's verdict on a candidate as the profile now stands (savings as shares
        of the original CPU; the original split of wall time: a step changes CPU only)."""
        m = self.measured[c.kind, c.target]
        if not self.steps:
            return m, c  # nothing applied yet: the advisor's own verdict
        adv = self.adv
        v = verdict_of(m, adv.total, adv.n, adv.cores, options, self.inclusive, adv.children)
        return m, v


def _copy(t: Tally) -> Tally:
    out = Tally()
    add_tally(out, t, 1.0)
    return out


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
    state = PlanState(adv, classifier, cg, pool)
    total, n = adv.total, adv.n
    steps: list[PlanStep] = []
    regions: list[tuple[Measured, list[tuple[str, str]]]] = []  # per step: what it covers
    left: list[PlanLeft] = []
    faster_sum = saved_sum = 0.0
    remaining = list(pool)
    while remaining:
        remaining = _drop_covered(remaining, adv, steps, regions, left)
        if not remaining:
            break
        judged = [(c, *state.verdict(c, options)) for c in remaining]
        eligible = [j for j in judged if j[2].recommendation != "leave"]
        for c, _m, v in judged:  # after a step: a candidate the advisor would now leave
            if v.recommendation == "leave":
                why = v.reasons[0] if v.reasons else "left in Python"
                left.append(PlanLeft(c.target, c.kind, f"after step {len(steps)}: {why}"))
        if not eligible:
            break
        c, m, v = max(eligible, key=lambda j: (j[2].score, j[2].saving_share[1], j[0].target))
        e = estimate(m, total, n, options)
        speedup = speedup_for(m, options)
        k = speedup.k
        faster = state.apply(
            m,
            c.target if c.kind == "endpoint" else None,
            e.library[0] if e.library is not None and not speedup.whole else None,
            k,
            whole=speedup.whole,
        )
        step_faster = faster / total
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
                entry=m.key.name if m.key is not None else c.target,
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
        kept = {id(j[0]) for j in eligible}
        remaining = [r for r in remaining if r is not c and id(r) in kept]
    return Plan(steps, left, PLAN_RULE)


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

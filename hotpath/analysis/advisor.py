"""The advisor: which hot paths to rewrite in Rust, in which shape, and what it would save.

For each candidate (an app function's dominator region, or an endpoint) this module measures
the evidence: share, where its wall time goes (on CPU, waiting for I/O or a lock, waiting for
a core or the GIL), pure-Python fraction, isolation, granularity, the library it runs in.
:mod:`hotpath.analysis.verdict` turns the measurements into the verdict and Amdahl's saving.
docs/advisor.md explains every number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from hotpath.analysis.brief import write_brief
from hotpath.analysis.callgraph import ROOT, CallGraph, build_callgraph
from hotpath.analysis.classify import Classifier, framework_of
from hotpath.analysis.dominators import dominator_tree
from hotpath.analysis.evidence import (
    FrameIndex,
    Measured,
    Waits,
    native_fractions,
    tally_stacks,
    tally_stats,
)
from hotpath.analysis.nativeness import LeafJudge
from hotpath.analysis.options import DEFAULT_RUST_SPEEDUP, AdvisorOptions, ObservedBoundary
from hotpath.analysis.region_index import RegionIndex
from hotpath.analysis.regions import drop_nested, endpoint_shapes, find_branches
from hotpath.analysis.results import Candidate
from hotpath.analysis.stacktable import StackTable, by_stack, entries, first_of_each
from hotpath.analysis.verdict import (
    HOURS_PER_MONTH,
    Estimate,
    blocking_reasons,
    confidence,
    cost,
    estimate,
    granularity,
    recommend,
    unread_source,
    where_time_goes,
    wilson,
)
from hotpath.model import (
    ENDPOINT,
    IDLE,
    STATE,
    FunctionKey,
    Profile,
    Stack,
    cpu_view,
    wall_view,
)

__all__ = [
    "DEFAULT_RUST_SPEEDUP",
    "HOURS_PER_MONTH",
    "Advice",
    "AdvisorOptions",
    "advice",
    "advise",
    "measure",
    "measured_cores",
    "sample_count",
    "verdict_of",
    "wilson",
]


def sample_count(profile: Profile, wall: Profile | None = None) -> float | None:
    """How many samples the weights stand for (None: not a sampled profile, or unknown).

    CPU seconds spread over sampled stacks (per-thread clocks) rest on the samples of the
    threads that were running, not on CPU seconds / interval: on an oversubscribed server a
    thread is on a core a third of the time, and counting CPU seconds would make every
    share look three times less certain than it is. So with wall samples recorded, the
    active (not idle) wall samples are the count when they are more."""
    if not profile.samples:
        return None
    meta = profile.meta
    if meta.unit == "samples":
        return profile.total
    if meta.interval_s:
        n = profile.total / meta.interval_s
        if wall is not None and wall is not profile and meta.unit == "seconds":
            active = sum(
                w
                for (_s, lid), w in wall.samples.items()
                if (STATE, IDLE) not in wall.label_sets[lid]
            )
            n = max(n, active / meta.interval_s)
        return n
    return float(meta.sample_count) if meta.sample_count else None


def measured_cores(profile: Profile) -> float | None:
    meta = profile.meta
    if not meta.duration_s:
        return None
    if meta.unit == "seconds":
        return profile.total / meta.duration_s
    if meta.unit == "samples" and meta.interval_s:
        return profile.total * meta.interval_s / meta.duration_s
    return None


def advise(
    profile: Profile, cg: CallGraph, classifier: Classifier, options: AdvisorOptions
) -> list[Candidate]:
    """Candidates (functions, then endpoints merged), best first by score."""
    return advice(profile, cg, classifier, options).candidates


@dataclass(frozen=True)
class Advice:
    """The candidates, and what they were measured on (the extraction plan measures the
    same candidates again on the profile with its earlier steps applied)."""

    candidates: list[Candidate]
    measured: dict[tuple[str, str], Measured]
    """(kind, target) -> the measurements behind each candidate."""
    cpu: Profile
    judge: LeafJudge
    total: float
    n: float | None
    cores: float | None
    children: dict[FunctionKey, list[FunctionKey]] = field(default_factory=dict)
    """The dominator tree the candidates were measured with."""
    index: FrameIndex | None = None
    """Their per-frame facts (None without stacks)."""


def advice(
    profile: Profile, cg: CallGraph, classifier: Classifier, options: AdvisorOptions
) -> Advice:
    """:func:`advise`'s candidates with the measurements behind them."""
    wall = wall_view(profile)
    profile = cpu_view(profile)
    judge = LeafJudge(classifier)
    if cg.total <= 0:
        return Advice([], {}, profile, judge, cg.total, None, None)
    measured, children, index = measure(profile, cg, classifier, judge, options)
    if wall is not profile and wall.samples:
        measured = _with_cpu_bound(measured, build_callgraph(wall), wall, profile, judge)
    n = sample_count(profile, wall if wall.samples else None)
    cores = options.cores if options.cores is not None else measured_cores(profile)
    inclusive = {k: f.inclusive for k, f in cg.functions.items()}
    out = [verdict_of(m, cg.total, n, cores, options, inclusive, children) for m in measured]
    out = endpoint_shapes(out, measured)
    out.sort(key=lambda c: (-c.score, -c.share, c.target))
    by_target = {m.target: m for m in measured}
    out = _keep_proved(
        out, _drop_library_duplicates(drop_nested(out, measured)), by_target, options
    )
    cands = [
        replace(
            c,
            brief=write_brief(
                c,
                by_target[c.target],
                cg,
                judge,
                _boundary(by_target[c.target], options),
                options.hop_cost_s,
            ),
        )
        if c.recommendation != "leave"
        else c
        for c in out
    ]
    by_kind = {(m.kind, m.target): m for m in measured}
    return Advice(cands, by_kind, profile, judge, cg.total, n, cores, children, index)


def _keep_proved(
    ranked: list[Candidate],
    kept: list[Candidate],
    by_target: dict[str, Measured],
    options: AdvisorOptions,
) -> list[Candidate]:
    """``kept``, with every function the user measured a replacement for or captured calls of
    (``--replay``, ``--capture``) back in its place when it was dropped as nested in another
    recommendation: that function's own saving is the question asked. On the sample
    monolith the kernel ``edit_distance`` sits inside ``rank_candidates``; when both were
    advised the same shape, the kernel was dropped and ``demo --prove`` had no prediction."""
    ids = {id(c) for c in kept}

    def proved(c: Candidate) -> bool:
        key = by_target[c.target].key
        return key is not None and (
            options.measured_for(key.name, key.file) is not None
            or options.boundary_for(key.name, key.file) is not None
        )

    back = [c for c in ranked if c.kind == "function" and id(c) not in ids and proved(c)]
    out = list(kept)
    rank = {id(c): i for i, c in enumerate(ranked)}
    for c in back:  # before the first kept candidate ranked after it
        at = next((j for j, d in enumerate(out) if rank[id(d)] > rank[id(c)]), len(out))
        out.insert(at, c)
    return out


def measure(
    cpu: Profile, cg: CallGraph, classifier: Classifier, judge: LeafJudge, options: AdvisorOptions
) -> tuple[list[Measured], dict[FunctionKey, list[FunctionKey]], FrameIndex | None]:
    """Every candidate's measurements on the CPU view ``cpu`` (functions, then endpoints;
    no wall-time split), the dominator tree and the frame index they were measured with."""
    children = dominator_tree(cg)
    index = FrameIndex(cpu, classifier) if cpu.samples else None
    measured = _function_candidates(cpu, cg, classifier, judge, children, options, index)
    measured += _endpoint_candidates(cpu, cg, judge, children, options, index)
    return measured, children, index


def _boundary(m: Measured, options: AdvisorOptions) -> ObservedBoundary | None:
    if m.key is None or not options.boundaries:
        return None
    return options.boundary_for(m.key.name, m.key.file)


def _library_path(c: Candidate) -> tuple[str, str] | None:
    """(library, owner) of a recommended library path, from its evidence."""
    text = c.evidence.get("library")
    if c.recommendation == "leave" or not text:
        return None
    return text.split(" ", 1)[0], text.rsplit("called from ", 1)[-1]


def _drop_library_duplicates(cands: list[Candidate]) -> list[Candidate]:
    """An endpoint advised to replace the library that a recommended function (the app
    function owning the call) is advised to replace says the same thing twice: the
    function's row is the one to act on."""
    by_function = {_library_path(c) for c in cands if c.kind == "function"} - {None}
    return [c for c in cands if not (c.kind == "endpoint" and _library_path(c) in by_function)]


def _with_cpu_bound(
    measured: list[Measured], wall_cg: CallGraph, wall: Profile, cpu: Profile, judge: LeafJudge
) -> list[Measured]:
    """Where each candidate's wall time goes, and its CPU-bound fraction.

    Per stack, off-CPU time is its wall weight less its CPU weight (idle samples are all
    off CPU). It is waiting for I/O or a lock when the stack's leaf is a blocking call (a
    socket, select/poll, sleep, a database call, a lock or condition wait, a queue get), and
    waiting for a core or the GIL otherwise: 4 threads running Python on 2 cores are off the
    CPU half the time, and that wait shrinks when the code gets faster. CPU-bound = CPU /
    (CPU + waiting for I/O): only waiting for I/O is "I/O-bound"."""
    frames = wall.frames
    cpu_at: dict[tuple[Stack, str | None], float] = {}
    for (stack, lid), w in cpu.samples.items():
        key = (stack, dict(cpu.label_sets[lid]).get(ENDPOINT))
        cpu_at[key] = cpu_at.get(key, 0.0) + w
    wall_at: dict[tuple[Stack, str | None], float] = {}
    for (stack, lid), w in wall.samples.items():
        key = (stack, dict(wall.label_sets[lid]).get(ENDPOINT))
        wall_at[key] = wall_at.get(key, 0.0) + w
    keys = {m.key for m in measured if m.kind != "endpoint" and m.key is not None}
    blocked_fn: dict[FunctionKey, float] = {}
    blocked_ep: dict[str, float] = {}
    ep_wall: dict[str, float] = {}
    leaves_fn: dict[FunctionKey, dict[str, float]] = {}
    leaves_ep: dict[str, dict[str, float]] = {}
    for (stack, ep), w in wall_at.items():
        if ep is not None:
            ep_wall[ep] = ep_wall.get(ep, 0.0) + w
        off = w - cpu_at.get((stack, ep), 0.0)
        if off <= 0 or not stack:
            continue
        leaf = frames[stack[-1]]
        if judge.judge(leaf)[0] not in ("io", "db"):
            continue  # runnable: waiting for a core or the GIL
        category = judge.judge(leaf)[0]
        name = f"{leaf.name}'s database call" if category == "db" else leaf.name
        if ep is not None:
            blocked_ep[ep] = blocked_ep.get(ep, 0.0) + off
            by = leaves_ep.setdefault(ep, {})
            by[name] = by.get(name, 0.0) + off
        for k in {frames[f].function for f in stack} & keys:
            blocked_fn[k] = blocked_fn.get(k, 0.0) + off
            by = leaves_fn.setdefault(k, {})
            by[name] = by.get(name, 0.0) + off
    out = []
    for m in measured:
        if m.kind == "endpoint":
            wall_w = ep_wall.get(m.target, 0.0)
            blocked = blocked_ep.get(m.target, 0.0)
            leaves = leaves_ep.get(m.target, {})
        else:
            f = wall_cg.functions.get(m.key) if m.key is not None else None
            wall_w = f.inclusive if f is not None else 0.0
            blocked = blocked_fn.get(m.key, 0.0) if m.key is not None else 0.0
            leaves = leaves_fn.get(m.key, {}) if m.key is not None else {}
        if wall_w <= 0:
            out.append(replace(m, cpu_bound=None))
            continue
        on_cpu = min(1.0, m.weight / wall_w)
        blocked_frac = min(1.0 - on_cpu, blocked / wall_w)
        top = tuple(sorted(leaves, key=lambda n: (-leaves[n], n))[:3])
        waits = Waits(on_cpu, blocked_frac, max(0.0, 1.0 - on_cpu - blocked_frac), top)
        bound = min(1.0, m.weight / (m.weight + blocked)) if m.weight + blocked > 0 else None
        out.append(replace(m, cpu_bound=bound, waits=waits))
    return out


def _function_candidates(
    profile: Profile,
    cg: CallGraph,
    classifier: Classifier,
    judge: LeafJudge,
    children: dict[FunctionKey, list[FunctionKey]],
    options: AdvisorOptions,
    index: FrameIndex | None,
) -> list[Measured]:
    picked = [
        f
        for f in cg.ranked("inclusive")
        if f.key != ROOT
        and f.inclusive / cg.total >= options.list_share
        and classifier.kind(f.key.name, f.key.file) == "app"
        and not framework_of(f.key.file)
        and not f.key.name.startswith("<")
    ]
    tree = RegionIndex(children, ROOT)  # regions as intervals: no set per function
    regions = {f.key: tree.region(f.key) for f in picked}
    if index is not None:
        # The tally ignores labels: add each stack up once first (py-spy's speedscope files
        # hold one profile per thread, so the same stack comes once per thread: 100,771
        # samples but 29,856 stacks in the 320 MB benchmark file).
        same = cg.stacks is not None and cg.samples_of is profile.samples
        table = cg.stacks if same and cg.stacks is not None else by_stack(profile)
        tallies = tally_stacks(index, table, regions, judge)
    else:
        fracs = native_fractions(cg, classifier, options.native_call_s)
        tallies = {
            k: tally_stats(cg, k, r, classifier, options.native_call_s, fracs)
            for k, r in regions.items()
        }
    names = Counter(f.key.name for f in picked)  # a count per name: list.count was quadratic
    out = []
    for f in picked:
        calls = f.calls
        per_call = (
            f.inclusive / calls if calls and cg.unit == "seconds" and not profile.samples else None
        )
        out.append(
            Measured(
                target=f.key.name if names[f.key.name] == 1 else str(f.key),
                kind="function",
                key=f.key,
                region=regions[f.key],
                tally=tallies[f.key],
                weight=f.inclusive,
                callers=len(cg.callers(f.key)),
                per_call_s=per_call,
                requests=None,
            )
        )
    return out


def _endpoint_candidates(
    profile: Profile,
    cg: CallGraph,
    judge: LeafJudge,
    children: dict[FunctionKey, list[FunctionKey]],
    options: AdvisorOptions,
    index: FrameIndex | None,
) -> list[Measured]:
    # One sort groups the samples by endpoint (a profile may have hundreds of endpoints).
    endpoint_of = [dict(labels).get(ENDPOINT) for labels in profile.label_sets]
    names = sorted({ep for ep in endpoint_of if ep is not None})
    if not names or index is None:
        return []
    code = {ep: i for i, ep in enumerate(names)}
    ep_of_lid = np.asarray([-1 if ep is None else code[ep] for ep in endpoint_of], dtype=np.int64)
    rows, lids, weights = entries(profile.samples)
    eps = ep_of_lid[lids]
    order = np.argsort(eps, kind="stable")  # each endpoint's entries in sample order
    bounds = np.searchsorted(eps[order], np.arange(len(names) + 1))
    out = []
    tree = RegionIndex(children, ROOT)
    for i, ep in enumerate(names):
        mine = order[bounds[i] : bounds[i + 1]]
        if not len(mine):
            continue
        mine_w = weights[mine]
        weight = sum(mine_w.tolist())
        # Listed like functions: from list_share of the CPU up (hundreds of small endpoints
        # would each cost a pass over their samples to say "too small").
        if weight <= 0 or weight < options.list_share * cg.total:
            continue
        table = StackTable.of_rows(profile.samples.store, rows[mine], mine_w)
        entry, seen = _entry_of(index, table, weight)
        if entry is None:
            continue
        # The view's region, as far as this endpoint's samples reach into it.
        region = tree.region(entry) & seen
        tally = tally_stacks(index, table, {entry: region}, judge)[entry]
        # Samples of the endpoint outside its view (routing, serialising) stay framework time.
        tally.outside += weight - tally.total
        tally.categories["python"] = tally.categories.get("python", 0.0)
        tally.total = weight
        rs = profile.requests.get(ep)
        per_request = None
        if rs is not None and rs.count:
            per_request = rs.cpu_s / rs.count if rs.cpu_s else None
        out.append(
            Measured(
                ep,
                "endpoint",
                entry,
                frozenset(region),
                tally,
                weight,
                None,
                per_request,
                rs.count if rs is not None else None,
            )
        )
    return out


def _entry_of(
    index: FrameIndex, table: StackTable, weight: float
) -> tuple[FunctionKey | None, frozenset[FunctionKey]]:
    """The innermost app function present in >= 90% of an endpoint's weight (its view),
    and every function seen in the endpoint's samples."""
    fa = index.arrays()
    n = len(index.keys)
    incl = np.zeros(n, dtype=np.float64)
    depth = np.full(n, -1, dtype=np.int64)
    for part in table.chunks():
        sid = part.sid()
        fns = fa.fn_of[part.flat]
        once = first_of_each(sid * n + fns)  # a function counts once per stack
        np.add.at(incl, fns[once], part.weights[sid[once]])
        # Depth of a function: its deepest outermost call (a recursive view counts once).
        np.maximum.at(depth, fns[once], once - part.starts[sid[once]])
    present = np.flatnonzero(depth >= 0)
    reached = frozenset(index.keys[fn] for fn in present.tolist())
    heavy = present[(incl[present] >= 0.9 * weight) & fa.app[present] & ~fa.bad[present]]
    best = heavy.tolist()
    if not best:
        return None, reached
    deepest = depth.tolist()
    return index.keys[max(best, key=lambda fn: (deepest[fn], index.keys[fn]))], reached


def verdict_of(
    m: Measured,
    total: float,
    n: float | None,
    cores: float | None,
    options: AdvisorOptions,
    cg_inclusive: dict[FunctionKey, float],
    children: dict[FunctionKey, list[FunctionKey]],
) -> Candidate:
    """One candidate's verdict: numbers, blocking rules, shape, prose, cost (see verdict)."""
    e = estimate(m, total, n, options)
    branches = find_branches(m, cg_inclusive, children) if m.kind == "function" else []
    blocking = blocking_reasons(m, e, options, branches)
    shape = granularity(m, options)
    reasons = list(blocking)
    recommendation = "leave"
    if not blocking:
        recommendation, why = recommend(m, e, options, shape)
        reasons.append(why)
        isolated = f"{0 if e.isolation is None else e.isolation:.0%} isolated"
        what = (
            f"{e.library[1]:.0%} of its time in {e.library[0]} ({e.pure:.0%} interpreted "
            f"Python), {isolated}; k is the drop-in's per-call speed-up"
            if e.library is not None
            else f"{e.pure:.0%} interpreted Python, {isolated}"
        )
        if e.k is not None:
            what = f"k {e.k[0]:.3g}x-{e.k[1]:.3g}x {e.measured}"
            k_said = "the measured k"
        else:
            k_said = f"k = {options.rust_speedup:g}x"
        reasons.append(f"saves {e.saving[0]:.1%}-{e.saving[1]:.1%} of the CPU at {k_said}: {what}")
        if e.k is None and e.measured is not None:
            reasons.append(e.measured)
        for caveat in (where_time_goes(m), unread_source(m)):
            if caveat is not None:
                reasons.append(caveat)
    cores_saved, money = cost(e.saving, cores, options)
    return Candidate(
        target=m.target,
        kind=m.kind,
        recommendation=recommendation,
        score=e.saving[0] if recommendation != "leave" else 0.0,
        share=e.share,
        cpu_bound=m.cpu_bound,
        pure_python=e.pure if e.evidenced else None,
        isolation=e.isolation,
        saving_share=e.saving,
        reasons=reasons,
        file=m.key.file if m.key else "",
        line=None,
        evidence=_evidence(m, e, shape[1], n, options),
        confidence=confidence(e, bool(blocking), options),
        samples=e.seen,
        share_interval=e.share_interval,
        callers=m.callers,
        per_call_s=m.per_call_s,
        granularity=shape[0],
        speedup=(1 / (1 - e.saving[0]), 1 / (1 - e.saving[1])) if e.saving[1] < 1 else None,
        cores_saved=cores_saved,
        money_per_month=money,
    )


def _evidence(
    m: Measured, e: Estimate, grain_detail: str, n: float | None, options: AdvisorOptions
) -> dict[str, str]:
    """Which evidence each number came from."""
    t = m.tally
    w = m.waits
    evidence = {
        "pure_python": ", ".join(sorted(t.evidence))
        or "assumed interpreted (no native frames, no source, no Python file)",
        "cpu_bound": (
            f"CPU vs wall: {w.on_cpu:.0%} on CPU, {w.blocked:.0%} waiting for I/O or a lock, "
            f"{w.runnable:.0%} waiting for a core or the GIL"
            if w is not None
            else "unknown (no idle or wall samples recorded)"
        ),
        "isolation": "dominator region" if m.kind == "function" else "dominator region of the view",
        "granularity": grain_detail,
        "share": "exact call statistics"
        if n is None
        else f"{n:.0f} samples, Wilson {options.z:g} sigma",
    }
    if e.library is not None:
        name, frac, owner = e.library
        evidence["library"] = f"{name} ({frac:.0%} of its time), called from {owner}"
    if e.measured is not None:
        evidence["speedup"] = e.measured
    if m.kind == "endpoint" and m.key is not None:
        evidence["view"] = str(m.key)
    return evidence

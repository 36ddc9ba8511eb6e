"""The advisor: which hot paths to rewrite in Rust, in which shape, and what it would save.

For each candidate (an app function's dominator region, or an endpoint) the evidence is
share, CPU-bound fraction, pure-Python fraction, isolation and granularity; the gain is
Amdahl's law: saved CPU share = on-CPU share x pure-Python fraction x (1 - 1/k) for an
assumed Rust speed-up k (the share is already on-CPU, so the CPU-bound fraction gates the
I/O-bound verdict instead of being multiplied in twice). Sample counts are binomial, so
shares come with Wilson intervals and a candidate seen in a dozen samples is reported as
too small, not as a finding. docs/advisor.md explains every number.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hotpath.analysis.brief import write_brief
from hotpath.analysis.callgraph import ROOT, CallGraph, build_callgraph
from hotpath.analysis.classify import Classifier, framework_of
from hotpath.analysis.dominators import dominator_tree, region_of
from hotpath.analysis.evidence import (
    FrameIndex,
    Measured,
    native_fractions,
    tally_stacks,
    tally_stats,
)
from hotpath.analysis.nativeness import LeafJudge
from hotpath.analysis.options import AdvisorOptions
from hotpath.analysis.regions import drop_nested, endpoint_shapes, find_branches
from hotpath.analysis.results import Candidate
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

HOURS_PER_MONTH = 730.0


def wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n."""
    if n <= 0:
        return (0.0, 0.0)
    p = min(max(k / n, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def sample_count(profile: Profile) -> float | None:
    """How many samples the weights stand for (None: not a sampled profile, or unknown)."""
    if not profile.samples:
        return None
    meta = profile.meta
    if meta.unit == "samples":
        return profile.total
    if meta.interval_s:
        return profile.total / meta.interval_s
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
    if cg.total <= 0:
        return []
    wall = wall_view(profile)
    profile = cpu_view(profile)
    judge = LeafJudge(classifier)
    children = dominator_tree(cg)
    index = FrameIndex(profile, classifier) if profile.samples else None
    measured = _function_candidates(profile, cg, classifier, judge, children, options, index)
    measured += _endpoint_candidates(profile, cg, judge, children, options, index)
    if wall is not profile and wall.samples:
        measured = _with_cpu_bound(measured, build_callgraph(wall), wall, judge)
    n = sample_count(profile)
    cores = options.cores if options.cores is not None else measured_cores(profile)
    inclusive = {k: f.inclusive for k, f in cg.functions.items()}
    out = [_verdict(m, cg.total, n, cores, options, inclusive, children) for m in measured]
    out = endpoint_shapes(out, measured)
    out.sort(key=lambda c: (-c.score, -c.share, c.target))
    out = drop_nested(out, measured)
    by_target = {m.target: m for m in measured}
    return [
        replace(c, brief=write_brief(c, by_target[c.target], cg, judge))
        if c.recommendation != "leave"
        else c
        for c in out
    ]


def _with_cpu_bound(
    measured: list[Measured], wall_cg: CallGraph, wall: Profile, judge: LeafJudge
) -> list[Measured]:
    """CPU-bound fraction: a candidate's CPU weight over its wall weight (idle included),
    less the idle time spent runnable rather than blocked.

    A thread that is off the CPU while its sampled line runs plain Python (source read under
    the root: no I/O, database or C call on it) was waiting for a core or for the GIL, not for
    I/O: on an oversubscribed server a pure-Python kernel is off the CPU half the time, and
    that is contention a Rust rewrite relieves, not I/O it cannot. Without the source, idle
    time counts as waiting (the cautious reading)."""
    keys = {m.key for m in measured if m.kind != "endpoint" and m.key is not None}
    runnable_fn: dict[FunctionKey, float] = {}
    runnable_ep: dict[str, float] = {}
    ep_wall: dict[str, float] = {}
    frames = wall.frames
    for (stack, lid), w in wall.samples.items():
        labels = dict(wall.label_sets[lid])
        ep = labels.get(ENDPOINT)
        if ep is not None:
            ep_wall[ep] = ep_wall.get(ep, 0.0) + w
        if labels.get(STATE) != IDLE or not stack:
            continue
        if judge.judge(frames[stack[-1]]) != ("python", "source lines"):
            continue
        if ep is not None:
            runnable_ep[ep] = runnable_ep.get(ep, 0.0) + w
        for k in {frames[f].function for f in stack} & keys:
            runnable_fn[k] = runnable_fn.get(k, 0.0) + w
    out = []
    for m in measured:
        if m.kind == "endpoint":
            wall_w = ep_wall.get(m.target, 0.0) - runnable_ep.get(m.target, 0.0)
        else:
            f = wall_cg.functions.get(m.key) if m.key is not None else None
            wall_w = f.inclusive if f is not None else 0.0
            wall_w -= runnable_fn.get(m.key, 0.0) if m.key is not None else 0.0
        bound = min(1.0, m.weight / wall_w) if wall_w > 0 else None
        out.append(replace(m, cpu_bound=bound))
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
    regions = {f.key: region_of(children, f.key) for f in picked}
    if index is not None:
        # The tally ignores labels: add each stack up once first (py-spy's speedscope files
        # hold one profile per thread, so the same stack comes once per thread: 100,771
        # samples but 29,856 stacks in the 320 MB benchmark file).
        stacks: dict[Stack, float] = {}
        for (st, _lid), w in profile.samples.items():
            stacks[st] = stacks.get(st, 0.0) + w
        tallies = tally_stacks(index, stacks.items(), regions, judge)
    else:
        fracs = native_fractions(cg, classifier, options.native_call_s)
        tallies = {
            k: tally_stats(cg, k, r, classifier, options.native_call_s, fracs)
            for k, r in regions.items()
        }
    names = [f.key.name for f in picked]
    out = []
    for f in picked:
        calls = f.calls
        per_call = (
            f.inclusive / calls if calls and cg.unit == "seconds" and not profile.samples else None
        )
        out.append(
            Measured(
                target=f.key.name if names.count(f.key.name) == 1 else str(f.key),
                kind="function",
                key=f.key,
                region=frozenset(regions[f.key]),
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
    # One pass groups the samples by endpoint (a profile may have hundreds of endpoints).
    endpoint_of = [dict(labels).get(ENDPOINT) for labels in profile.label_sets]
    by_endpoint: dict[str, list[tuple[Stack, float]]] = {}
    for (stack, lid), w in profile.samples.items():
        ep = endpoint_of[lid]
        if ep is not None:
            by_endpoint.setdefault(ep, []).append((stack, w))
    if not by_endpoint or index is None:
        return []
    out = []
    for ep in sorted(by_endpoint):
        samples = by_endpoint[ep]
        weight = sum(w for _s, w in samples)
        # Listed like functions: from list_share of the CPU up (hundreds of small endpoints
        # would each cost a pass over their samples to say "too small").
        if weight <= 0 or weight < options.list_share * cg.total:
            continue
        entry, seen = _entry_of(index, samples, weight)
        if entry is None:
            continue
        # The view's region, as far as this endpoint's samples reach into it.
        region = region_of(children, entry) & seen
        tally = tally_stacks(index, samples, {entry: region}, judge)[entry]
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
    index: FrameIndex, samples: list[tuple[Stack, float]], weight: float
) -> tuple[FunctionKey | None, frozenset[FunctionKey]]:
    """The innermost app function present in >= 90% of an endpoint's weight (its view),
    and every function seen in the endpoint's samples."""
    incl: dict[int, float] = {}
    get = incl.get
    fn_at = index.fn_of.__getitem__
    stacks = []
    for stack, w in samples:
        fns = tuple(map(fn_at, stack))  # C loops build each stack's functions; Python adds
        stacks.append(fns)
        for fn in set(fns):
            incl[fn] = get(fn, 0.0) + w
    best = [
        fn for fn, w in incl.items() if w >= 0.9 * weight and index.app[fn] and index.outside_ok[fn]
    ]
    reached = frozenset(index.keys[fn] for fn in incl)
    if not best:
        return None, reached
    # Depth of a function: its deepest outermost call (a recursive view counts once).
    depth = dict.fromkeys(best, 0)
    for fns in stacks:
        for fn in depth.keys() & fns:
            depth[fn] = max(depth[fn], fns.index(fn))
    return index.keys[max(best, key=lambda fn: (depth[fn], index.keys[fn]))], reached


def _verdict(
    m: Measured,
    total: float,
    n: float | None,
    cores: float | None,
    options: AdvisorOptions,
    cg_inclusive: dict[FunctionKey, float],
    children: dict[FunctionKey, list[FunctionKey]],
) -> Candidate:
    t = m.tally
    z = options.z
    share = min(1.0, m.weight / total)  # pyinstrument's float sums can overshoot by 1e-3
    seen = share * n if n else None
    share_iv = wilson(seen, n, z) if n and seen is not None else (share, share)
    pure = t.python / t.total if t.total else 0.0
    cpu_bound = m.cpu_bound
    isolation = max(0.0, 1 - t.outside / t.total) if t.total else None
    layer = t.layer / t.total if t.total else 0.0
    gain = 1 - 1 / options.rust_speedup if options.rust_speedup > 0 else 0.0
    python_share = share * pure
    lo, hi = wilson(python_share * n, n, z) if n else (python_share, python_share)
    # Without evidence for most of the region (no native frames, no readable source line),
    # "interpreted" is an assumption: the saving is only an upper bound.
    evidenced = t.total > 0 and t.judged >= 0.5 * t.total
    if not evidenced:
        lo = 0.0
    # share is already an on-CPU share (idle samples are not in the CPU view), so the
    # CPU-bound fraction must not be multiplied in a second time.
    saving = (lo * gain, hi * gain)

    blocking: list[str] = []
    if seen is not None and seen < options.min_samples:
        blocking.append(f"too small: seen in only {seen:.0f} samples, not a finding")
    elif share_iv[0] < options.min_share:
        blocking.append(
            f"too small: {share:.1%} of the CPU (interval {share_iv[0]:.1%}-{share_iv[1]:.1%}), "
            f"below the {options.min_share:.0%} worth a rewrite"
        )
    io = t.share("io")
    db, native = t.share("db"), t.share("native")
    # Native code first: that its time is in C is read off its frames and lines, while its
    # time off the CPU may be I/O or a wait for a core (on the loaded demo, SQLite and json
    # calls were off the CPU two thirds of the time).
    if db + native >= 0.5 and io < 0.5:
        what = (
            "database calls that run in the database engine's C code"
            if db >= native
            else "C extensions and builtins (json, zlib, regex, ...)"
        )
        blocking.append(f"already native: {db + native:.0%} of its time is in {what}")
    if cpu_bound is not None and cpu_bound < 0.5:
        blocking.append(
            f"I/O-bound: only {cpu_bound:.0%} of its samples are on CPU; waiting does not get "
            "faster in Rust"
        )
    elif io >= 0.5:
        blocking.append(f"I/O-bound: {io:.0%} of its time is in file, socket or sleep calls")
    if isolation is not None and isolation < 0.5:
        blocking.append(
            f"too entangled: {1 - isolation:.0%} of its time is in code outside its region "
            "(shared callees, framework, ORM) that a rewrite would have to call back into"
        )
    elif layer >= 0.5 and len(t.layer_classes) >= 2:
        names = ", ".join(sorted(t.layer_classes, key=lambda c: -t.layer_classes[c])[:4])
        blocking.append(
            f"too entangled: {layer:.0%} of its time is in methods of {len(t.layer_classes)} "
            f"classes ({names}): an object layer such as an ORM whose objects would have to "
            "cross the boundary"
        )

    branches = find_branches(m, cg_inclusive, children) if m.kind == "function" else []
    if len(branches) >= 3 and not any("too entangled" in r for r in blocking):
        blocking.append(
            f"too entangled: a dispatcher, its time splits over {len(branches)} unrelated paths "
            f"({', '.join(branches[:4])}); extract those paths, not the dispatcher"
        )
    if not evidenced and not blocking:
        blocking.append(
            "not enough evidence: no native frames and no source line under --source-root "
            "for most of its samples, so whether its time is interpreted Python is unknown "
            "(record with py-spy --native, or pass the source root)"
        )
    granularity, detail = _granularity(m, options)
    reasons = list(blocking)
    if blocking:
        recommendation = "leave"
    elif granularity == "fine":
        recommendation = "extension"
        reasons.append(
            f"too fine-grained for a network hop: {detail}; an in-process extension (PyO3) "
            "avoids the hop"
        )
    elif granularity == "coarse":
        recommendation = "microservice"
        reasons.append(
            f"coarse-grained: {detail}; a network hop (~{options.hop_cost_s * 1e3:.1f} ms) is "
            "small against it (an in-process extension fits as well)"
        )
    else:
        recommendation = "extension"
        reasons.append(f"granularity unknown ({detail}): an in-process extension is the safe shape")
    if not blocking:
        reasons.append(
            f"{pure:.0%} interpreted Python, {0 if isolation is None else isolation:.0%} isolated; "
            f"saves {saving[0]:.1%}-{saving[1]:.1%} of the CPU at {options.rust_speedup:g}x"
        )
    evidence = {
        "pure_python": ", ".join(sorted(t.evidence))
        or "assumed interpreted (no native frames, no source under --source-root)",
        "cpu_bound": "CPU vs wall samples"
        if cpu_bound is not None
        else "unknown (no idle or wall samples recorded)",
        "isolation": "dominator region" if m.kind == "function" else "dominator region of the view",
        "granularity": detail,
        "share": "exact call statistics" if n is None else f"{n:.0f} samples, Wilson {z:g} sigma",
    }
    if m.kind == "endpoint" and m.key is not None:
        evidence["view"] = str(m.key)
    cores_saved = (saving[0] * cores, saving[1] * cores) if cores else None
    money = (
        (
            cores_saved[0] * options.core_hour_price * HOURS_PER_MONTH,
            cores_saved[1] * options.core_hour_price * HOURS_PER_MONTH,
        )
        if cores_saved and options.core_hour_price is not None
        else None
    )
    if seen is None:
        confidence = "exact"
    elif (blocking and seen < options.min_samples) or not evidenced:
        confidence = "low"
    else:
        confidence = "high" if seen >= 100 and share_iv[0] >= options.min_share else "medium"
    return Candidate(
        target=m.target,
        kind=m.kind,
        recommendation=recommendation,
        score=saving[0] if recommendation != "leave" else 0.0,
        share=share,
        cpu_bound=cpu_bound,
        pure_python=pure if evidenced else None,
        isolation=isolation,
        saving_share=saving,
        reasons=reasons,
        file=m.key.file if m.key else "",
        line=None,
        evidence=evidence,
        confidence=confidence,
        samples=seen,
        share_interval=share_iv,
        callers=m.callers,
        per_call_s=m.per_call_s,
        granularity=granularity,
        speedup=(1 / (1 - saving[0]), 1 / (1 - saving[1])) if saving[1] < 1 else None,
        cores_saved=cores_saved,
        money_per_month=money,
    )


def _granularity(m: Measured, options: AdvisorOptions) -> tuple[str | None, str]:
    threshold = 10 * options.hop_cost_s
    if m.per_call_s is not None:
        what = "per request" if m.kind == "endpoint" else "per call"
        detail = f"{m.per_call_s * 1e3:.3g} ms CPU {what}"
        return ("fine" if m.per_call_s < threshold else "coarse"), detail
    if m.kind == "endpoint":
        return "coarse", "a whole request, already behind a network hop"
    t = m.tally
    if t.call_sites and t.call_sites_known >= 0.5 * t.call_sites:
        loops = t.call_sites_in_loops / t.call_sites_known
        if loops >= 0.5:
            return "fine", f"{loops:.0%} of its sampled call sites are inside loops"
        return (
            "coarse",
            f"called once per caller call ({1 - loops:.0%} of call sites outside loops)",
        )
    return None, "no call counts, call sites not in readable source"

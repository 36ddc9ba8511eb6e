"""The extraction plan on overlapping candidates: no sample is saved twice.

Every plan is checked against a brute-force recount written here from the plan's definition
(docs/advisor.md, "The extraction plan"): walk the steps in order; a sample not yet rewritten
whose stack holds the step's entry (and, for an endpoint, carries its label) and whose leaf
runs interpreted Python is rewritten: it then weighs 1/k. Each step's saving is what it took
off the profile; the profile's total after the last step is the original less the cumulative
saving.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from hotpath.analysis.advisor import advice, measure
from hotpath.analysis.callgraph import build_callgraph
from hotpath.analysis.classify import make_classifier
from hotpath.analysis.nativeness import LeafJudge
from hotpath.analysis.options import AdvisorOptions, AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.analysis.plan import PlanState
from hotpath.analysis.recognize import label_endpoints
from hotpath.analysis.results import Analysis, Plan
from hotpath.formats import read_profile
from hotpath.model import ENDPOINT, Frame, Profile, cpu_view
from tests.analysis.conftest import REPO, SAMPLE, profile_of

APP = "app.py"
SOURCE = """\
def main(items):
    view(items)
    other(items)
    view2(items)


def view(items):
    total = 0
    for x in items:
        total += kernel(x)
    return total


def helper(items):
    count = 0
    for x in items:
        count += kernel(x)
    return count


def kernel(x):
    n = 0
    n += len(x) * 3
    return n


def other(items):
    return sorted(items)


def view2(items):
    y = 1
    for x in items:
        y += kernel(x)
    return y


def rec(n):
    if n > 0:
        return rec(n - 1)
    return n * 2


def nested(items):
    s = 0
    s += helper(items)
    return s
"""
MAIN = ("main", APP, 2)
MAIN2 = ("main", APP, 4)
VIEW = ("view", APP, 10)
VIEW_OWN = ("view", APP, 8)
VIEW2 = ("view2", APP, 34)
VIEW2_OWN = ("view2", APP, 32)
KERNEL = ("kernel", APP, 23)
HELPER = ("helper", APP, 17)
HELPER_OWN = ("helper", APP, 15)
NESTED = ("nested", APP, 46)
NESTED_OWN = ("nested", APP, 45)
OTHER = [("main", APP, 3), ("other", APP, 28), ("sorted", "", 0)]
"""Time in a builtin (native): never a candidate, but part of the total."""

Stacks = list[tuple[list[tuple[str, str, int]], float, dict[str, str] | None]]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    (tmp_path / APP).write_text(SOURCE)
    return tmp_path


def _analyze(p: Profile, root: Path | None, **advisor: float) -> Analysis:
    opts = AnalyzeOptions(
        source_root=None if root is None else str(root),
        advisor=AdvisorOptions(**advisor),  # type: ignore[arg-type]
    )
    return analyze(p, opts)


def recount(
    profile: Profile, plan: Plan, interpreted: Callable[[Frame], bool]
) -> tuple[list[float], float]:
    """Each step's saving (share of the original total) and the total after every step
    (endpoints as the analysis names them: by the middleware's label, else from the stack)."""
    samples = [
        ([f.name for f in frames], dict(labels).get(ENDPOINT), frames[-1] if frames else None, w)
        for frames, labels, w in cpu_view(label_endpoints(profile)).iter_samples()
    ]
    total = sum(w for *_rest, w in samples)
    weight = [w for *_rest, w in samples]
    rewritten: set[int] = set()
    savings = []
    for step in plan.steps:
        saved = 0.0
        for i, (names, endpoint, leaf, w) in enumerate(samples):
            if i in rewritten or leaf is None or step.entry not in names:
                continue
            if not interpreted(leaf):
                continue
            if step.kind == "endpoint" and endpoint != step.target:
                continue
            rewritten.add(i)
            weight[i] = w / step.speedup
            saved += w - weight[i]
        savings.append(saved / total)
    return savings, sum(weight) / total


def _python_leaf(leaf: Frame) -> bool:
    return leaf.file == APP


def check_against_recount(
    profile: Profile, a: Analysis, interpreted: Callable[[Frame], bool] = _python_leaf
) -> Plan:
    """The plan's savings are the recount's, the cumulative is their sum and what the
    profile lost, and the first step saves what the advisor said its candidate saves."""
    plan = a.plan
    assert plan is not None and plan.steps
    savings, after = recount(profile, plan, interpreted)
    for step, saved in zip(plan.steps, savings, strict=True):
        assert step.saving == pytest.approx(saved, abs=1e-9), step.target
        lo, hi = step.saving_share
        assert lo <= step.saving <= hi
        lo, hi = step.cumulative_share
        assert lo <= step.cumulative <= hi
    assert [s.cumulative for s in plan.steps] == pytest.approx(
        [sum(savings[: i + 1]) for i in range(len(savings))]
    )
    assert plan.steps[-1].cumulative == pytest.approx(1 - after)
    first = next(c for c in a.candidates or [] if c.target == plan.steps[0].target)
    assert plan.steps[0].saving_share == first.saving_share
    return plan


def _steps(plan: Plan) -> list[str]:
    return [s.target for s in plan.steps]


def _left(plan: Plan) -> dict[str, str]:
    return {f"{x.target} ({x.kind})": x.reason for x in plan.left}


def test_plan_view_over_helper_over_kernel_is_one_step(src: Path) -> None:
    # nested -> helper -> kernel: each dominates the next; the advisor recommends nested
    # (coarse: a microservice) and kernel (called in a loop: an extension), each claiming
    # the kernel's 500 samples.
    p = profile_of(
        [
            ([MAIN, NESTED, HELPER, KERNEL], 500, None),
            ([MAIN, NESTED, HELPER_OWN], 150, None),
            ([MAIN, NESTED_OWN], 150, None),
            (OTHER, 200, None),
        ]
    )
    a = _analyze(p, src)
    rec = {c.target: c for c in a.candidates or [] if c.recommendation != "leave"}
    assert {"nested", "kernel"} <= set(rec)
    naive = sum(c.saving_share[0] for c in rec.values())
    plan = check_against_recount(p, a)
    assert _steps(plan) == ["nested"]
    assert plan.steps[0].saving == pytest.approx(0.8 * 0.9)
    assert plan.steps[-1].cumulative_share[1] < naive  # the naive sum counts the kernel twice
    assert "covered by step 1 (nested)" in _left(plan)["kernel (function)"]
    assert ("kernel", "function") in plan.steps[0].covers


def test_plan_endpoints_sharing_a_kernel_save_it_once(src: Path) -> None:
    # kernel is called from three views: inside no view's region. Each view's interpreted
    # time includes the kernel's samples under it; the kernel's holds all three views' share.
    p = profile_of(
        [
            ([MAIN, VIEW, KERNEL], 300, {"endpoint": "GET /a"}),
            ([MAIN, VIEW_OWN], 350, {"endpoint": "GET /a"}),
            ([MAIN2, VIEW2, KERNEL], 300, {"endpoint": "GET /b"}),
            ([MAIN2, VIEW2_OWN], 350, {"endpoint": "GET /b"}),
            ([MAIN, NESTED, KERNEL], 300, {"endpoint": "GET /c"}),
            ([MAIN, NESTED_OWN], 350, {"endpoint": "GET /c"}),
            (OTHER, 100, None),
        ]
    )
    a = _analyze(p, src)
    rec = {c.target for c in a.candidates or [] if c.recommendation != "leave"}
    assert {"kernel", "view", "view2", "nested"} <= rec
    plan = check_against_recount(p, a)
    # The kernel saves the most (900 samples), then each view its own 350.
    assert _steps(plan)[0] == "kernel"
    assert set(_steps(plan)[1:]) == {"view", "view2", "nested"}
    total = 2050
    assert [s.saving for s in plan.steps] == pytest.approx(
        [900 / total * 0.9] + [350 / total * 0.9] * 3
    )
    assert plan.steps[-1].cumulative == pytest.approx(1950 / total * 0.9)
    left = _left(plan)
    for ep in ("GET /a (endpoint)", "GET /b (endpoint)", "GET /c (endpoint)"):
        assert ep not in left or "covered by" in left[ep]


def test_plan_views_first_then_the_shared_kernel_is_left(src: Path) -> None:
    # Each view's own time outweighs the shared kernel: the views go first, and what is
    # left of the kernel is already in Rust (both views' kernel samples were rewritten).
    p = profile_of(
        [
            ([MAIN, VIEW, KERNEL], 250, {"endpoint": "GET /a"}),
            ([MAIN, VIEW_OWN], 450, {"endpoint": "GET /a"}),
            ([MAIN2, VIEW2, KERNEL], 250, {"endpoint": "GET /b"}),
            ([MAIN2, VIEW2_OWN], 400, {"endpoint": "GET /b"}),
            (OTHER, 150, None),
        ]
    )
    a = _analyze(p, src)
    naive = sum(c.saving_share[0] for c in a.candidates or [] if c.recommendation != "leave")
    plan = check_against_recount(p, a)
    assert _steps(plan)[:2] == ["view", "view2"]
    assert "kernel" not in _steps(plan)
    assert "after step 2" in _left(plan)["kernel (function)"]
    assert plan.steps[-1].cumulative == pytest.approx(1350 / 1500 * 0.9)
    assert naive > 1.0 > plan.steps[-1].cumulative_share[1]


def test_plan_recursion_counts_a_stack_once(src: Path) -> None:
    rec = ("rec", APP, 41)
    rec_leaf = ("rec", APP, 42)
    p = profile_of(
        [
            ([MAIN, VIEW_OWN], 100, None),
            ([MAIN, VIEW, KERNEL], 200, None),
            ([MAIN2, VIEW2, rec, rec, rec, rec_leaf], 500, None),
            ([MAIN2, VIEW2, rec, rec_leaf], 100, None),
            ([MAIN2, VIEW2, KERNEL], 100, None),
            (OTHER, 100, None),
        ]
    )
    a = _analyze(p, src)
    plan = check_against_recount(p, a)
    # 1,000 of the 1,100 samples run interpreted Python: at k = 10, 90% of those can go.
    assert plan.steps[-1].cumulative <= 1000 / 1100 * 0.9 + 1e-9


def test_plan_follows_the_speedup(src: Path) -> None:
    p = profile_of(
        [
            ([MAIN, VIEW, KERNEL], 250, {"endpoint": "GET /a"}),
            ([MAIN, VIEW_OWN], 450, {"endpoint": "GET /a"}),
            ([MAIN2, VIEW2, KERNEL], 250, {"endpoint": "GET /b"}),
            ([MAIN2, VIEW2_OWN], 400, {"endpoint": "GET /b"}),
            (OTHER, 100, None),
        ]
    )
    a = _analyze(p, src, rust_speedup=4.0, cores=2.0, core_hour_price=0.1)
    plan = check_against_recount(p, a)
    assert all(s.speedup == 4.0 for s in plan.steps)
    last = plan.steps[-1]
    assert last.cumulative == pytest.approx(1350 / 1450 * 0.75)
    assert last.cores_saved == pytest.approx(tuple(2.0 * x for x in last.cumulative_share))
    assert last.money_per_month is not None


def test_plan_without_a_recommendation_says_so(src: Path) -> None:
    p = profile_of([(OTHER, 1000, None)])
    plan = _analyze(p, src).plan
    assert plan is not None and not plan.steps and plan.note


@functools.cache
def monolith_recording() -> tuple[Profile, Analysis]:
    """py-spy's recording of the demo monolith and its analysis (read once per session)."""
    profile = read_profile(str(SAMPLE / "pyspy.raw.txt"))
    return profile, _analyze(profile, REPO)


@functools.cache
def call_statistics() -> Analysis:
    """The cProfile recording of the demo monolith, analysed once per session."""
    return analyze(read_profile(str(SAMPLE / "cprofile.pstats")))


def test_plan_of_call_statistics_is_none_with_a_reason() -> None:
    a = call_statistics()
    assert a.plan is not None and not a.plan.steps
    assert a.plan.note is not None and "no stacks" in a.plan.note
    assert {x.target for x in a.plan.left} == {
        c.target for c in a.candidates or [] if c.recommendation != "leave"
    }


def test_plan_on_the_sample_monolith_recording() -> None:
    # py-spy's recording of the demo monolith: the kernel path first (the kernel, its caller
    # and the kernel endpoint are one step, whichever the advisor ranks first), then the
    # tags view; nothing counted twice.
    profile, a = monolith_recording()
    judge = LeafJudge(make_classifier(str(REPO)))
    plan = check_against_recount(profile, a, lambda leaf: judge.judge(leaf)[0] == "python")
    kernel = {"rank_candidates", "edit_distance", "kernel_view"}
    assert plan.steps[0].target in kernel and _steps(plan)[1:] == ["tags_view"]
    rec = {c.target for c in a.candidates or [] if c.recommendation != "leave"}
    left = _left(plan)
    for name in (kernel & rec) - {plan.steps[0].target}:
        kinds = [k for k in left if k.startswith(f"{name} (")]
        assert kinds and all("covered by step 1" in left[k] for k in kinds), name
    naive = sum(c.saving_share[0] for c in a.candidates or [] if c.recommendation != "leave")
    assert plan.steps[-1].cumulative_share[0] < naive


@pytest.mark.parametrize("name", ["pyspy.speedscope.json", "pyinstrument.pyisession.gz"])
def test_plan_on_other_recordings_of_the_monolith(name: str) -> None:
    # Recorded on another machine: no source root applies, everything not a library is app.
    profile = read_profile(str(SAMPLE / name))
    a = _analyze(profile, None)
    judge = LeafJudge(make_classifier(None))
    plan = check_against_recount(profile, a, lambda leaf: judge.judge(leaf)[0] == "python")
    kernel = {"edit_distance", "rank_candidates", "kernel_view"}
    assert plan.steps[0].target in kernel
    assert not kernel & set(_steps(plan)[1:])  # the kernel path is one step


@pytest.mark.parametrize(
    ("name", "root"), [("pyspy.speedscope.json", None), ("pyspy.raw.txt", REPO)]
)
def test_plan_state_matches_the_advisor_measuring_the_applied_profile(
    name: str, root: Path | None
) -> None:
    # The plan updates each candidate's tally by the samples a step rewrote; measuring the
    # whole applied profile again with the advisor's own code must give the same numbers.
    classifier = make_classifier(None if root is None else str(root))
    profile = label_endpoints(read_profile(str(SAMPLE / name)))
    cg = build_callgraph(cpu_view(profile))
    options = AdvisorOptions()
    adv = advice(profile, cg, classifier, options)
    pool = [c for c in adv.candidates if c.recommendation != "leave"]
    state = PlanState(adv, classifier, cg, pool)
    compared = 0
    for c in pool[:3]:
        state.apply(
            state.measured[c.kind, c.target], None if c.kind == "function" else c.target, None, 10.0
        )
        again, _tree, _index = measure(
            state.profile, build_callgraph(state.profile), classifier, state.judge, options
        )
        fresh = {(m.kind, m.target if m.kind == "endpoint" else m.key): m for m in again}
        for (kind, target), m in state.measured.items():
            if (kind, target) not in state.watch:
                continue
            f = fresh.get((kind, target if kind == "endpoint" else m.key))
            if f is None or f.key != m.key:
                continue  # below the listing share now, or an endpoint's view moved
            assert m.weight == pytest.approx(f.weight), target
            t, u = m.tally, f.tally
            assert t.total == pytest.approx(u.total), target
            assert t.outside == pytest.approx(u.outside, abs=1e-9), target
            assert t.layer == pytest.approx(u.layer, abs=1e-9), target
            for cat in ("python", "native", "db", "io"):
                assert t.categories.get(cat, 0.0) == pytest.approx(
                    u.categories.get(cat, 0.0), abs=1e-9
                ), (target, cat)
            for lib in t.libraries.keys() | u.libraries.keys():
                assert t.libraries.get(lib, 0.0) == pytest.approx(
                    u.libraries.get(lib, 0.0), abs=1e-9
                ), (target, lib)
            compared += 1
    assert compared >= 3


def test_plan_step_standing_in_for_the_whole_call_rewrites_its_c_time_too(src: Path) -> None:
    # A replacement measured on the real calls replaces the whole call, C parts included;
    # samples an earlier step rewrote are not rewritten again.
    p = profile_of(
        [
            ([MAIN, VIEW, KERNEL], 400, None),
            ([MAIN, VIEW, ("sorted", "", 0)], 200, None),
            ([MAIN, VIEW_OWN], 100, None),
            (OTHER, 300, None),
        ]
    )
    classifier = make_classifier(str(src))
    cg = build_callgraph(p)
    options = AdvisorOptions()
    adv = advice(p, cg, classifier, options)
    pool = [c for c in adv.candidates if c.recommendation != "leave"]
    state = PlanState(adv, classifier, cg, pool)
    kernel = state.measured["function", "kernel"]
    view = state.measured["function", "view"]
    assert state.apply(kernel, None, None, 10.0) == 400
    assert state.apply(view, None, None, 5.0, whole=True) == 300  # 200 in C, 100 its own
    assert state.profile.total == pytest.approx(40 + 300 / 5 + 300)
    assert state.measured["function", "view"].weight == pytest.approx(40 + 60)

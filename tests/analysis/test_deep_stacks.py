"""A deep stack of distinct functions is analysed in near-linear time and memory.

Regions are preorder intervals (hotpath.analysis.region_index), the evidence tally tests a
stack's suffix by its preorder minimum and maximum, and the dispatcher search follows heavy
paths with a range-minimum table: each checked here against the plain algorithm it replaces,
on random trees and profiles. Memory is asserted (peak RSS of a grandchild), never time.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hotpath.analysis.advisor import advise
from hotpath.analysis.callgraph import ROOT, build_callgraph
from hotpath.analysis.classify import make_classifier
from hotpath.analysis.dominators import dominator_tree, region_of
from hotpath.analysis.evidence import FrameIndex, Measured, Tally, tally_stacks
from hotpath.analysis.nativeness import LeafJudge
from hotpath.analysis.options import AdvisorOptions
from hotpath.analysis.region_index import RegionIndex
from hotpath.analysis.regions import find_branches
from hotpath.model import Frame, FunctionKey, Metadata, Profile, cpu_view
from tests.test_limits import _peak_rss_mib


def _random_profile(seed: int, functions: int = 40, stacks: int = 300) -> Profile:
    rng = random.Random(seed)
    profile = Profile(Metadata())
    ids = [profile.intern_frame(Frame(f"f{i}", f"m{i % 5}.py", i)) for i in range(functions)]
    for _ in range(stacks):
        depth = rng.randint(1, 12)
        stack = [ids[0]] + [
            rng.choice(ids[: 1 + rng.randint(1, functions - 1)]) for _ in range(depth)
        ]
        profile.add(tuple(stack), float(rng.randint(1, 20)))
    return profile


def _stepwise_branches(
    m: Measured, inclusive: dict[FunctionKey, float], children: dict[FunctionKey, list[FunctionKey]]
) -> list[str]:
    """The walk find_branches replaced: one sorted step per dominator-tree level."""
    if m.key is None or m.weight <= 0:
        return []
    node = m.key
    for _ in range(len(m.region)):
        kids = sorted(((inclusive.get(k, 0.0), k) for k in children.get(node, ())), reverse=True)
        heavy = [(w, k) for w, k in kids if w >= 0.05 * m.weight]
        if (
            len(heavy) >= 3
            and heavy[0][0] < 0.6 * m.weight
            and sum(w for w, _ in heavy) >= 0.5 * m.weight
        ):
            return [k.name for _w, k in heavy]
        if not heavy or heavy[0][0] < 0.5 * m.weight:
            return []
        node = heavy[0][1]
    return []


@pytest.mark.parametrize("seed", range(12))
def test_regions_branches_and_tallies_match_the_plain_algorithms(seed: int) -> None:
    profile = cpu_view(_random_profile(seed))
    cg = build_callgraph(profile)
    children = dominator_tree(cg)
    tree = RegionIndex(children, ROOT)
    inclusive = {k: f.inclusive for k, f in cg.functions.items()}
    keys = [k for k in cg.functions if k != ROOT]
    for key in keys:
        plain = region_of(children, key)
        region = tree.region(key)
        assert set(region) == plain and len(region) == len(plain)
        assert all(k in region for k in plain) and not any(k in region for k in set(keys) - plain)
        m = Measured(key.name, "function", key, region, Tally(), inclusive[key], 1, None, None)
        assert find_branches(m, inclusive, children) == _stepwise_branches(m, inclusive, children)
    index = FrameIndex(profile, make_classifier(None))
    judge = LeafJudge(make_classifier(None))
    samples = [(st, w) for (st, _lid), w in profile.samples.items()]
    fast = tally_stacks(index, samples, {k: tree.region(k) for k in keys}, judge)
    plain_sets = tally_stacks(index, samples, {k: region_of(children, k) for k in keys}, judge)
    assert fast == plain_sets


def test_dispatcher_below_a_long_chain_is_still_found() -> None:
    """A router 3,000 levels down a chain of single calls: found without a step per level."""
    profile = Profile(Metadata())
    chain = tuple(profile.intern_frame(Frame(f"c{i}", "app.py", i)) for i in range(3000))
    for r in range(4):
        leaf = profile.intern_frame(Frame(f"route{r}", "app.py", 10_000 + r))
        profile.add((*chain, leaf), 25.0)
    cg = build_callgraph(profile)
    children = dominator_tree(cg)
    inclusive = {k: f.inclusive for k, f in cg.functions.items()}
    top = FunctionKey("c0", "app.py")
    m = Measured(
        "c0",
        "function",
        top,
        RegionIndex(children, ROOT).region(top),
        Tally(),
        100.0,
        1,
        None,
        None,
    )
    assert sorted(find_branches(m, inclusive, children)) == [f"route{r}" for r in range(4)]


def test_advisor_on_a_deep_chain_holds_regions_as_intervals() -> None:
    profile = Profile(Metadata())
    chain = tuple(profile.intern_frame(Frame(f"f{i}", f"m{i}.py", i)) for i in range(2000))
    profile.add(chain, 7.0)
    cg = build_callgraph(profile)
    cands = advise(profile, cg, make_classifier(None), AdvisorOptions())
    assert cands and cands[0].target == "f0"


def test_ten_thousand_distinct_frames_in_one_stack_in_bounded_memory(tmp_path: Path) -> None:
    """5,000 distinct frames took 1.17 GB (one region set per function) and 10,000 ran out of
    memory at 4 GB; intervals keep it near the size of the stack."""
    path = tmp_path / "deep.txt"
    deep = ";".join(f"f{i} (m{i}.py:{i})" for i in range(10_000))
    path.write_text(f"{deep} 7\na (x.py:1);b (y.py:2) 3\n")
    code, rss, stderr = _peak_rss_mib(
        ["analyze", str(path), "-f", "json", "-o", str(tmp_path / "r.json")], tmp_path
    )
    assert code == 0, stderr
    assert rss < 400, f"peak RSS {rss} MiB"
    assert '"name": "f9999"' in (tmp_path / "r.json").read_text()

"""The array tally (evidence.tally_stacks) against the per-stack Python loop it replaced.

Random profiles (24; 40 for the coverage check) mix app functions (plain, methods of a few
classes, comprehensions), two libraries under site-packages, a framework, C builtins and a
C-backed stdlib leaf, with recursion and repeated libraries; the two must give equal
tallies (whole-number weights, so every sum is exact in any order) for regions given as
preorder intervals, as plain sets, and both mixed, and for the endpoints' shape (one
entry, a set region).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from hotpath.analysis import stacktable
from hotpath.analysis.callgraph import ROOT, build_callgraph
from hotpath.analysis.classify import make_classifier
from hotpath.analysis.dominators import dominator_tree, region_of
from hotpath.analysis.evidence import FrameIndex, tally_stacks
from hotpath.analysis.nativeness import LeafJudge
from hotpath.analysis.region_index import RegionIndex
from hotpath.model import Frame, Metadata, Profile
from tests.analysis.reference_tally import reference_tally

_SITE = "/venv/lib/python3.11/site-packages"


def _functions(rng: random.Random) -> list[Frame]:
    out = [Frame("main", "/app/main.py", 1)]
    for i in range(14):
        cls = rng.choice(["", "", "Order.", "Invoice.", "Model."])
        name = cls + f"f{i}" + rng.choice(["", "", ".<locals>.<listcomp>"])
        out.append(Frame(name, f"/app/mod{i % 3}.py", 10 * i + rng.randint(0, 3)))
    out.append(Frame("<listcomp>", "/app/mod0.py", 5))  # a call site in a loop
    out.append(Frame(".odd", "/app/mod1.py", 9))  # class "" (a fuzzed name): still a class
    for lib in ("yaml", "markdown"):
        out += [Frame(f"{lib}_{j}", f"{_SITE}/{lib}/core{j}.py", j + 1) for j in range(4)]
    out += [Frame(f"view{j}", f"{_SITE}/django/core/h{j}.py", j + 1) for j in range(3)]
    out += [Frame("<built-in method loads>", "<built-in>", None)]
    out += [Frame("dumps", "/usr/lib/python3.11/json/__init__.py", 231)]
    return out


def _profile(seed: int) -> Profile:
    rng = random.Random(seed)
    profile = Profile(Metadata())
    ids = [profile.intern_frame(f) for f in _functions(rng)]
    for _ in range(rng.randint(20, 160)):
        depth = rng.randint(0, 14)
        stack = [ids[0]] + [rng.choice(ids[1:-2]) for _ in range(depth)]
        if rng.random() < 0.3:
            stack.append(rng.choice(ids[-2:]))
        if rng.random() < 0.1:  # another line of the caller: a distinct frame, one function
            f = profile.frames[stack[-1]]
            stack.append(profile.intern_frame(Frame(f.name, f.file, (f.line or 0) + 1)))
        labels = profile.intern_labels({"n": str(rng.randint(0, 2))})
        profile.add(tuple(stack), float(rng.randint(1, 9)), labels)
    return profile


@pytest.mark.parametrize("seed", range(24))
def test_array_tally_equals_the_per_stack_loop(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if seed % 2:  # chunks of a few stacks: rows summed across chunks as in one
        monkeypatch.setattr(stacktable, "CHUNK_SLOTS", 1 + seed % 7)
    profile = _profile(seed)
    cg = build_callgraph(profile)
    children = dominator_tree(cg)
    tree = RegionIndex(children, ROOT)
    classifier = make_classifier("/app")
    index = FrameIndex(profile, classifier)
    judge = LeafJudge(classifier)
    samples = [(st, w) for (st, _lid), w in profile.samples.items()]
    keys = sorted(k for k in cg.functions if k != ROOT)
    rng = random.Random(seed)
    picked = rng.sample(keys, min(len(keys), rng.randint(1, 12)))
    as_intervals = {k: tree.region(k) for k in picked}
    as_sets = {k: region_of(children, k) for k in picked}
    mixed = {k: (as_sets if i % 2 else as_intervals)[k] for i, k in enumerate(picked)}
    for entries in (as_intervals, as_sets, mixed):
        got = tally_stacks(index, samples, entries, judge)
        assert got == reference_tally(index, samples, entries, judge)
    table = stacktable.by_stack(profile)  # two-byte frame ids, labels added up
    merged = list(zip(table.tuples(), table.weights.tolist(), strict=True))
    assert table.flat.dtype == np.uint16
    assert tally_stacks(index, table, as_intervals, judge) == reference_tally(
        index, merged, as_intervals, judge
    )
    some = [kw for kw in samples if rng.random() < 0.5]
    one = {picked[0]: frozenset(tree.region(picked[0])) & frozenset(keys[: len(keys) // 2 + 1])}
    assert tally_stacks(index, some, one, judge) == reference_tally(index, some, one, judge)


def _features(tallies: object) -> set[str]:
    out = set()
    for t in tallies:  # type: ignore[attr-defined]
        for name in ("outside", "layer", "call_sites", "call_sites_in_loops", "judged"):
            if getattr(t, name):
                out.add(name)
        if t.libraries:
            out.add("libraries")
        if len(t.categories) > 1:
            out.add("categories")
    return out


def test_the_random_profiles_reach_every_part_of_the_tally() -> None:
    """The comparison above means something only if its profiles exercise every field."""
    seen: set[str] = set()
    for seed in range(40):
        profile = _profile(seed)
        cg = build_callgraph(profile)
        tree = RegionIndex(dominator_tree(cg), ROOT)
        classifier = make_classifier("/app")
        samples = [(st, w) for (st, _lid), w in profile.samples.items()]
        entries = {k: tree.region(k) for k in cg.functions if k != ROOT}
        index, judge = FrameIndex(profile, classifier), LeafJudge(classifier)
        got = tally_stacks(index, samples, entries, judge)
        seen.update(_features(got.values()))
    parts = {"outside", "layer", "call_sites", "call_sites_in_loops", "judged", "libraries"}
    assert seen >= parts | {"categories"}


def test_no_samples_and_no_entries_give_empty_tallies() -> None:
    profile = _profile(1)
    classifier = make_classifier("/app")
    index = FrameIndex(profile, classifier)
    judge = LeafJudge(classifier)
    key = profile.frames[0].function
    assert tally_stacks(index, [], {key: {key}}, judge) == reference_tally(
        index, [], {key: {key}}, judge
    )
    samples = [((), 3.0)]
    assert tally_stacks(index, samples, {key: {key}}, judge) == reference_tally(
        index, samples, {key: {key}}, judge
    )

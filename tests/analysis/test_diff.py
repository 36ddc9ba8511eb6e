"""diff_profiles on real recordings (fixtures/gate, made by fixtures/gate/record.py) and on
small hand-made profiles whose shares are counted by hand."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hotpath.analysis.diff import (
    DiffOptions,
    diff_profiles,
    diff_tree,
    estimate_dispersion,
    matches,
    module_of,
    normalize_file,
)
from hotpath.formats import read_profile
from hotpath.model import Frame, Profile

GATE = Path(__file__).resolve().parents[2] / "fixtures" / "gate"
PAIRS = 20


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, GATE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


workload = _load("workload")


def _pair(prefix: str, i: int) -> tuple[Profile, Profile]:
    base = read_profile(GATE / "data" / f"base-{i:02d}.hotpath.gz")
    return base, read_profile(GATE / "data" / f"{prefix}-{i:02d}.hotpath.gz")


def test_diff_same_code_recorded_separately_passes_in_20_pairs() -> None:
    alarms = []
    for i in range(PAIRS):
        result = diff_profiles(*_pair("same", i))
        if result.regressions:
            alarms.append((i, [c.name for c in result.regressions]))
    # Target 0 of 20; the issue allows at most 1 (5%).
    assert len(alarms) <= 1, alarms


def test_diff_monolith_same_code_pairs_pass() -> None:
    # The sample monolith (hotpath.demo, --batch) recorded twice per pair by
    # fixtures/gate/record_monolith.py.
    mono = GATE / "monolith"
    alarms = []
    for i in range(PAIRS):
        a = read_profile(mono / f"a-{i:02d}.hotpath.gz")
        b = read_profile(mono / f"b-{i:02d}.hotpath.gz")
        assert (a.meta.sample_count or 0) > 3000
        for order, (x, y) in (("ab", (a, b)), ("ba", (b, a))):
            result = diff_profiles(x, y)
            if result.regressions:
                alarms.append((i, order, [c.name for c in result.regressions]))
    # Measured: 0/20 a->b and 1/20 b->a (time.thread_time, a syscall whose cost follows the
    # machine's load, 2.0% vs 0.4% of samples); the issue allows 1 in 20 per direction.
    assert sum(order == "ab" for _i, order, _n in alarms) <= 1, alarms
    assert sum(order == "ba" for _i, order, _n in alarms) <= 1, alarms


def test_diff_names_a_doubled_function_in_19_of_20_recordings() -> None:
    def_line = workload.checksum.__code__.co_firstlineno
    caught = 0
    for i in range(PAIRS):
        base, slow = _pair("slow", i)
        result = diff_profiles(base, slow)
        hits = [c for c in result.regressions if c.name == "checksum" and c.metric == "inclusive"]
        if hits:
            c = hits[0]
            assert c.file.endswith("workload.py") and c.line == def_line
            assert c.base_share >= 0.03 and c.current_share > 1.6 * c.base_share
            caught += 1
    assert caught >= 19


def test_diff_passes_ten_percent_slowdown_of_a_one_percent_function() -> None:
    for i in range(PAIRS):
        base, cur = _pair("tiny10", i)
        result = diff_profiles(base, cur)
        tiny = next(c for c in result.functions if c.name == "tiny" and c.metric == "inclusive")
        assert 0.005 < tiny.base_share < 0.02
        assert not result.regressions, [c.name for c in result.regressions]


def test_diff_live_pair_of_same_code_passes() -> None:
    record = _load("record")
    a = record.record_once(600, {}, 0.0005)
    b = record.record_once(600, {}, 0.0005)
    result = diff_profiles(a, b)
    assert a.meta.sample_count and a.meta.sample_count > 500
    assert not result.regressions, [c.name for c in result.regressions]
    assert {c.name for c in result.endpoints} == {"GET /search", "GET /report"}


def test_diff_live_slowed_function_fails() -> None:
    # Live and short: 3x (not 2x) so ~2,500 samples suffice; 2x is shown on the fixtures.
    record = _load("record")
    a = record.record_once(600, {}, 0.0005)
    b = record.record_once(600, {"checksum": 3.0}, 0.0005)
    names = {c.name for c in diff_profiles(a, b).regressions}
    assert "checksum" in names


def _profile(stacks: dict[tuple[str, ...], int], endpoint: str | None = None) -> Profile:
    p = Profile()
    for names, n in stacks.items():
        p.add_frames(
            [Frame(x, "app/mod.py", 10) for x in names],
            n,
            {"endpoint": endpoint} if endpoint else None,
        )
    return p


def test_diff_shares_counted_by_hand() -> None:
    base = _profile({("main", "a"): 9000, ("main", "b"): 1000})
    cur = _profile({("main", "a"): 6000, ("main", "b"): 3000, ("main", "c"): 1000})
    result = diff_profiles(base, cur)
    by = {(c.metric, c.name): c for c in result.functions}
    assert by[("inclusive", "b")].base_share == pytest.approx(0.1)
    assert by[("inclusive", "b")].current_share == pytest.approx(0.3)
    assert by[("inclusive", "b")].delta_pp == pytest.approx(20.0)
    assert by[("inclusive", "b")].status == "regressed"
    assert by[("inclusive", "a")].status == "improved"
    assert by[("inclusive", "c")].status == "new"
    assert by[("inclusive", "c")].relative is None
    assert by[("inclusive", "main")].status == "unchanged"
    assert ("self", "main") not in by  # main never runs code of its own here


def test_diff_small_sample_counts_are_not_significant() -> None:
    base = _profile({("main", "a"): 9, ("main", "b"): 1})
    cur = _profile({("main", "a"): 7, ("main", "b"): 3})
    result = diff_profiles(base, cur)
    b = next(c for c in result.functions if c.name == "b" and c.metric == "inclusive")
    assert b.exceeds_threshold and not b.significant and b.status == "unchanged"


def test_diff_threshold_needs_both_absolute_and_relative_change() -> None:
    base = _profile({("main", "a"): 50_000, ("main", "b"): 50_000})
    cur = _profile({("main", "a"): 52_000, ("main", "b"): 48_000})  # +2 pp but only +4%
    result = diff_profiles(base, cur)
    a = next(c for c in result.functions if c.name == "a" and c.metric == "inclusive")
    assert a.significant and not a.exceeds_threshold and not result.regressions
    strict = diff_profiles(base, cur, DiffOptions(min_change_relative=0.03))
    assert "a" in {c.name for c in strict.regressions}


def test_diff_ignore_patterns_drop_functions() -> None:
    base = _profile({("main", "a"): 9000, ("main", "b"): 1000})
    cur = _profile({("main", "a"): 6000, ("main", "b"): 4000})
    result = diff_profiles(base, cur, DiffOptions(ignore=("app.mod:b",)))
    assert "b" not in {c.name for c in result.functions}


def test_diff_endpoint_shares() -> None:
    base = _profile({("main", "a"): 900}, "GET /a") + _profile({("main", "b"): 100}, "GET /b")
    cur = _profile({("main", "a"): 600}, "GET /a") + _profile({("main", "b"): 400}, "GET /b")
    result = diff_profiles(base, cur)
    eps = {c.name: c for c in result.endpoints}
    assert eps["GET /b"].base_share == pytest.approx(0.1)
    assert eps["GET /b"].current_share == pytest.approx(0.4)
    assert eps["GET /b"].status == "regressed"


def test_diff_tree_shares_per_side() -> None:
    base = _profile({("main", "a"): 3, ("main", "b"): 1})
    cur = _profile({("main", "b"): 2})
    tree = diff_tree(base, cur)
    main = tree.children[0]
    kids = {k.name: k for k in main.children}
    assert kids["a"].base_share == pytest.approx(0.75) and kids["a"].current_share == 0
    assert kids["b"].current_share == pytest.approx(1.0)


def test_matches_module_function_and_globs() -> None:
    assert matches("myapp.search:score", "score", "/srv/app/myapp/search.py")
    assert matches("search:score", "score", "myapp/search.py")
    assert not matches("myapp.search:score", "Searcher.score", "myapp/search.py")
    assert matches("myapp.search:*score", "Searcher.score", "myapp/search.py")
    assert not matches("yapp.search:score", "score", "myapp/search.py")
    assert matches("*/site-packages/*", "f", "/v/lib/site-packages/x.py")
    assert module_of("/v/lib/python3.11/site-packages/pkg/__init__.py") == "pkg"


def test_normalize_file_relative_to_source_root(tmp_path: Path) -> None:
    f = str(tmp_path / "pkg" / "m.py")
    assert normalize_file(f, str(tmp_path)) == "pkg/m.py"
    assert normalize_file("/x/site-packages/flask/app.py", None) == "flask/app.py"
    assert normalize_file("rel.py", str(tmp_path)) == "rel.py"


def test_detectable_formula_matches_simulation() -> None:
    # The table in docs/ci.md comes from this formula; check it on simulated profiles.
    detectable = _load("detectable")
    options = DiffOptions()
    delta = detectable.delta_needed(0.05, 5000, options, 51)
    assert 0.03 < delta < 0.04
    rng = random.Random(1)
    assert detectable.simulate(0.05, delta, 5000, 30, rng) >= 0.85
    assert detectable.simulate(0.05, delta / 2, 5000, 30, rng) <= 0.4


def test_diff_tree_survives_deep_recursion() -> None:
    deep = Profile()
    deep.add_frames([Frame("rec", "app/r.py", 1)] * 5000, 10)
    tree = diff_tree(deep, deep)
    depth, node = 0, tree
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth == 100 and node.current_share == pytest.approx(1.0)


def test_estimate_dispersion_near_one_for_independent_samples() -> None:
    detectable = _load("detectable")
    rng = random.Random(3)
    shares = [0.05] + [0.95 / 24] * 24
    parts = [detectable._draw(shares, 5000, rng) for _ in range(10)]
    est = estimate_dispersion(parts, DiffOptions())
    assert est is not None and 0.6 < est < 1.4
    assert estimate_dispersion(parts[:1], DiffOptions()) is None


def test_estimate_dispersion_of_recorded_replicates_stays_below_default() -> None:
    # Measured: ~0.6 for the workload (regular sampling of a regular loop) and ~1.1 for the
    # monolith, so the default dispersion of 2 is a margin, not a fit.
    parts = [read_profile(GATE / "data" / f"base-{i:02d}.hotpath.gz") for i in range(10)]
    est = estimate_dispersion(parts, DiffOptions())
    assert est is not None and est < DiffOptions().dispersion


def test_diff_spread_between_files_raises_dispersion() -> None:
    b1 = _profile({("main", "a"): 1000, ("main", "b"): 9000})
    b2 = _profile({("main", "a"): 3000, ("main", "b"): 7000})
    cur = _profile({("main", "a"): 5200, ("main", "b"): 14800})
    base = b1 + b2
    plain = diff_profiles(base, cur)
    assert "a" in {c.name for c in plain.regressions}  # 20% -> 26% looks real...
    result = diff_profiles(base, cur, base_parts=[b1, b2])
    assert not result.regressions  # ...but the base files alone differ by 20 points
    assert result.options.dispersion > 100
    assert any("measured between the 2 files" in n for n in result.notes)
    off = diff_profiles(base, cur, DiffOptions(estimate_dispersion=False), base_parts=[b1, b2])
    assert off.regressions


# -- py-spy recordings (fixtures/gate/pyspy, made by record.py there) ----------------------

PYSPY = GATE / "pyspy"


def _pyspy(name: str) -> list[Profile]:
    return [read_profile(p) for p in sorted((PYSPY / "long").glob(f"{name}-[0-9][0-9].txt.gz"))]


def test_diff_pyspy_recordings_false_alarms_and_power() -> None:
    """The numbers docs/ci.md states, on the committed py-spy recordings (700-2,700 samples
    each, 100 Hz, a loaded 2-core machine): every same-code pair, every slowed pair."""
    import itertools

    bases = _pyspy("base")
    assert len(bases) == 10
    same = sum(bool(diff_profiles(a, b).regressions) for a, b in itertools.combinations(bases, 2))
    assert same <= 2  # measured 0 of 45; the target is at most 5%
    named = {}
    for cls, fn in (("score2", "score"), ("score135", "score"), ("compress2", "compress")):
        slowed = _pyspy(cls)
        hits = 0
        for a in bases:
            for b in slowed:
                regs = diff_profiles(a, b).regressions
                hits += any(c.name == fn for c in regs)
                # The slowed function comes first: its own code got heavier.
                assert not regs or regs[0].through == ""
        named[cls] = hits / (len(bases) * len(slowed))
    # Measured 40/40, 34/80, 30/40; the old test (dispersion 2, two-sided Holm over every
    # row) named 40/40, 24/80, 25/40.
    assert named["score2"] == 1.0
    assert named["score135"] >= 0.4
    assert named["compress2"] >= 0.7


def test_diff_pyspy_minute_recordings_name_a_35_percent_slowdown() -> None:
    """About 6,000 samples per recording: the +35% slowdown of an 18% function is named in
    nearly every pair (measured 33 of 36; same code 1 of 15)."""
    import itertools

    files = sorted((PYSPY / "minute").glob("*.txt.gz"))
    bases = [read_profile(p) for p in files if p.name.startswith("base-")]
    slowed = [read_profile(p) for p in files if p.name.startswith("rank135-")]
    same = sum(bool(diff_profiles(a, b).regressions) for a, b in itertools.combinations(bases, 2))
    named = sum(
        any(c.name == "rank" for c in diff_profiles(a, b).regressions)
        for a in bases
        for b in slowed
    )
    assert same <= 1 and named >= 32, (same, named)


def test_diff_several_files_per_side_measure_the_dispersion() -> None:
    bases, slowed = _pyspy("base"), _pyspy("score135")
    base, cur = bases[:4], slowed[:4]
    merged = diff_profiles(
        base[0] + base[1] + base[2] + base[3],
        slowed[0] + slowed[1] + slowed[2] + slowed[3],
        base_parts=base,
        current_parts=cur,
    )
    assert any("measured between the 8 files" in n for n in merged.notes)
    assert 1.0 <= merged.options.dispersion < 4.0
    assert "score" in {c.name for c in merged.regressions}


def test_diff_names_the_callee_whose_own_time_grew() -> None:
    # handle -> slow gets 3x heavier; handle's inclusive share grows only through it.
    base = _profile({("main", "handle", "slow"): 1000, ("main", "other"): 4000, ("main",): 5000})
    cur = _profile({("main", "handle", "slow"): 3000, ("main", "other"): 4000, ("main",): 5000})
    result = diff_profiles(base, cur)
    by = {(c.name, c.metric): c for c in result.regressions}
    assert ("slow", "self") in by and by[("handle", "inclusive")].through == "slow"
    assert result.regressions[0].name == "slow"  # causes first


def test_diff_processes_of_one_file_can_raise_the_dispersion() -> None:
    from hotpath.model import PID

    def two_workers(a1: int, a2: int) -> Profile:
        p = Profile()
        for pid, a in (("1", a1), ("2", a2)):
            p.add_frames([Frame("main", "m.py", 1), Frame("a", "m.py", 2)], a, {PID: pid})
            p.add_frames([Frame("main", "m.py", 1), Frame("b", "m.py", 3)], 5000 - a, {PID: pid})
        return p

    # The two workers of the base disagree by 20 points: a 5-point move is noise.
    result = diff_profiles(two_workers(500, 1500), two_workers(1300, 1200))
    assert result.options.dispersion > 10
    assert not result.regressions
    assert any("processes or threads" in n for n in result.notes)

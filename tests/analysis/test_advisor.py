"""The advisor's verdicts on small hand-made profiles: one test per reason and per shape."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hotpath.analysis.advisor import wilson
from hotpath.analysis.callgraph import build_callgraph
from hotpath.analysis.options import AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.model import EdgeStats, FunctionKey, FunctionStats, Profile
from tests.analysis.conftest import candidates, profile_of, reason_keys

APP = "app.py"
SOURCE = """\
import json
import zlib


def main(items):
    handle(items)
    for x in items:
        helper(x)
    return None


def handle(items: list[str]) -> list[int]:
    total = 0
    for a in items:
        total += len(a) * 3
    return [total]


def helper(tag: str) -> str:
    return tag.strip().lower()


def query(cur):
    return cur.execute("SELECT 1").fetchall()


def pack(doc):
    return zlib.compress(json.dumps(doc).encode())
"""


@pytest.fixture
def src(tmp_path: Path) -> Path:
    (tmp_path / APP).write_text(SOURCE)
    return tmp_path


def _wilson_by_bisection(k: int, n: int, z: float) -> tuple[float, float]:
    """Independent truth: the p where |k/n - p| = z * sqrt(p(1-p)/n), solved numerically."""
    phat = k / n

    def gap(p: float) -> float:
        return abs(phat - p) - z * math.sqrt(p * (1 - p) / n)

    def solve(lo: float, hi: float) -> float:
        for _ in range(200):
            mid = (lo + hi) / 2
            if (gap(lo) > 0) == (gap(mid) > 0):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if k == 0 else solve(0.0, phat)
    high = 1.0 if k == n else solve(phat, 1.0)
    return low, high


@pytest.mark.parametrize(("k", "n"), [(12, 1000), (0, 50), (50, 50), (400, 1000), (3, 7)])
def test_wilson_matches_the_score_equation(k: int, n: int) -> None:
    lo, hi = wilson(k, n, 1.96)
    tlo, thi = _wilson_by_bisection(k, n, 1.96)
    assert lo == pytest.approx(tlo, abs=1e-9)
    assert hi == pytest.approx(thi, abs=1e-9)


def test_wilson_narrows_with_more_samples() -> None:
    small = wilson(12, 100)
    large = wilson(1200, 10000)
    assert large[1] - large[0] < small[1] - small[0]


def rest(weight: float) -> tuple[list[tuple[str, str, int]], float, None]:
    """The rest of the process: a main loop waiting in a selector (I/O, never a candidate)."""
    return ([("main", APP, 6), ("EpollSelector.select", "selectors.py", 468)], weight, None)


def _kernel_stacks(weight: float) -> list[tuple[list[tuple[str, str, int]], float, None]]:
    return [([("main", APP, 6), ("handle", APP, 15)], weight, None)]


def test_advisor_pure_python_coarse_function_is_microservice(src: Path) -> None:
    p = profile_of([*_kernel_stacks(600), rest(400)])
    c = candidates(p, src)["handle"]
    assert c.recommendation == "microservice"
    assert c.pure_python == 1.0
    assert c.granularity == "coarse"
    assert "source lines" in c.evidence["pure_python"]
    # Amdahl with k=10: 0.6 * 0.9 = 0.54, inside a Wilson interval from 1000 samples.
    lo, hi = c.saving_share
    assert lo < 0.54 < hi and hi - lo < 0.1
    assert c.brief is not None and "handle(items: list[str]) -> list[int]" in c.brief
    assert "#[pyfunction]" not in c.brief and "Axum" in c.brief


def test_advisor_helper_called_in_loop_is_extension_not_microservice(src: Path) -> None:
    p = profile_of(
        [
            ([("main", APP, 8), ("helper", APP, 20)], 300, None),
            rest(700),
        ]
    )
    c = candidates(p, src)["helper"]
    assert c.recommendation == "extension"
    assert "too fine-grained for a network hop" in reason_keys(c)
    assert (
        c.brief is not None
        and "#[pyfunction] fn helper(tag: String) -> PyResult<String>" in c.brief
    )


def test_advisor_database_line_is_already_native(src: Path) -> None:
    p = profile_of([([("main", APP, 6), ("query", APP, 24)], 500, None), rest(500)])
    c = candidates(p, src)["query"]
    assert c.recommendation == "leave"
    assert "already native" in reason_keys(c)
    assert c.pure_python == 0.0
    assert "database" in " ".join(c.reasons)


def test_advisor_native_frames_are_already_native() -> None:
    p = profile_of(
        [
            ([("main", APP, 6), ("pack", APP, 28), ("compress", "libz.so.1", 0)], 450, None),
            ([("main", APP, 6), ("pack", APP, 28)], 50, None),
            rest(500),
        ]
    )
    c = candidates(p)["pack"]
    assert c.recommendation == "leave"
    assert "already native" in reason_keys(c)
    assert "native frames" in c.evidence["pure_python"]
    assert c.pure_python == pytest.approx(0.1)


def test_advisor_idle_samples_in_a_blocking_call_make_io_bound() -> None:
    wait = ("Condition.wait", "threading.py", 327)
    p = profile_of(
        [
            ([("main", APP, 6), ("handle", APP, 15)], 100, {"state": "active"}),
            ([("main", APP, 6), ("handle", APP, 15), wait], 400, {"state": "idle"}),
            ([("main", APP, 9)], 500, {"state": "active"}),
        ]
    )
    c = candidates(p)["handle"]
    assert c.cpu_bound == pytest.approx(0.2)
    assert c.recommendation == "leave"
    assert "I/O-bound" in reason_keys(c)
    assert "Condition.wait" in " ".join(c.reasons)


def test_advisor_idle_samples_outside_a_blocking_call_wait_for_a_core() -> None:
    """Off CPU where the leaf is no blocking call (no source needed): waiting for a core or
    the GIL, which a rewrite relieves; not I/O-bound."""
    p = profile_of(
        [
            ([("main", APP, 6), ("handle", APP, 15)], 100, {"state": "active"}),
            ([("main", APP, 6), ("handle", APP, 15)], 400, {"state": "idle"}),
            ([("Thread.run", "threading.py", 975)], 500, {"state": "active"}),
        ]
    )
    c = candidates(p)["handle"]
    assert c.cpu_bound == pytest.approx(1.0)
    assert "I/O-bound" not in reason_keys(c)
    assert "80% waiting for a core or the GIL" in c.evidence["cpu_bound"]


def test_advisor_idle_at_a_plain_python_line_is_contention_not_io(src: Path) -> None:
    """With the source: off-CPU time while the sampled line runs plain Python is a thread
    waiting for a core or the GIL (an oversubscribed server), not I/O; off-CPU time on a
    database call stays waiting."""
    p = profile_of(
        [
            ([("main", APP, 6), ("handle", APP, 15)], 100, {"state": "active"}),
            ([("main", APP, 6), ("handle", APP, 15)], 400, {"state": "idle"}),
            ([("main", APP, 6), ("query", APP, 24)], 100, {"state": "active"}),
            ([("main", APP, 6), ("query", APP, 24)], 400, {"state": "idle"}),
            ([("main", APP, 9)], 500, {"state": "active"}),
        ]
    )
    found = candidates(p, src)
    assert found["handle"].cpu_bound == pytest.approx(1.0)
    assert "I/O-bound" not in reason_keys(found["handle"])
    assert found["query"].cpu_bound == pytest.approx(0.2)


def test_advisor_cpu_bound_unknown_without_state_labels() -> None:
    c = candidates(profile_of([*_kernel_stacks(600), rest(400)]))["handle"]
    assert c.cpu_bound is None
    assert c.evidence["cpu_bound"].startswith("unknown")


def test_advisor_twelve_samples_are_not_a_finding() -> None:
    c = candidates(profile_of([*_kernel_stacks(12), rest(8)]))["handle"]
    assert c.share == pytest.approx(0.6)
    assert c.recommendation == "leave"
    assert "too small" in reason_keys(c)
    assert c.confidence == "low"


def test_advisor_small_share_is_too_small() -> None:
    p = profile_of([*_kernel_stacks(150), rest(9850)])
    c = candidates(p)["handle"]
    assert c.recommendation == "leave" and "too small" in reason_keys(c)


def test_advisor_shared_callee_makes_region_entangled() -> None:
    # handle's time is in `shared`, which `other` also calls: not in handle's region.
    p = profile_of(
        [
            ([("main", APP, 6), ("handle", APP, 15), ("shared", "lib.py", 3)], 400, None),
            ([("main", APP, 6), ("handle", APP, 15)], 100, None),
            ([("main", APP, 7), ("other", APP, 30), ("shared", "lib.py", 3)], 500, None),
        ]
    )
    c = candidates(p)["handle"]
    assert c.isolation == pytest.approx(0.2)
    assert c.recommendation == "leave" and "too entangled" in reason_keys(c)


def test_advisor_dispatcher_is_entangled_and_its_paths_are_candidates(src: Path) -> None:
    stacks = [
        ([("router", APP, 1), (view, APP, 2)], w, None)
        for view, w in (("view_a", 400), ("view_b", 300), ("view_c", 300))
    ]
    found = candidates(profile_of(stacks), src)
    assert found["router"].recommendation == "leave"
    assert any("dispatcher" in r for r in found["router"].reasons)
    assert found["view_a"].recommendation != "leave"


def test_advisor_object_layer_is_entangled() -> None:
    stacks = [
        (
            [("view", APP, 1), ("QuerySet.__iter__", "orm.py", 5), ("Model.from_row", "orm.py", 9)],
            500,
            None,
        ),
        ([("view", APP, 1), ("Field.to_python", "orm.py", 20)], 400, None),
        ([("view", APP, 1)], 100, None),
    ]
    c = candidates(profile_of(stacks))["view"]
    assert c.recommendation == "leave"
    assert any("object layer" in r for r in c.reasons)


def test_advisor_never_reads_source_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside.py"
    outside.write_text("def f(cur):\n    return cur.execute('x').fetchall()\n")
    p = profile_of(
        [([("main", APP, 1), ("f", str(outside), 2)], 500, None), ([("main", APP, 1)], 500, None)]
    )
    p2 = profile_of(
        [
            ([("main", APP, 1), ("f", "../outside.py", 2)], 500, None),
            ([("main", APP, 1)], 500, None),
        ]
    )
    for prof in (p, p2):
        c = candidates(prof, root).get("f")
        # Outside the root the file is not app code, and its line is never read.
        assert c is None or "source lines" not in c.evidence["pure_python"]


def test_advisor_gain_follows_amdahl_and_prices(src: Path) -> None:
    p = profile_of([*_kernel_stacks(6000), rest(4000)])
    c = candidates(p, src, rust_speedup=4.0, cores=8.0, core_hour_price=0.05)["handle"]
    lo, hi = c.saving_share
    assert lo < 0.6 * 0.75 < hi
    assert c.cores_saved == pytest.approx((lo * 8, hi * 8))
    assert c.money_per_month == pytest.approx((lo * 8 * 0.05 * 730, hi * 8 * 0.05 * 730))
    assert c.speedup == pytest.approx((1 / (1 - lo), 1 / (1 - hi)))


def test_advisor_endpoint_label_gives_endpoint_candidate(src: Path) -> None:
    p = profile_of(
        [
            ([("main", APP, 6), ("handle", APP, 15)], 600, {"endpoint": "GET /handle"}),
            ([("main", APP, 6), ("query", APP, 24)], 400, {"endpoint": "GET /query"}),
        ]
    )
    found = candidates(p, src)
    assert found["GET /handle"].kind == "endpoint"
    assert found["GET /handle"].recommendation == "microservice"
    assert found["GET /query"].recommendation == "leave"
    assert "already native" in reason_keys(found["GET /query"])


def test_advisor_call_statistics_use_builtins_and_time_per_call() -> None:
    """A cProfile-style profile: exact totals, costly builtin = C, cheap one = interpreter."""
    p = Profile()
    p.meta.unit = "seconds"
    main, work, tiny = FunctionKey("main", APP), FunctionKey("work", APP), FunctionKey("tiny", APP)
    costly = FunctionKey("{method 'execute' of 'sqlite3.Connection' objects}", "~")
    cheap = FunctionKey("{built-in method builtins.min}", "~")
    p.function_stats = {
        main: FunctionStats(0.0, 1.0, 1, 1),
        work: FunctionStats(0.05, 0.5, 10, 10),
        costly: FunctionStats(0.45, 0.45, 10, 10),
        tiny: FunctionStats(0.2, 0.3, 100_000, 100_000),
        cheap: FunctionStats(0.1, 0.1, 200_000, 200_000),
    }
    p.call_edges = {
        (main, work): EdgeStats(0.05, 0.5, 10),
        (work, costly): EdgeStats(0.45, 0.45, 10),
        (main, tiny): EdgeStats(0.2, 0.3, 100_000),
        (tiny, cheap): EdgeStats(0.1, 0.1, 200_000),
    }
    p.function_stats[main] = FunctionStats(0.2, 1.0, 1, 1)
    found = {c.target: c for c in analyze(p, AnalyzeOptions()).candidates or []}
    assert found["work"].recommendation == "leave"
    assert found["work"].pure_python == pytest.approx(0.1)
    assert "already native" in reason_keys(found["work"])
    assert found["tiny"].recommendation == "extension"
    assert found["tiny"].pure_python == pytest.approx(1.0)
    assert found["tiny"].per_call_s == pytest.approx(3e-6)
    assert found["tiny"].saving_share[0] == found["tiny"].saving_share[1]
    assert found["tiny"].confidence == "exact"
    assert build_callgraph(p).total == pytest.approx(p.total)


def test_advisor_endpoint_of_a_tiny_hot_helper_is_extension(src: Path) -> None:
    p = profile_of(
        [
            ([("main", APP, 8), ("helper", APP, 20)], 500, {"endpoint": "GET /tags"}),
            ([("main", APP, 7)], 100, {"endpoint": "GET /tags"}),
            ([("main", APP, 6), ("handle", APP, 15)], 400, {"endpoint": "GET /handle"}),
        ]
    )
    found = candidates(p, src)
    assert found["GET /tags"].recommendation == "extension"
    assert "too fine-grained for a network hop" in reason_keys(found["GET /tags"])
    assert found["GET /handle"].recommendation == "microservice"


def test_advisor_cpu_bound_from_cpu_and_wall_measures(src: Path) -> None:
    """A collector recording each stack as measure=cpu and measure=wall: CPU/wall per region."""
    wait = ("Condition.wait", "threading.py", 327)
    p = profile_of(
        [
            ([("main", APP, 6), ("handle", APP, 15)], 300, {"measure": "cpu"}),
            ([("main", APP, 6), ("handle", APP, 15)], 300, {"measure": "wall"}),
            ([("main", APP, 6), ("handle", APP, 15), wait], 700, {"measure": "wall"}),
            ([("main", APP, 6), ("query", APP, 24)], 700, {"measure": "cpu"}),
            ([("main", APP, 6), ("query", APP, 24)], 700, {"measure": "wall"}),
        ]
    )
    found = candidates(p, src)
    assert found["handle"].cpu_bound == pytest.approx(0.3)
    assert found["handle"].share == pytest.approx(0.3)  # on-CPU share, wall not counted
    assert "I/O-bound" in reason_keys(found["handle"])
    assert found["query"].cpu_bound == pytest.approx(1.0)


def test_advisor_without_evidence_saving_is_only_an_upper_bound() -> None:
    # Its time is in generated code (no file, no native frames): whether it is Python is an
    # assumption.
    gen = ("compiled", "<string>", 1)
    p = profile_of([([("main", APP, 6), ("handle", APP, 15), gen], 600, None), rest(400)])
    c = candidates(p)["handle"]
    assert c.pure_python is None
    assert c.saving_share[0] == 0.0 and c.saving_share[1] > 0.5
    assert c.confidence == "low" and c.score == 0.0
    assert c.recommendation == "leave" and "not enough evidence" in reason_keys(c)


def test_advisor_endpoint_with_coarse_kernel_stays_microservice(src: Path) -> None:
    # handle (one call per main call) loops over helper: the coarse function carries it.
    p = profile_of(
        [
            (
                [("main", APP, 6), ("handle", APP, 15), ("helper", APP, 20)],
                500,
                {"endpoint": "GET /k"},
            ),
            ([("main", APP, 6), ("handle", APP, 15)], 100, {"endpoint": "GET /k"}),
            ([("main", APP, 6), ("query", APP, 24)], 400, {"endpoint": "GET /q"}),
        ]
    )
    found = candidates(p, src)
    assert found["handle"].recommendation == "microservice"
    assert found["GET /k"].recommendation == "microservice"

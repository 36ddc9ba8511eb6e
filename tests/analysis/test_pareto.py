"""Pareto curves and the app's size counted from source."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotpath.analysis.callgraph import build_callgraph
from hotpath.analysis.classify import make_classifier
from hotpath.analysis.pareto import compute_pareto, count_source, curve
from tests.analysis.conftest import profile_of


def test_curve_is_cumulative_heaviest_first() -> None:
    assert curve([1, 3, 0, 6]) == [(0.0, 0.0), (1 / 3, 0.6), (2 / 3, 0.9), (1.0, 1.0)]
    assert curve([]) == []


def test_count_source_counts_defs_and_lines_under_root_only(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text(
        "def f():\n    return 1\n\n\nclass C:\n    def m(self):\n        pass\n"
    )
    (root / "b.py").write_text("async def g():\n    pass\n")
    (root / "broken.py").write_text("def (:\n")
    (tmp_path / "outside.py").write_text("def h():\n    pass\n")
    (root / "link.py").symlink_to(tmp_path / "outside.py")
    size = count_source(str(root))
    assert (size.functions, size.files) == (3, 2)
    assert size.lines == 5 + 2  # non-blank lines


def test_pareto_sentence_counts_app_functions_from_source(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("".join(f"def f{i}():\n    return {i}\n\n" for i in range(20)))
    stacks = [
        ([("main", "app.py", 1), (f"f{i}", "app.py", 3 * i + 2)], w, None)
        for i, w in enumerate([70, 20, 5, 5])
    ]
    p = profile_of(stacks)
    pareto = compute_pareto(build_callgraph(p), make_classifier(tmp_path), None)
    # f0 and f1 carry 90% >= 80% of the self time; the app has 20 functions, 40 lines.
    assert pareto.sentence.startswith("2 functions (10.0% of the app's 20 functions")
    assert "/ about 10.0% of its 40 lines) take 90% of the CPU" in pareto.sentence
    assert pareto.functions[1] == pytest.approx((1 / 20, 0.7))
    assert pareto.functions[-1][1] == pytest.approx(1.0)
    assert pareto.endpoints == []


def test_sentence_states_the_self_time_share_the_functions_really_hold() -> None:
    """One app function doing all the app's work holds 100% of its self time, not '80%'."""
    from hotpath.analysis.callgraph import build_callgraph
    from hotpath.analysis.classify import make_classifier
    from hotpath.analysis.pareto import compute_pareto
    from hotpath.model import Frame, Profile

    p = Profile()
    p.add_frames([Frame("main", "app.py", 1), Frame("spin", "app.py", 5)], 99)
    p.add_frames([Frame("main", "app.py", 1), Frame("sleep", "/usr/lib/python3.11/time.py", 1)], 1)
    pareto = compute_pareto(build_callgraph(p), make_classifier(None), {})
    assert pareto.sentence == (
        "1 function (100% of the 1 app function sampled) takes 99% of the CPU "
        "(100% of the app's own self time)"
    )

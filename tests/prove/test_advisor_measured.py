"""The advisor with a measured speed-up: the same Amdahl estimate, k from the replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotpath.analysis.options import MeasuredSpeedup
from tests.analysis.conftest import candidates, profile_of

SOURCE = "def main(items):\n    handle(items)\n    wait()\n\n\ndef handle(items):\n    t = 0\n    for a in items:\n        t += len(a) * 3\n    return t\n"  # noqa: E501


def _profile(src: Path):  # type: ignore[no-untyped-def]
    app = str(src / "app.py")
    return profile_of(
        [
            ([("main", app, 2), ("handle", app, 9)], 600, None),
            ([("main", app, 3), ("EpollSelector.select", "selectors.py", 468)], 400, None),
        ]
    )


def _measured(src: Path, low: float, median: float, high: float, equal: bool) -> MeasuredSpeedup:
    return MeasuredSpeedup("app:handle", str(src / "app.py"), low, median, high, equal, "r: s")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(SOURCE)
    return tmp_path


def test_advisor_measured_k_replaces_the_assumed_one(src: Path) -> None:
    base = candidates(_profile(src), src)["handle"]
    c = candidates(_profile(src), src, measured=(_measured(src, 30, 40, 50, True),))["handle"]  # type: ignore[arg-type]
    lo, hi = c.share_interval or (0, 0)
    assert c.saving_share == pytest.approx((lo * (1 - 1 / 30), hi * (1 - 1 / 50)))
    assert c.saving_share[0] > base.saving_share[0]  # k 30-50 saves more than the assumed 10
    assert any("measured by replay: r: s" in r for r in c.reasons)
    assert c.evidence["speedup"] == "measured by replay: r: s"


def test_advisor_measured_k_not_used_when_answers_differ_or_slower(src: Path) -> None:
    base = candidates(_profile(src), src)["handle"]
    for m in (_measured(src, 30, 40, 50, False), _measured(src, 0.5, 0.8, 1.1, True)):
        c = candidates(_profile(src), src, measured=(m,))["handle"]  # type: ignore[arg-type]
        assert c.saving_share == base.saving_share
        assert "replay not used (r: s)" in c.reasons
    c = candidates(_profile(src), src, measured=(_measured(src, 0.9, 3, 5, True),))["handle"]  # type: ignore[arg-type]
    assert c.saving_share[0] == 0.0 and c.saving_share[1] > 0  # slowest round below 1x


def test_advisor_measured_k_matches_paths_as_formats_write_them() -> None:
    m = MeasuredSpeedup("pkg.mod:f", "/srv/app/pkg/mod.py", 2, 3, 4, True, "")
    assert m.matches("f", "pkg/mod.py") and m.matches("f", "/srv/app/pkg/mod.py")
    assert m.matches("f:12", "pkg/mod.py")  # a name with its def line
    assert not m.matches("f", "other/mod.py") and not m.matches("g", "pkg/mod.py")

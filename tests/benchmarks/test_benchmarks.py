"""The benchmark runs end to end on tiny inputs (seconds); its JSON has the promised shape.

Speed is never asserted here: that is what ``python -m benchmarks`` reports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.capability import require

ROOT = Path(__file__).resolve().parents[2]


def _need_gprof2dot() -> None:
    exe = Path(sys.executable).parent / "gprof2dot"
    require(
        exe.exists() or shutil.which("gprof2dot") is not None,
        "gprof2dot is not installed (pip install -e '.[test]' installs it)",
    )


def test_benchmark_runs_end_to_end_on_tiny_inputs(tmp_path: Path) -> None:
    _need_gprof2dot()
    data, results = tmp_path / "data", tmp_path / "results"
    cmd = [sys.executable, "-m", "benchmarks", "--sizes", "0.02,0.06", "--workers", "3"]
    cmd += ["--workers-mb", "0.06", "--pool", "400", "--data", str(data), "--results", str(results)]
    cmd += ["--unique-sizes", "0.05"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (out,) = results.glob("bench-*.json")
    doc = json.loads(out.read_text())
    assert doc["schema"] == "hotpath.bench/1" and doc["cpus"] == os.cpu_count()
    cases = {c["case"]: c for c in doc["cases"]}
    assert set(cases) == {
        "folded-0.02MB",
        "folded-0.06MB",
        "merge-3x0.02MB",
        "concat-of-workers",
        "pyinstrument-0.06MB",
        "pstats",
        "unique-0.05MB",
    }
    # Every line distinct; named from the generated source or not, the floor's count agrees.
    unique = cases["unique-0.05MB"]
    assert set(unique["runs"]) == {"hotpath", "hotpath-nosrc", "floor"}
    assert unique["agrees_with_floor"] is True
    # One round (no --repeat): one paired ratio each, the best-of ratio itself.
    rounds = unique["round_ratios"]
    assert set(rounds) == {"hotpath/floor", "hotpath-nosrc/floor"}
    assert rounds["hotpath/floor"] == [pytest.approx(unique["ratios"]["hotpath/floor"])]
    assert "hotpath/floor per round: " in proc.stdout
    assert unique["runs"]["hotpath-nosrc"]["summary"] == unique["runs"]["hotpath"]["summary"]
    (raw,) = data.glob("unique-*.raw")
    lines = raw.read_bytes().splitlines()
    assert len({ln.rpartition(b" ")[0] for ln in lines}) == len(lines) > 10
    assert unique["stages"]["functions"] == unique["runs"]["floor"]["summary"]["functions"]
    for name in ("folded-0.02MB", "folded-0.06MB"):
        case = cases[name]
        assert set(case["runs"]) == {"hotpath", "floor", "gprof2dot"}
        assert set(case["ratios"]) == {"hotpath/floor", "gprof2dot/hotpath"}
        # The floor's plain count is the independent truth for hotpath's totals.
        assert case["agrees_with_floor"] is True
        for run in case["runs"].values():
            assert run["ok"] and run["wall_s"] > 0 and run["peak_rss_mib"] > 1
            assert run["input_bytes"] == (data / _name(name)).stat().st_size
    merge = cases["merge-3x0.02MB"]
    assert set(merge["runs"]) == {"hotpath", "hotpath-2proc", "floor"}
    assert merge["files"] == 3 and merge["agrees_with_floor"] is True
    concat = cases["concat-of-workers"]["runs"]
    assert concat["hotpath"]["input_bytes"] == merge["runs"]["hotpath"]["input_bytes"]
    assert concat["hotpath"]["summary"] == merge["runs"]["hotpath"]["summary"]
    assert doc["scaling"]["size_ratio"] == pytest.approx(3, rel=0.05)
    assert doc["merge_vs_single"] > 0
    # The pstats input's total, by the standard library's own reader.
    import pstats

    (pstats_file,) = data.glob("*.pstats")
    pst = cases["pstats"]["runs"]["hotpath"]
    assert pst["ok"] and pst["summary"]["total"] == pytest.approx(
        pstats.Stats(str(pstats_file)).total_tt, rel=1e-6
    )
    session = cases["pyinstrument-0.06MB"]["runs"]["hotpath"]
    assert session["ok"] and session["summary"]["functions"] > 100
    assert "hotpath/floor" in proc.stdout and "totals agree with floor: True" in proc.stdout


def _name(case: str) -> str:
    mb = float(case.removeprefix("folded-").removesuffix("MB"))
    return f"folded-{int(mb * 1_000_000)}-s1-p400.folded"


def test_generated_inputs_are_deterministic_and_py_spy_shaped(tmp_path: Path) -> None:
    from benchmarks.generate import ensure_folded

    a = ensure_folded(tmp_path / "a", 30_000, pool=300).read_bytes()
    b = ensure_folded(tmp_path / "b", 30_000, pool=300).read_bytes()
    assert a == b and len(a) >= 30_000
    for line in a.decode().splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        assert int(count) >= 1 and 20 <= len(frames) <= 80
        assert all(f.endswith(")") and ".py:" in f for f in frames)

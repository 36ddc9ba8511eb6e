"""The advisor on code the team did not tune it to: the second monolith (tests/monolith2).

Flask on waitress (4 threads) under 4 clients on this 2-core machine; hotpath attaches with
its default flags. Three endpoints spend their time in pure-Python libraries with real
Rust-backed drop-ins (Python-Markdown -> pyromark, PyYAML's pure-Python loader -> yaml-rs,
pylev -> jellyfish); two spend it in SQLite and in json/zlib C code. The truth is
``tests/monolith2/truth.json``: the process CPU each swap really saved, measured by
``python -m tests.monolith2.measure_truth`` with the servers side by side.

Checks: the first two recommendations are on swappable paths; no SQLite or json/zlib path is
recommended; each swappable path's predicted saving, with the measured per-call speed-up as
``--rust-speedup``, is within 25% (relative) of the measured saving. A live recording is a
statistic: the test passes when 1 of at most 3 recordings passes. The truth pools two
measuring sessions of 14 rounds at load 13, which disagreed by 4-7 points on every swap
(truth.json keeps both); against the pooled savings (24.6%, 26.5%, 10.7%, standard errors
1.0-1.5 points) 7 of 7 recordings at load 6-13 passed: Markdown's predictions within 6%
of the measured, YAML's 0-18% under (hotpath's endpoint shares run 1-4 points under the
app's own, which include Flask's work around the view), pylev's 4% under to 20% over.
On an idle machine (load < 1, as CI runs it) the YAML prediction was 17.5-20.6% in 5 of 5
recordings, all failing, until torn stacks were mended (docs/collect.md); then 6 of 7 passed,
YAML predicted at 20.9-24.1% (the one failure: pylev at 14.3%).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hotpath.analysis.options import AdvisorOptions, AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.analysis.results import Candidate
from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
from hotpath.model import Profile
from tests.collect.support import require_ptrace
from tests.monolith2.load import Server, plan, run_plan, stats

MONOLITH2 = Path(__file__).resolve().parents[1] / "monolith2"
TRUTH = json.loads((MONOLITH2 / "truth.json").read_text())
LIBRARY = {"markdown": "markdown", "yaml": "yaml", "distance": "pylev"}
"""Each swap and the library it replaces (by top-level package)."""
NATIVE_PATHS = {"report_view", "sales_by_region", "export_view", "pack_export", "GET /report"}
TOLERANCE = 0.25
"""Relative: |predicted - measured| / measured."""
RECORD_S = 8.0


def record(tmp: Path) -> tuple[Profile, dict[str, float]]:
    """hotpath attached with its default flags while 4 clients run the request plan; and
    the app's own per-endpoint thread CPU over that time, as shares of its process CPU."""
    server = Server(tmp)
    try:
        run_plan(server.port, plan(2, seed=99))  # warm up
        before = stats(server.port)
        rec = PySpyRecorder(server.pid, RecordOptions())
        rec.start()
        run_plan(server.port, plan(1000), clients=4, duration_s=RECORD_S)
        rec.stop()
        profile = rec.wait().profile
        after = stats(server.port)
    finally:
        server.stop()
    process = after["process_cpu_s"] - before["process_cpu_s"]
    own = {
        k: (v["cpu_s"] - before["endpoints"].get(k, {}).get("cpu_s", 0.0)) / process
        for k, v in after["endpoints"].items()
    }
    return profile, own


def library_candidate(cands: list[Candidate], library: str) -> Candidate | None:
    """The recommended function candidate advised as replacing ``library``."""
    for c in cands:
        if (
            c.kind == "function"
            and c.recommendation != "leave"
            and c.evidence.get("library", "").split(" ")[0] == library
        ):
            return c
    return None


def check(profile: Profile, own: dict[str, float]) -> tuple[list[str], dict[str, object]]:
    """(failures, numbers) of one recording; ``own``: the app's own endpoint CPU shares."""
    failures: list[str] = []
    options = AnalyzeOptions(source_root=str(MONOLITH2), flame=False)
    cands = analyze(profile, options).candidates or []
    recommended = [c for c in cands if c.recommendation != "leave"]
    numbers: dict[str, object] = {
        "recommended": [(c.target, c.kind, c.evidence.get("library")) for c in recommended],
        "app_shares": {k: round(v, 4) for k, v in sorted(own.items())},
        "hotpath_shares": {c.target: round(c.share, 4) for c in cands if c.kind == "endpoint"},
        "leave": {c.target: c.reasons[0] for c in cands if c.recommendation == "leave"},
    }
    swappable = set(LIBRARY.values())
    for c in recommended[:2]:
        if c.evidence.get("library", "").split(" ")[0] not in swappable:
            failures.append(f"recommendation {c.target!r} is not on a swappable path")
    for c in recommended:
        if c.target in NATIVE_PATHS or c.target.rsplit(".", 1)[-1] in NATIVE_PATHS:
            failures.append(f"{c.target!r} (SQLite or json/zlib) is recommended")
    for swap, library in LIBRARY.items():
        k = TRUTH["speedup_per_call"][swap]
        measured = TRUTH["saving"][swap]["measured"]
        at_k = AnalyzeOptions(
            source_root=str(MONOLITH2), flame=False, advisor=AdvisorOptions(rust_speedup=k)
        )
        c = library_candidate(analyze(profile, at_k).candidates or [], library)
        if c is None:
            failures.append(f"no recommendation replaces {library}")
            continue
        predicted = sum(c.saving_share) / 2
        endpoint = TRUTH["saving"][swap]["endpoint"]
        numbers[swap] = {
            "target": c.target,
            "app_share": round(own.get(endpoint, 0.0), 4),
            "share": round(c.share, 4),
            "predicted": round(predicted, 4),
            "measured": round(measured, 4),
        }
        if abs(predicted - measured) > TOLERANCE * measured:
            failures.append(f"{swap}: predicted {predicted:.1%}, measured {measured:.1%}")
    return failures, numbers


def test_advisor_monolith2_recommends_the_library_swaps_with_real_savings() -> None:
    require_ptrace()
    runs: list[tuple[list[str], dict[str, object]]] = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as d:
            runs.append(check(*record(Path(d))))
        if not runs[-1][0]:
            return
    raise AssertionError(runs)


if __name__ == "__main__":  # python -m tests.analysis.test_advisor_monolith2 [runs]
    import sys

    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        with tempfile.TemporaryDirectory() as d:
            print(json.dumps(check(*record(Path(d))), default=str), flush=True)

"""The advisor in the JSON and text reports and on the command line."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner

from hotpath.analysis.options import AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.cli import main
from hotpath.formats import read_profile
from hotpath.report.json import to_dict
from hotpath.report.text import render
from tests.analysis.conftest import REPO, SAMPLE

SPEC_KEYS = [
    "target",
    "kind",
    "recommendation",
    "score",
    "share",
    "cpu_bound",
    "pure_python",
    "isolation",
    "saving_share",
    "reasons",
]


def _analysis():  # type: ignore[no-untyped-def]
    profile = read_profile(str(SAMPLE / "pyspy.raw.txt"))
    return analyze(profile, AnalyzeOptions(source_root=str(REPO)))


def test_json_candidates_and_pareto_follow_issue_4() -> None:
    doc = json.loads(json.dumps(to_dict(_analysis())))
    assert set(doc["pareto"]) >= {"functions", "endpoints"}
    xs = [x for x, _y in doc["pareto"]["functions"]]
    ys = [y for _x, y in doc["pareto"]["functions"]]
    assert xs == sorted(xs) and ys == sorted(ys) and 0.99 <= ys[-1] <= 1.0
    cands = doc["candidates"]
    assert cands and list(cands[0])[: len(SPEC_KEYS)] == SPEC_KEYS
    scores = [c["score"] for c in cands]
    assert scores == sorted(scores, reverse=True)
    for c in cands:
        assert c["kind"] in ("function", "endpoint")
        assert c["recommendation"] in ("microservice", "extension", "leave")
        lo, hi = c["saving_share"]
        assert 0 <= lo <= hi <= 1
        assert c["reasons"]


def test_json_advice_validates_against_the_report_schema() -> None:
    import jsonschema

    schema = json.loads((REPO / "docs" / "json-report.schema.json").read_text())
    for name, root in (("pyspy.raw.txt", str(REPO)), ("cprofile.pstats", None)):
        result = analyze(read_profile(str(SAMPLE / name)), AnalyzeOptions(source_root=root))
        doc = json.loads(json.dumps(to_dict(result)))
        # Only the advisor's keys are under test here: cProfile's cumtime can exceed the
        # sum of tottime, which puts a few function rows above share 1 (not the advisor's).
        jsonschema.validate({**doc, "functions": []}, schema)
        assert doc["candidates"], name


def test_text_report_shows_candidates_table_and_pareto_sentence() -> None:
    out = io.StringIO()
    render(_analysis(), out, width=200, color=False)
    text = out.getvalue()
    assert "Pareto: " in text and "of the CPU" in text
    assert "Rust candidates" in text
    assert "rank_candidates" in text and "already native" in text


def test_cli_analyze_brief_and_advisor_options() -> None:
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "analyze",
            str(SAMPLE / "pyspy.raw.txt"),
            "--source-root",
            str(REPO),
            "--rust-speedup",
            "5",
            "--cores",
            "4",
            "--core-hour-price",
            "0.1",
            "--brief",
            "-f",
            "json",
            "-o",
            "-",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    kernel = doc["candidates"][0]
    assert kernel["target"] == "rank_candidates"
    lo, hi = kernel["saving_share"]
    assert kernel["cores_saved"] == [lo * 4, hi * 4]
    assert "#[pyfunction]" in kernel["brief"] or "Axum" in kernel["brief"]
    text = runner.invoke(
        main, ["analyze", str(SAMPLE / "pyspy.raw.txt"), "--source-root", str(REPO), "--brief"]
    )
    assert text.exit_code == 0
    assert "Boundary: def rank_candidates(query: str, candidates: list[str]" in text.output


def test_cli_rejects_speedup_of_one() -> None:
    res = CliRunner().invoke(
        main, ["analyze", str(SAMPLE / "pyspy.raw.txt"), "--rust-speedup", "1"]
    )
    assert res.exit_code == 2


def test_text_candidates_table_gives_a_view_one_row_per_verdict() -> None:
    """A view is a candidate as a function and as an endpoint; with the same verdict the
    table shows one row naming both kinds, with the first one's numbers."""
    from dataclasses import replace

    from hotpath.report.text import _merge_rows

    a = _analysis()
    base = a.candidates[0]
    fn = replace(base, target="view", kind="function", recommendation="microservice")
    ep = replace(base, target="view", kind="endpoint", recommendation="microservice")
    left = replace(base, target="view", kind="endpoint", recommendation="leave")
    other = replace(base, target="helper", kind="function", recommendation="extension")
    rows = _merge_rows([fn, other, ep, left])
    assert [(c.target, c.recommendation, kinds) for c, kinds in rows] == [
        ("view", "microservice", ["function", "endpoint"]),
        ("helper", "extension", ["function"]),
        ("view", "leave", ["endpoint"]),
    ]
    assert rows[0][0] is fn
    out = io.StringIO()
    render(replace(a, candidates=[fn, other, ep], plan=None), out, width=200, color=False)
    text = out.getvalue()
    assert "view (function, endpoint, microservice)" in text  # the details under the table
    assert text.count("view (") == 1
    assert any(
        line.split()[:4] == ["1", "microservice", "view", "fn+ep"] for line in text.splitlines()
    )


def test_text_candidates_at_80_columns_never_split_a_name_or_wrap_a_row() -> None:
    out = io.StringIO()
    render(_analysis(), out, width=80, color=False)
    text = out.getvalue()
    lines = text[text.index("Rust candidates") :].splitlines()
    start = next(i for i, line in enumerate(lines) if "───" in line) + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    rows = lines[start:end]
    assert len(rows) >= 10 and all(line.split()[0].isdigit() for line in rows), rows
    assert any(" rank_candidates " in line for line in rows)
    assert max(len(line) for line in text.splitlines()) <= 80
    # The details below the table give every reason in full.
    assert "coarse-grained: called once per caller call" in text.replace("\n   ", " ")

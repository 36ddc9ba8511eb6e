"""The extraction plan of the sample monolith's py-spy recording in every report format.

The plan's own text is compared whole with goldens (an 80-column terminal and Markdown); the
JSON report carries the same numbers and the schema accepts them (and refuses a step the
advisor would leave); the HTML page embeds the JSON report's plan.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from hotpath.analysis.results import Analysis
from hotpath.report import html, markdown, text
from hotpath.report import json as json_report
from tests.analysis.conftest import REPO
from tests.analysis.test_plan import call_statistics, monolith_recording

Golden = Callable[[str, str], None]
SCHEMA = json.loads((REPO / "docs" / "json-report.schema.json").read_text())


@pytest.fixture(scope="module")
def monolith() -> Analysis:
    a = monolith_recording()[1]
    assert a.plan is not None and len(a.plan.steps) == 2
    return a


def test_plan_text_at_80_columns_matches_golden(monolith: Analysis, golden: Golden) -> None:
    out = io.StringIO()
    assert monolith.plan is not None
    text.render_plan(monolith.plan, Console(file=out, width=80, no_color=True, highlight=False))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    golden("plan80.txt", out.getvalue())
    # The whole terminal report ends with the plan.
    whole = io.StringIO()
    text.render(monolith, whole, width=80, color=False)
    assert whole.getvalue().endswith(out.getvalue())


def test_plan_markdown_matches_golden(monolith: Analysis, golden: Golden) -> None:
    assert monolith.plan is not None
    section = "\n".join(markdown.plan_section(monolith.plan)) + "\n"
    golden("plan.md", section)
    whole = io.StringIO()
    markdown.render(monolith, whole)
    assert "### Extraction plan" in whole.getvalue() and section.strip() in whole.getvalue()


def test_plan_json_carries_the_plan_and_the_schema_checks_it(monolith: Analysis) -> None:
    out = io.StringIO()
    json_report.render(monolith, out)
    doc = json.loads(out.getvalue())
    jsonschema.validate(doc, SCHEMA)
    assert monolith.plan is not None
    steps = doc["plan"]["steps"]
    assert [s["target"] for s in steps] == [s.target for s in monolith.plan.steps]
    assert [s["cumulative"] for s in steps] == [s.cumulative for s in monolith.plan.steps]
    assert steps[0]["covers"] == [
        {"target": t, "kind": k} for t, k in monolith.plan.steps[0].covers
    ]
    assert steps[0]["covers"]  # the kernel path's other candidates
    broken = json.loads(out.getvalue())
    broken["plan"]["steps"][1]["recommendation"] = "leave"  # a plan step is never "leave"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_plan_html_embeds_the_json_reports_plan(monolith: Analysis) -> None:
    data = html.report_data(monolith)
    assert monolith.plan is not None
    assert data["plan"] == json_report.plan_dict(monolith.plan)
    assert 'id="plan-section"' in html.render_html(monolith)


def test_plan_absent_from_reports_without_steps(tmp_path: Path) -> None:
    a = call_statistics()
    out = io.StringIO()
    markdown.render(a, out)
    assert "Extraction plan" not in out.getvalue()
    out = io.StringIO()
    text.render(a, out, width=80, color=False)
    assert "Extraction plan" not in out.getvalue()
    out = io.StringIO()
    json_report.render(a, out)
    plan = json.loads(out.getvalue())["plan"]
    assert plan["steps"] == [] and "no stacks" in plan["note"]

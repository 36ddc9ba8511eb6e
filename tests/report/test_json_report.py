from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema

from hotpath.analysis.pipeline import analyze
from hotpath.formats import read_profile
from hotpath.report.json import render

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "json-report.schema.json").read_text())


def _report(tmp_path: Path, text: str) -> dict[str, object]:
    path = tmp_path / "p.folded"
    path.write_text(text)
    out = io.StringIO()
    render(analyze(read_profile(path)), out)
    doc = json.loads(out.getvalue())
    jsonschema.validate(doc, SCHEMA)
    return doc


def test_json_report_matches_schema_and_counts(tmp_path: Path) -> None:
    doc = _report(tmp_path, "main (app.py:1);work (app.py:9) 3\nmain (app.py:2) 1\n")
    assert doc["schema"] == "hotpath.report/1"
    funcs = {f["name"]: f for f in doc["functions"]}  # type: ignore[union-attr,index]
    assert funcs["main"]["inclusive"] == 4 and funcs["main"]["self"] == 1
    assert funcs["work"]["inclusive_share"] == 0.75
    assert [f["name"] for f in doc["functions"]] == ["main", "work"]  # type: ignore[union-attr,index]


def test_json_schema_rejects_a_broken_report(tmp_path: Path) -> None:
    doc = _report(tmp_path, "a (x.py:1) 1\n")
    doc["functions"][0]["kind"] = "alien"  # type: ignore[index]
    try:
        jsonschema.validate(doc, SCHEMA)
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema accepted an unknown kind")


FIXTURES = Path(__file__).parents[2] / "fixtures"


def test_every_recorded_fixture_gives_a_report_the_schema_accepts() -> None:
    # Real recordings, not hand-made stacks: cProfile's cumtime can exceed the sum of its
    # tottimes, which once gave an inclusive_share of 1.0003.
    suffixes = (".pstats", ".folded", ".raw.txt", ".speedscope.json", ".pyisession.gz")
    paths = [p for p in sorted(FIXTURES.glob("*/*")) if p.name.endswith(suffixes)]
    assert len(paths) >= 10
    for path in paths:
        out = io.StringIO()
        render(analyze(read_profile(path)), out)
        jsonschema.validate(json.loads(out.getvalue()), SCHEMA)

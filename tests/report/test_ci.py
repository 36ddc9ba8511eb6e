from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

from hotpath import escape
from hotpath.analysis.gate import Budget, GateConfig, run_gate
from hotpath.model import Frame, Profile
from hotpath.report.ci import (
    annotation,
    escape_data,
    escape_property,
    gate_annotations,
    write_junit,
)
from hotpath.report.diff import md_escape, render_gate_markdown

HOSTILE = "evil,name:%\r\n<b>|x</b>"
HOSTILE_FILE = "app/we,ird:dir/m.py"


def _profiles() -> tuple[Profile, Profile]:
    base, cur = Profile(), Profile()
    for p, n in ((base, 1000), (cur, 4000)):
        p.add_frames([Frame("main", "app/main.py", 1), Frame("hot", "app/hot.py", 7)], n)
        p.add_frames([Frame("main", "app/main.py", 1), Frame(HOSTILE, HOSTILE_FILE, 3)], 2000)
        p.add_frames([Frame("main", "app/main.py", 1), Frame("cold", "app/cold.py", 2)], 7000)
    return base, cur


def _result() -> object:
    base, cur = _profiles()
    budgets = (
        Budget("app.hot:hot", "function", 0.05),
        Budget("app.cold:cold", "function", 0.9),
    )
    return run_gate(base, cur, GateConfig(budgets=budgets))


def test_junit_parses_with_one_case_per_budget_and_hot_function() -> None:
    result = _result()
    buf = io.BytesIO()
    write_junit(result, buf)  # type: ignore[arg-type]
    root = ET.fromstring(buf.getvalue())
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    names = [(c.get("classname"), c.get("name")) for c in cases]
    assert ("hotpath.budget", "function app.hot:hot") in names
    assert ("hotpath.budget", "function app.cold:cold") in names
    assert ("hotpath.inclusive", "hot (app/hot.py:7)") in names
    assert any(n == escape.xml_text(f"{HOSTILE} ({HOSTILE_FILE}:3)") for _c, n in names)
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert "function app.hot:hot" in failed and "function app.cold:cold" not in failed
    assert "hot (app/hot.py:7)" in failed
    assert int(suite.get("tests", "0")) == len(cases)
    assert int(suite.get("failures", "0")) == len(
        [c for c in cases if c.find("failure") is not None]
    )
    msg = next(c.find("failure") for c in cases if c.get("name") == "hot (app/hot.py:7)")
    assert msg is not None and "10.0% -> 30.8%" in (msg.get("message") or "")


_ANNOTATION = re.compile(
    r"^::(error|warning|notice)( ([a-z]+=[^,:\r\n]*)(,[a-z]+=[^,:\r\n]*)*)?::[^\r\n]*$"
)


def test_annotations_are_well_formed_and_escaped() -> None:
    lines = gate_annotations(_result())  # type: ignore[arg-type]
    assert lines and all(_ANNOTATION.match(line) for line in lines)
    hot = next(line for line in lines if "hot (app/hot.py:7)" in line)
    assert hot.startswith("::error file=app/hot.py,line=7,title=hotpath%3A hot regressed::")
    line = annotation("error", "50%\nnext", HOSTILE_FILE, 3, HOSTILE)
    assert _ANNOTATION.match(line)
    assert "file=app/we%2Cird%3Adir/m.py" in line and line.endswith("::50%25%0Anext")
    assert escape_data("a%b\r\n") == "a%25b%0D%0A"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


def test_gate_markdown_escapes_names() -> None:
    out = io.StringIO()
    render_gate_markdown(_result(), out)  # type: ignore[arg-type]
    text = out.getvalue()
    assert "<b>" not in text and "&lt;b&gt;" in text
    assert "❌ failed" in text and "app.hot:hot" in text
    # A table row stays one row: no raw newline or unescaped pipe from the hostile name.
    row = next(ln for ln in text.splitlines() if "evil" in ln and ln.startswith("|"))
    header = next(ln for ln in text.splitlines() if ln.startswith("| | function"))
    assert row.count("|") - row.count("\\|") == header.count("|")
    assert md_escape("a|b") == "a\\|b"

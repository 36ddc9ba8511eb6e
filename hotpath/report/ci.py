"""CI outputs of the gate: JUnit XML and GitHub workflow annotations.

JUnit: one test case per budget and per hot function checked (a function is "checked" when
its share is at least the threshold on either side), failures carrying the before/after
numbers. Annotations: ``::error file=F,line=N,title=T::message`` with GitHub's escaping
(``%``, CR, LF in the message; also ``:`` and ``,`` in properties). Names pass through
:mod:`hotpath.escape` for each (XML text, workflow command data and properties).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import IO

from hotpath import escape
from hotpath.analysis.diff import Change
from hotpath.analysis.gate import GateResult
from hotpath.report.diff import describe

escape_data = escape.annotation_data
escape_property = escape.annotation_property


def annotation(
    level: str, message: str, file: str = "", line: int | None = None, title: str = ""
) -> str:
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
        if line is not None:
            props.append(f"line={line}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{level}" + (" " + ",".join(props) if props else "")
    return f"{head}::{escape_data(message)}"


def gate_annotations(result: GateResult) -> list[str]:
    """One ``::error`` per regression and exceeded budget (file and line where known)."""
    out = []
    for c in result.regressions:
        title = f"hotpath: {escape.text(c.name)} regressed"
        out.append(annotation("error", describe(c), c.file, c.line, title))
    for b in result.failed_budgets:
        out.append(annotation("error", b.message, b.file, b.line, "hotpath: budget exceeded"))
    return out


def checked_functions(result: GateResult) -> list[Change]:
    """The functions a JUnit report lists: hot on either side (share >= the pp threshold),
    or flagged; inclusive metric, plus self rows that were flagged."""
    hot = result.config.diff.min_change_pp / 100.0
    rows = []
    for c in result.diff.functions:
        flagged = c.status != "unchanged"
        if flagged or (c.metric == "inclusive" and max(c.base_share, c.current_share) >= hot):
            rows.append(c)
    rows += [c for c in result.diff.endpoints]
    return rows


def junit_tree(result: GateResult) -> ET.ElementTree[ET.Element]:
    suite = ET.Element("testsuite", name="hotpath gate")
    failures = 0
    cases = 0
    for b in result.budgets:
        name = escape.xml_text(f"{b.budget.kind} {b.budget.target}")
        case = ET.SubElement(suite, "testcase", classname="hotpath.budget", name=name)
        cases += 1
        if not b.passed:
            failures += 1
            msg = escape.xml_text(b.message)
            ET.SubElement(case, "failure", message=msg, type="budget").text = msg
    for c in checked_functions(result):
        cls = "hotpath.endpoint" if c.metric == "endpoint" else f"hotpath.{c.metric}"
        name = f"{c.name} ({c.location})" if c.location else c.name
        case = ET.SubElement(suite, "testcase", classname=cls, name=escape.xml_text(name))
        cases += 1
        if c.is_regression:
            failures += 1
            msg = escape.xml_text(describe(c))
            ET.SubElement(case, "failure", message=msg, type="regression").text = msg
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites", tests=str(cases), failures=str(failures))
    root.append(suite)
    return ET.ElementTree(root)


def write_junit(result: GateResult, out: IO[bytes]) -> None:
    tree = junit_tree(result)
    ET.indent(tree)
    tree.write(out, encoding="utf-8", xml_declaration=True)

"""Leaf evidence: native frames, C-backed stdlib, and sampled source lines (under the root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotpath.analysis.classify import make_classifier
from hotpath.analysis.nativeness import LeafJudge
from hotpath.model import Frame

SOURCE = """\
import json, zlib


def f(conn, doc, tags):
    rows = conn.execute(
        "SELECT 1"
    ).fetchall()
    blob = zlib.compress(json.dumps(doc).encode())
    for row in cursor:
        pass
    best = min(1, 2)
    return [t.strip() for t in tags]
"""


@pytest.fixture
def judge(tmp_path: Path) -> LeafJudge:
    (tmp_path / "app.py").write_text(SOURCE)
    return LeafJudge(make_classifier(tmp_path))


@pytest.mark.parametrize(
    ("line", "category"),
    [(5, "db"), (6, "db"), (7, "db"), (8, "native"), (9, "db"), (11, "python"), (12, "python")],
)
def test_judge_source_line_of_a_multiline_statement(
    judge: LeafJudge, line: int, category: str
) -> None:
    assert judge.judge(Frame("f", "app.py", line)) == (category, "source lines")


def test_judge_native_and_stdlib_frames(judge: LeafJudge) -> None:
    assert judge.judge(Frame("sqlite3_step", "libsqlite3.so.0", None)) == ("db", "native frames")
    assert judge.judge(Frame("deflate", "libz.so.1", None))[0] == "native"
    assert judge.judge(Frame("JSONEncoder.iterencode", "json/encoder.py", 258)) == (
        "native",
        "C-backed stdlib",
    )
    assert judge.judge(Frame("Condition.wait", "threading.py", 327))[0] == "io"
    assert judge.judge(Frame("Thread.run", "threading.py", 975)) == (
        "python",
        "Python files, source not read",
    )
    assert judge.judge(Frame("<module>", "<string>", 1)) == ("python", None)


def test_judge_never_reads_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.py").write_text("x = json.dumps(1)\n")
    judge = LeafJudge(make_classifier(root))
    assert judge.resolve("../secret.py") is None
    assert judge.resolve(str(tmp_path / "secret.py")) is None
    assert judge.line_category("../secret.py", 1) is None
    assert judge.in_loop("../secret.py", 1) is None


def test_judge_in_loop(judge: LeafJudge) -> None:
    assert judge.in_loop("app.py", 10) is True
    assert judge.in_loop("app.py", 12) is True  # comprehension
    assert judge.in_loop("app.py", 11) is False

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main

FOLDED = "main (app.py:1);work (app.py:9) 3\nmain (app.py:2) 1\n"


@pytest.fixture
def folded(tmp_path: Path) -> Path:
    path = tmp_path / "p.folded"
    path.write_text(FOLDED)
    return path


def test_cli_analyze_text_lists_functions(folded: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(folded)])
    assert result.exit_code == 0, result.output
    assert "work" in result.output and "75.0" in result.output


def test_cli_analyze_merges_files(folded: Path, tmp_path: Path) -> None:
    other = tmp_path / "q.folded"
    other.write_text("main (app.py:1);work (app.py:9) 6\n")
    result = CliRunner().invoke(main, ["analyze", str(folded), str(other), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["profile"]["total"] == 10
    assert len(doc["profile"]["sources"]) == 2


def test_cli_analyze_writes_output_file(folded: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["analyze", str(folded), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["schema"] == "hotpath.report/1"


def test_cli_convert_folded_roundtrip(folded: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.folded"
    result = CliRunner().invoke(main, ["convert", str(folded), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(out.read_text().splitlines()) == sorted(FOLDED.splitlines())


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "file is empty"),
        (b"a;b 1\na;b\n", ":2: expected 'stack COUNT'"),
        (b"a;b -1\n", "negative"),
        (bytes(range(256)), "not a profile format"),
        (b'{"truncated": ', "not a profile format"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "bad.prof"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["analyze", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and needle in lines[0]
    assert "Traceback" not in result.output


def test_cli_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(tmp_path / "nope.folded")])
    assert result.exit_code == 2
    assert "No such file" in result.stderr


def test_installed_command_reports_errors_without_traceback(tmp_path: Path) -> None:
    """The real console script, in a real process: one line on stderr, exit code 2."""
    bad = tmp_path / "bad.folded"
    bad.write_text("a;b x\n")
    exe = Path(sys.executable).parent / "hotpath"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hotpath"]
    proc = subprocess.run([*cmd, "analyze", str(bad)], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"{bad}:1:" in proc.stderr


def test_python_dash_m_runs(folded: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "hotpath", "analyze", str(folded), "-f", "json"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["profile"]["total"] == 4

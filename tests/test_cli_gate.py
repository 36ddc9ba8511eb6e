"""``hotpath diff`` and ``hotpath gate`` in process (CliRunner) on recorded fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "gate" / "data"
BASE = str(DATA / "base-00.hotpath.gz")
SAME = str(DATA / "same-00.hotpath.gz")
SLOW = str(DATA / "slow-00.hotpath.gz")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No pyproject.toml above tmp_path's cwd decides the settings; no GitHub environment.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def test_cli_gate_same_code_exits_0() -> None:
    result = CliRunner().invoke(main, ["gate", BASE, SAME])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PASS")


def test_cli_gate_regression_exits_1_and_names_function() -> None:
    result = CliRunner().invoke(main, ["gate", BASE, SLOW])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output
    line = next(ln for ln in result.output.splitlines() if "regressed: checksum" in ln)
    assert "workload.py:" in line and "->" in line


@pytest.mark.parametrize(
    "args",
    [
        ["gate", "missing.txt", SAME],
        ["gate", BASE],
        ["gate", "--base", BASE],
        ["gate", BASE, SAME, "--budget", "nonsense"],
        ["gate", BASE, SAME, "--alpha", "2"],
        ["diff", BASE, "bad.folded"],
        ["gate", BASE, SAME, "--junit", "no/such/dir/j.xml"],
        ["gate", BASE, SAME, "--summary", "no/such/dir/s.md"],
        ["gate", BASE, SAME, "--config", "missing.toml"],
    ],
)
def test_cli_gate_bad_input_exits_2(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "bad.folded").write_text("this is not a profile\n")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.count("hotpath: error:") == 1


def test_cli_gate_bad_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.hotpath.gate]\nalpha = 'x'\n")
    result = CliRunner().invoke(main, ["gate", BASE, SAME])
    assert result.exit_code == 2
    assert "alpha must be a number" in result.output


def test_cli_gate_budget_from_pyproject_and_explain(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hotpath.budgets]\n"workload:score" = "10%"\n'
        '[tool.hotpath.endpoint-budgets]\n"GET /search" = "90%"\n'
    )
    explain = CliRunner().invoke(main, ["gate", "--explain", "--min-change-pp", "2"])
    assert explain.exit_code == 0
    assert "workload:score <= 10.0%" in explain.output and "2 percentage points" in explain.output
    result = CliRunner().invoke(main, ["gate", BASE, SAME])
    assert result.exit_code == 1
    assert "budget EXCEEDED: function workload:score" in result.output
    assert "budget ok: endpoint GET /search" in result.output
    ok = CliRunner().invoke(main, ["gate", BASE, SAME, "--budget", "workload:score=40%"])
    assert ok.exit_code == 0, ok.output


def test_cli_gate_writes_junit_summary_annotations_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    junit = tmp_path / "gate.xml"
    result = CliRunner().invoke(
        main, ["gate", BASE, SLOW, "--format", "json", "--junit", str(junit)]
    )
    assert result.exit_code == 1
    json_text, _, rest = result.output.partition("\n}\n")
    doc = json.loads(json_text + "\n}")
    assert doc["schema"] == "hotpath.gate/1" and doc["passed"] is False
    assert any(r["name"] == "checksum" for r in doc["diff"]["regressions"])
    assert any(ln.startswith("::error file=") and "checksum" in ln for ln in rest.splitlines())
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "## hotpath gate: ❌ failed" in text
    root = ET.parse(junit).getroot()
    assert int(root.get("failures", "0")) >= 1


def test_cli_diff_formats_and_several_files(tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    r = CliRunner().invoke(main, ["diff", BASE, SLOW, "-f", "html", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "<!DOCTYPE html>" in out.read_text()
    r = CliRunner().invoke(
        main,
        ["diff", "--base", BASE, "--base", SAME, "--current", SLOW, "-f", "json"],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["schema"] == "hotpath.diff/1" and len(doc["base"]["sources"]) == 2
    r = CliRunner().invoke(main, ["diff", BASE, SLOW, "-f", "markdown"])
    assert r.exit_code == 0 and r.output.startswith("## hotpath diff")
    # diff reports; only gate fails the build.
    r = CliRunner().invoke(main, ["diff", BASE, SLOW])
    assert r.exit_code == 0 and "regressed" in r.output


def test_installed_hotpath_gate_command_exit_codes(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "hotpath"
    if not exe.exists():
        pytest.fail(f"the hotpath console script is not installed next to {sys.executable}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    out = tmp_path / "gate.json"
    bad = subprocess.run(
        [exe, "gate", BASE, SLOW, "-f", "json", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1, bad.stderr
    assert json.loads(out.read_text())["passed"] is False
    ok = subprocess.run(
        [exe, "gate", BASE, SAME], env=env, capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0 and ok.stdout.startswith("PASS")
    missing = subprocess.run(
        [exe, "gate", BASE, str(tmp_path / "nope")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr


@pytest.mark.parametrize(
    ("pyproject", "args", "needle"),
    [
        (b"[tool.hotpath.gate]\ndispersion = nan\n", [], "dispersion must be a finite number"),
        (b"[tool.hotpath.gate]\nmin-change-relative = nan\n", [], "min-change-relative"),
        (b"[tool.hotpath.gate]\nmin-change-pp = inf\n", [], "min-change-pp"),
        (b"", ["--dispersion", "nan"], "dispersion must be a finite number"),
        (b"", ["--alpha", "nan"], "alpha must be a finite number"),
        (b'[tool.hotpath.budget]\n"x:y" = "1%"\n', [], "did you mean 'budgets'"),
        (b"tool = 5\n", [], "'tool' must be a table"),
        (b"[tool]\nhotpath = 5\n", [], "[tool.hotpath] must be a table"),
        (b'[project]\nname = "caf\xe9"\n', [], "line 2: not UTF-8"),
    ],
)
def test_cli_gate_config_that_would_disable_the_gate_exits_2(
    pyproject: bytes, args: list[str], needle: str, tmp_path: Path
) -> None:
    # Each of these once made the gate pass whatever the profiles said, or crashed.
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    result = CliRunner().invoke(main, ["gate", BASE, SLOW, *args])
    assert result.exit_code == 2, result.output
    assert needle in result.output, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["gate", BASE, SLOW], 1),  # the verdict survives `gate | head` under pipefail
        (["gate", BASE, SAME, "-f", "json"], 0),
        (["diff", BASE, SLOW, "-f", "markdown"], 0),
        (["analyze", BASE], 0),
        (["convert", BASE, "-o", "-", "--to", "folded"], 0),
    ],
)
def test_installed_hotpath_ends_quietly_when_stdout_closes(args: list[str], code: int) -> None:
    exe = Path(sys.executable).parent / "hotpath"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    # The reader is gone before the first byte is written: every write gets EPIPE.
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run(
            [exe, *args], stdout=w, stderr=subprocess.PIPE, env=env, timeout=120, check=False
        )
    finally:
        os.close(w)
    assert proc.stderr == b"", proc.stderr.decode()
    assert proc.returncode == code

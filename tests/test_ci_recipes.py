"""docs/ci.md's CI jobs, run the way the CI systems run them.

The YAML blocks are read from the document itself; the shell steps that run ``hotpath`` are
executed under the shell the CI system uses: GitHub's default ``run`` shell is ``bash -e
{0}`` (no pipefail; ``shell: bash`` adds ``-o pipefail``), GitLab's script runs under ``sh -e``
(dash here). With a real regression the job must fail; with the same code twice it must pass.
Fetching artifacts and posting comments need the network and are not run; the files they
would fetch are put in place instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ci.md"
DATA = ROOT / "fixtures" / "gate" / "data"
BASE = DATA / "base-00.hotpath.gz"
SLOW = DATA / "slow-00.hotpath.gz"  # checksum doing 2x the work: a real regression
SAME = DATA / "same-00.hotpath.gz"


def _yaml_blocks() -> list[dict[str, Any]]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _github_steps() -> list[tuple[str, list[str]]]:
    """(script, shell command) of each step of the GitHub workflow that runs hotpath."""
    workflow = next(b for b in _yaml_blocks() if "jobs" in b)
    out = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            run = step.get("run", "")
            if "hotpath " in run:
                shell = step.get("shell")
                if shell is None:  # GitHub's default for run steps on Linux
                    cmd = ["bash", "-e"]
                elif shell == "bash":
                    cmd = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
                else:
                    pytest.fail(f"docs/ci.md uses shell {shell!r}; teach this test to run it")
                out.append((run, cmd))
    assert out, "no GitHub step runs hotpath"
    return out


def _gitlab_script() -> str:
    """The gate job's script lines that run hotpath (pip and curl need the network)."""
    pipeline = next(b for b in _yaml_blocks() if "stages" in b)
    lines = [ln for ln in pipeline["gate"]["script"] if ln.lstrip().startswith("hotpath ")]
    assert lines, "the GitLab gate job runs no hotpath command"
    return "\n".join(lines) + "\n"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _run(
    script: str, shell: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    path = cwd / "step.sh"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(
        [*shell, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _place(cwd: Path, base_name: str, current: Path) -> None:
    target = cwd / base_name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(BASE, target)
    shutil.copy(current, cwd / "profile.hotpath.gz")
    (cwd / "pyproject.toml").write_text("[project]\nname = 'app'\n")


@pytest.mark.parametrize(("current", "fails"), [(SLOW, True), (SAME, False)])
def test_github_actions_job_fails_on_a_regression_only(
    current: Path, fails: bool, tmp_path: Path
) -> None:
    _place(tmp_path, "baseline/profile.hotpath.gz", current)
    summary = tmp_path / "summary.md"
    env = _env(tmp_path, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    for script, shell in _github_steps():
        done = _run(script, shell, tmp_path, env)
        assert (done.returncode != 0) == fails, (script, done.stdout, done.stderr)
    if fails:
        assert "::error " in _run(script, shell, tmp_path, env).stdout  # annotations
        assert "failed" in (tmp_path / "comment.md").read_text()
    assert summary.read_text().count("## hotpath gate") >= 1
    assert (tmp_path / "hotpath-junit.xml").exists()


@pytest.mark.parametrize(("current", "fails"), [(SLOW, True), (SAME, False)])
def test_gitlab_job_fails_on_a_regression_only(current: Path, fails: bool, tmp_path: Path) -> None:
    _place(tmp_path, "baseline.hotpath.gz", current)
    done = _run(_gitlab_script(), ["sh", "-e"], tmp_path, _env(tmp_path, GITLAB_CI="true"))
    assert (done.returncode != 0) == fails, (done.stdout, done.stderr)
    assert (tmp_path / "hotpath-summary.md").exists() and (tmp_path / "hotpath-junit.xml").exists()


def test_a_piped_gate_would_never_fail_under_these_shells(tmp_path: Path) -> None:
    """Why the recipes have no pipe: under ``bash -e`` and ``sh -e`` a pipeline's status is
    its last command's, so a regression piped into tee passes the job."""
    _place(tmp_path, "baseline.hotpath.gz", SLOW)
    piped = "hotpath gate baseline.hotpath.gz profile.hotpath.gz -f markdown | tee out.md\n"
    for shell in (["bash", "-e"], ["sh", "-e"]):
        assert _run(piped, shell, tmp_path, _env(tmp_path)).returncode == 0
    pipefail = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
    assert _run(piped, pipefail, tmp_path, _env(tmp_path)).returncode == 1

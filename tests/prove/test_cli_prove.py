"""``hotpath capture``, ``hotpath replay``, ``analyze --replay/--capture`` on the command line."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from tests.prove import textlib

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """\
import sys
from tests.prove import textlib

words = sys.argv[1:]
for a in words:
    for b in words:
        textlib.distance(a * 8, b * 8)
print("done", len(words))
"""


@pytest.fixture
def captured(tmp_path: Path) -> Path:
    """A capture written by the installed command, run as a real subprocess."""
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    out = tmp_path / "cap.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    words = ["kitten", "sitting", "lazy", "zoo", "fizzbuzz"]
    run = subprocess.run(
        [sys.executable, "-m", "hotpath", "capture", "-F", "tests.prove.textlib:distance",
         "--calls", "100", "--max-overhead", "1000", "-o", str(out), "--", str(script), *words],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == "done 5\n"
    assert f"wrote {out}" in run.stderr and "of 25 calls recorded" in run.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    return out


def test_cli_replay_prints_the_summary_and_writes_a_result(captured: Path, tmp_path: Path) -> None:
    res = tmp_path / "res.json"
    r = CliRunner().invoke(
        main,
        ["replay", str(captured), "--with", "tests.prove.textlib:distance_fast", "--rounds", "3",
         "-o", str(res)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "tests.prove.textlib:distance -> tests.prove.textlib:distance_fast: all " in r.output
    assert "CPU per call: original" in r.output
    doc = json.loads(res.read_text())
    assert doc["format"] == "hotpath-replay" and doc["all_equal"] is True
    assert doc["file"] == textlib.distance.__code__.co_filename


def test_cli_replay_check_fails_on_a_wrong_replacement(captured: Path) -> None:
    r = CliRunner().invoke(
        main,
        ["replay", str(captured), "--with", "tests.prove.textlib:distance_wrong", "--check",
         "--no-original"],
    )  # fmt: skip
    assert r.exit_code == 1, r.output
    assert "differ of" in r.output and "record " in r.output


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{", "invalid JSON"),
        (b'{"format": "other"}', "not a hotpath capture file"),
        (b'{"format": "hotpath-capture", "version": 1, "function": "m:f", "code": {"file": ""},'
         b' "params": [], "calls": 1, "elapsed_s": 1, "records": [\n{"n": -1}]}', ":2: "),
    ],
)  # fmt: skip
def test_cli_replay_bad_capture_is_one_line_exit_2(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    r = CliRunner().invoke(main, ["replay", str(bad), "--with", "tests.prove.textlib:echo"])
    assert r.exit_code == 2
    assert needle in r.output and r.output.count("\n") == 1 and "Traceback" not in r.output


def test_cli_capture_bad_target_is_exit_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["capture", "-F", "tests.prove.textlib:nope", "-o", str(tmp_path / "x.json"),
               "--", str(tmp_path / "none.py")]
    )  # fmt: skip
    assert r.exit_code == 2 and "has no nope" in r.output


def test_cli_analyze_uses_the_measured_speedup_and_boundary(captured: Path, tmp_path: Path) -> None:
    res = tmp_path / "res.json"
    r = CliRunner().invoke(
        main, ["replay", str(captured), "--with", "tests.prove.textlib:distance_fast", "-o",
               str(res), "--rounds", "3"]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    k = json.loads(res.read_text())["speedup"]
    src = textlib.distance.__code__.co_filename
    main_py = tmp_path / "main.py"
    main_py.write_text("def main():\n    run()\n    wait()\n")
    folded = tmp_path / "p.folded"
    folded.write_text(
        f"main ({main_py}:2);distance ({src}:13) 600\n"
        f"main ({main_py}:3);EpollSelector.select (selectors.py:468) 400\n"
    )
    args = ["analyze", str(folded), "-f", "json", "--source-root", str(Path(src).parent)]
    before = json.loads(CliRunner().invoke(main, args).output)
    after_run = CliRunner().invoke(main, [*args, "--replay", str(res), "--capture", str(captured)])
    assert after_run.exit_code == 0, after_run.output
    after = json.loads(after_run.output)
    old = next(c for c in before["candidates"] if c["target"] == "distance")
    new = next(c for c in after["candidates"] if c["target"] == "distance")
    lo, hi = new["share_interval"]
    assert new["saving_share"] == pytest.approx([lo * (1 - 1 / k["low"]), hi * (1 - 1 / k["high"])])
    assert new["saving_share"] != old["saving_share"]
    said = " ".join(new["reasons"])
    assert "measured by replay: tests.prove.textlib:distance_fast: all " in said
    assert "fn distance(a: &str, b: &str) -> usize" in new["brief"]
    assert "a: str, length" in new["brief"]


def test_cli_analyze_says_when_a_replay_matches_nothing(captured: Path, tmp_path: Path) -> None:
    res = tmp_path / "res.json"
    r = CliRunner().invoke(
        main, ["replay", str(captured), "--with", "tests.prove.textlib:distance_fast", "-o",
               str(res), "--rounds", "3"]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    folded = tmp_path / "p.folded"
    folded.write_text("main (app.py:1);work (app.py:9) 3\n")
    r = CliRunner().invoke(main, ["analyze", str(folded), "--replay", str(res)])
    assert r.exit_code == 0
    assert "note: the replay of tests.prove.textlib:distance matched no candidate" in r.output

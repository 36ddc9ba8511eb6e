"""Limits instead of exhaustion: hostile sizes give a result or one clear error line that names
the limit and the option raising it, in bounded memory (docs/reliability.md).

Memory is asserted (peak RSS of a grandchild process, from os.wait4), never wall-clock time.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import read_profile

DEPTH = 100_000


def _run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``python -m hotpath ARGS``: exit code, stdout, stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "hotpath", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.returncode, proc.stdout, proc.stderr


# Linux carries a process's peak RSS across exec (fs/exec.c folds the old address space's
# high-water mark into the new one), and subprocess spawns with vfork, so a child started
# straight from pytest inherits pytest's own peak: 284 MiB in CI for a run that used 37.
# A small launcher process starts hotpath instead and reports the peak of that grandchild.
_LAUNCHER = """
import os, subprocess, sys
with open(sys.argv[1], "w") as err:
    proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err)
    _pid, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024)
"""


def _peak_rss_mib(args: list[str], cwd: Path) -> tuple[int, int, str]:
    """Exit code, peak RSS (MiB) and stderr of ``python -m hotpath ARGS``, output discarded."""
    err_path = cwd / "stderr.txt"
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(err_path), sys.executable, "-m", "hotpath", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    code, rss = (int(x) for x in launched.stdout.split())
    return code, rss, err_path.read_text()


def test_peak_rss_is_the_childs_own_not_inherited_from_this_process(tmp_path: Path) -> None:
    ballast = bytearray(300 * 1024**2)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))
    code, rss, _ = _peak_rss_mib(["--version"], tmp_path)
    del ballast
    assert code == 0
    assert rss < 200, f"peak RSS {rss} MiB: the launcher no longer isolates the measurement"


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        (
            "deep.speedscope.json",
            b'{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":'
            + b"[" * DEPTH
            + b"]" * DEPTH
            + b"}",
        ),
        ("deep.pyisession", b'{"start_time":0,"root_frame":' + b"[" * DEPTH + b"]" * DEPTH + b"}"),
        ("deep.json", b"[" * DEPTH + b"]" * DEPTH),
        ("deep-objects.json", b'{"a":' * DEPTH + b"1" + b"}" * DEPTH),
    ],
)
def test_json_nested_100000_deep_is_a_clear_error(tmp_path: Path, name: str, doc: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(doc)
    with pytest.raises(ProfileParseError) as err:
        read_profile(path)
    assert str(path) in str(err.value)
    code, out, stderr = _run(["analyze", str(path)], tmp_path)
    assert code == 2 and out == ""
    assert stderr.count("\n") == 1 and str(path) in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("fmt", ["speedscope", "pyinstrument", "hotpath"])
def test_json_nested_deep_with_the_format_forced(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"x":' + b"[" * DEPTH + b"]" * DEPTH + b"}")
    with pytest.raises(ProfileParseError):
        read_profile(path, fmt=fmt)


def test_more_distinct_functions_than_the_limit_is_refused_naming_the_option(
    tmp_path: Path,
) -> None:
    """Just past the default limit of 500,000 (a million took 29 s of CI for the same check)."""
    path = tmp_path / "wide.txt"
    with open(path, "w") as f:
        for i in range(520_000):
            f.write(f"main (app.py:1);f{i} (m{i % 1000}.py:{i}) 1\n")
    code, rss, stderr = _peak_rss_mib(["analyze", str(path), "--format", "json"], tmp_path)
    assert code == 2, stderr
    assert "520,001 distinct functions" in stderr and "--max-functions" in stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert rss < 1024, f"peak RSS {rss} MiB"


def test_a_hundred_thousand_functions_are_analysed_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    with open(path, "w") as f:
        for i in range(100_000):
            f.write(f"main (app.py:1);view (app.py:5);f{i} (m{i % 1000}.py:{i}) {1 + i % 7}\n")
    out = tmp_path / "report.json"
    code, rss, stderr = _peak_rss_mib(
        ["analyze", str(path), "--format", "json", "-o", str(out)], tmp_path
    )
    assert code == 0, stderr
    report = json.loads(out.read_text())
    assert len(report["functions"]) == 100_002
    assert report["functions"][0]["name"] == "main"
    assert rss < 1024, f"peak RSS {rss} MiB"


def test_fifty_thousand_frame_stack_through_every_report(tmp_path: Path) -> None:
    """Deep recursion in the call graph, dominators, flame tree and HTML: no RecursionError."""
    deep = ";".join(f"f{i % 500} (m.py:{i})" for i in range(50_000)) + " 7\n"
    path = tmp_path / "deep.txt"
    path.write_text(deep + "a (x.py:1);b (y.py:2) 3\n")
    for fmt in ("json", "html", "markdown", "text"):
        code, out, err = _run(["analyze", str(path), "--format", fmt], tmp_path)
        assert code == 0, err
        assert "f499" in out


def test_gzip_bomb_via_the_cli_names_the_option(tmp_path: Path) -> None:
    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        for _ in range(64):
            f.write(b"0" * 1024**2)
    code, rss, stderr = _peak_rss_mib(
        ["analyze", str(path), "--max-decompressed-mb", "8"], tmp_path
    )
    assert code == 2
    assert "decompresses to more than 8 MiB" in stderr and "--max-decompressed-mb" in stderr
    assert rss < 256, f"peak RSS {rss} MiB"


def test_long_line_limit_names_the_variable_that_raises_it(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("a (x.py:1) 1\n" + "b" * 3 * 1024**2 + " 1\n")
    env = {**os.environ, "HOTPATH_MAX_LINE_MB": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "hotpath", "analyze", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert f"{path}:2: line longer than 1 MiB" in proc.stderr
    assert "HOTPATH_MAX_LINE_MB" in proc.stderr

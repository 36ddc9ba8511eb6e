"""Paths inside a profile are labels, not instructions: hotpath opens source files only under
--source-root, whatever a (possibly hostile) profile names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

AUDIT = r"""
import sys, os
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.append(os.fsdecode(args[0]))
sys.addaudithook(hook)
from hotpath.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    secret = [p for p in opened if "passwd" in p or "outside-secret" in p]
    print("OPENED-SECRETS", secret, file=sys.stderr)
"""


def test_analyze_never_opens_files_outside_source_root(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "views.py").write_text("def handle(x):\n    return sum(i * i for i in range(x))\n")
    outside = tmp_path / "outside-secret.py"
    outside.write_text("def f():\n    pass\n")
    hostile = [
        "../../../../../../etc/passwd",
        "/etc/passwd",
        str(outside),
        "../outside-secret.py",
    ]
    lines = [f"main (views.py:1);handle (views.py:2);evil ({p}:1) 50" for p in hostile]
    lines.append("main (views.py:1);handle (views.py:2) 50")
    prof = root / "p.folded"
    prof.write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT, "analyze", str(prof), "--source-root", str(root),
         "-f", "json", "-o", str(out)],
        capture_output=True, text=True, cwd=root, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "OPENED-SECRETS []" in proc.stderr, proc.stderr
    assert out.exists()


def test_a_fifo_named_like_source_under_the_root_does_not_hang_analyze(tmp_path: Path) -> None:
    """Only regular files are read: a FIFO (or device) named x.py is skipped, not waited on."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "views.py").write_text("def handle(x):\n    return x\n")
    os.mkfifo(root / "x.py")
    prof = root / "p.folded"
    prof.write_text("main (views.py:1);f (x.py:3) 30\nmain (views.py:1);handle (views.py:2) 10\n")
    for fmt in ("json", "text", "html"):
        proc = subprocess.run(
            [sys.executable, "-m", "hotpath", "analyze", str(prof), "--source-root", str(root),
             "-f", fmt, "--brief"],
            capture_output=True, text=True, cwd=root, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "handle" in proc.stdout


@pytest.mark.parametrize("size_hint", [None, 0, 3, 10, 11, 50])
@pytest.mark.parametrize("length", [0, 1, 9, 10, 11, 12, 40])
def test_read_at_most_reads_the_whole_file_or_one_byte_past_the_limit(
    length: int, size_hint: int | None
) -> None:
    """Whatever size was seen at stat time (a file may grow or shrink before it is read):
    the whole content when it is within the limit, else exactly limit + 1 bytes of it."""
    import io

    from hotpath.formats.opening import read_at_most

    data = bytes(range(length))
    got = read_at_most(io.BytesIO(data), 10, size_hint)
    assert got == (data if length <= 10 else data[:11])

"""Helpers shared by the py-spy tests: capability checks and live targets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.capability import require

TARGETS = Path(__file__).parent / "targets"


def can_ptrace() -> bool:
    """Whether py-spy can attach here (root or CAP_SYS_PTRACE and a permissive yama)."""
    from hotpath.collect.pyspy import find_pyspy

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        time.sleep(0.2)
        out = subprocess.run(
            [find_pyspy(), "dump", "--pid", str(proc.pid)], capture_output=True, timeout=20
        )
        return out.returncode == 0
    finally:
        proc.kill()
        proc.wait()


_PTRACE: list[bool] = []


def require_ptrace() -> None:
    if not _PTRACE:
        _PTRACE.append(can_ptrace())
    require(_PTRACE[0], "py-spy cannot attach here (needs root or CAP_SYS_PTRACE)")


def hotpath_cmd() -> list[str]:
    """The installed ``hotpath`` command of this environment."""
    exe = shutil.which("hotpath", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "hotpath"]

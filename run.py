#!/usr/bin/env python3
"""One entry point for the quick start: needs nothing but python3.

    python3 run.py demo     # install hotpath into ./.venv if needed, then `hotpath demo`
    python3 run.py test     # install hotpath and its test extras if needed, then the tests
    python3 run.py lint     # ruff over the package and the tests, mypy (strict) over the package

Anything after the verb is passed on (e.g. `python3 run.py test -k folded`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_venv(extras: str = "") -> None:
    """Create ./.venv and install hotpath (``extras``: "" for what running it needs, "test"
    for the test and lint tools too), once per pyproject.toml change."""
    if not PY.exists():
        print("run.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    if _stamp(extras).exists() and _stamp(extras).read_bytes() == pyproject:
        return
    what = f"hotpath and its {extras} dependencies" if extras else "hotpath"
    print(f"run.py: installing {what} into .venv", file=sys.stderr)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "-e", target], check=True, env=env)
    for done in {"", extras}:  # the extras include everything running hotpath needs
        _stamp(done).write_bytes(pyproject)


def _stamp(extras: str) -> Path:
    return VENV / (f".hotpath-installed-{extras}" if extras else ".hotpath-installed")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "lint"):
        print(__doc__, file=sys.stderr)
        return 2
    verb, rest = argv[0], argv[1:]
    ensure_venv("" if verb == "demo" else "test")  # the demo needs no test tools
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if verb == "demo":
        return subprocess.call([str(BIN / "hotpath"), "demo", *rest], env=env)
    if verb == "test":
        return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT, env=env)
    rc = subprocess.call([str(BIN / "ruff"), "check", "hotpath", "tests"], cwd=ROOT, env=env)
    return rc or subprocess.call([str(BIN / "mypy"), "hotpath"], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

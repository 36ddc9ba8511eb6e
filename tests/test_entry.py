"""The console script's Ctrl-C guard covers hotpath's own loading (hotpath/_entry.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_the_entry_module_loads_only_the_package_face() -> None:
    done = _python(
        "import json, sys, hotpath._entry; "
        "print(json.dumps([m for m in sys.modules if m.startswith(('hotpath', 'click', 'rich'))]))"
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert loaded <= {"hotpath", "hotpath._entry", "hotpath._lazy", "hotpath._version",
                      "hotpath.errors"}, loaded  # fmt: skip


def test_ctrl_c_while_the_commands_load_is_one_line_and_exit_130() -> None:
    # A Ctrl-C that lands while hotpath.cli is being imported, made certain by an import hook.
    done = _python(
        "import sys\n"
        "class Interrupt:\n"
        "    @staticmethod\n"
        "    def find_spec(name, path=None, target=None):\n"
        "        if name == 'hotpath.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt)\n"
        "from hotpath._entry import run\n"
        "run()\n"
    )
    assert done.returncode == 130
    assert done.stderr == "hotpath: interrupted\n"


def test_the_installed_script_and_python_m_run_the_command() -> None:
    script = Path(sys.executable).with_name("hotpath")
    for argv in ([str(script), "--version"], [sys.executable, "-m", "hotpath", "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("hotpath"), done.stdout
    assert "hotpath._entry" in script.read_text()


def test_the_command_raises_the_collector_thresholds_and_the_library_does_not() -> None:
    """A command run collects cycles less often (a profile is millions of containers and
    almost no cycles); importing hotpath as a library leaves the host's settings alone."""
    done = _python(
        "import gc, sys, hotpath, hotpath.analysis.pipeline, hotpath._entry as entry; "
        "print(list(gc.get_threshold())); sys.argv = ['hotpath', '--help']\n"
        "try:\n    entry.run()\nexcept SystemExit:\n    pass\n"
        "print(list(gc.get_threshold()))"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert json.loads(lines[0]) == [700, 10, 10]
    assert json.loads(lines[-1]) == [200_000, 30, 30]

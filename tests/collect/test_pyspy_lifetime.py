"""py-spy never outlives hotpath, leaves no temporary file, and an early Ctrl-C is a clean stop.

Real processes and real signals: hotpath attaches to a live target, then is killed (SIGKILL),
hung up (SIGHUP, a dropped SSH session) or interrupted while py-spy is still starting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
from hotpath.formats import read_profile
from tests.collect.support import hotpath_cmd, require_ptrace

SPIN = "import time\nwhile True:\n    sum(i * i for i in range(10_000))\n"


@pytest.fixture
def target() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", SPIN])
    time.sleep(0.3)
    yield proc.pid
    proc.kill()
    proc.wait()


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as f:
            out += [int(c) for c in f.read().split()]
    return out


def _py_spy_of(hotpath: subprocess.Popen[bytes], timeout: float = 60) -> int:
    """The PID of hotpath's py-spy, once it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert hotpath.poll() is None, hotpath.communicate()
        for child in _children(hotpath.pid):
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                if b"py-spy" in argv[0] and b"record" in argv:  # not `py-spy --version`
                    return child
            except OSError:
                continue
        time.sleep(0.01)
    raise AssertionError("py-spy never started")


def _gone(pid: int, timeout: float = 15) -> bool:
    """Whether ``pid`` exited (or is a zombie waiting for its new parent) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def _attach(tmp_path: Path, pid: int, *extra: str) -> tuple[subprocess.Popen[bytes], Path]:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out.hotpath"
    proc = subprocess.Popen(
        [*hotpath_cmd(), "attach", str(pid), "-o", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(tmpdir)},  # to see every temporary file it makes
    )
    return proc, out


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_sigkill_of_hotpath_takes_py_spy_with_it_and_leaves_no_temp_file(
    tmp_path: Path, target: int
) -> None:
    require_ptrace()
    proc, out = _attach(tmp_path, target, "-d", "60")
    spy = _py_spy_of(proc)
    time.sleep(1.0)  # sampling
    proc.kill()
    proc.wait()
    assert _gone(spy), "py-spy kept sampling after hotpath was killed"
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not out.exists()
    time.sleep(0.2)
    assert _state(target) in ("R", "S"), "the target was left stopped"


def test_sighup_is_a_clean_stop_that_keeps_the_samples(tmp_path: Path, target: int) -> None:
    require_ptrace()
    proc, out = _attach(tmp_path, target)
    spy = _py_spy_of(proc)
    time.sleep(2.0)
    proc.send_signal(signal.SIGHUP)
    _stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"stopped by SIGHUP" in err and b"Traceback" not in err
    assert _gone(spy)
    assert read_profile(out).samples
    assert list((tmp_path / "tmp").iterdir()) == []


def test_ctrl_c_while_py_spy_starts_is_a_clean_stop(tmp_path: Path, target: int) -> None:
    """SIGINT the moment py-spy exists (before it can take a Ctrl-C itself): no "samples lost",
    no traceback; what was collected (maybe nothing) is written."""
    require_ptrace()
    proc, out = _attach(tmp_path, target)
    _py_spy_of(proc)
    proc.send_signal(signal.SIGINT)
    _stdout, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 0, text
    assert "lost" not in text and "Traceback" not in text
    # the last line says what happened (a line before it may note an empty sample)
    assert text.splitlines()[-1].startswith("hotpath: stopped by Ctrl-C"), text
    read_profile(out)  # whole and readable
    assert list((tmp_path / "tmp").iterdir()) == []


def test_stop_before_start_starts_nothing(target: int) -> None:
    require_ptrace()
    rec = PySpyRecorder(target, RecordOptions())
    rec.stop()  # Ctrl-C while hotpath was still setting up
    with pytest.raises(KeyboardInterrupt):
        rec.start()
    assert not rec.running


def test_py_spy_is_given_its_own_duration(target: int) -> None:
    """A duration reaches py-spy too, so it ends even if hotpath cannot stop it."""
    require_ptrace()
    rec = PySpyRecorder(target, RecordOptions(duration=1.0))
    rec.start()
    try:
        spy = rec._spy
        assert spy is not None
        args = Path(f"/proc/{spy.pid}/cmdline").read_bytes().split(b"\0")
        assert args[args.index(b"--duration") + 1] == b"3"
    finally:
        result = rec.wait()
    assert result.stopped_by == "duration"

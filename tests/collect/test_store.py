"""Atomic writes: a crash, a kill -9 or a full disk never leaves a half-written profile."""

from __future__ import annotations

import gzip
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hotpath.collect.store import atomic_writer
from hotpath.errors import HotpathError
from hotpath.formats import read_profile

WRITER = r"""
import sys, itertools
from hotpath.collect.store import atomic_writer
from hotpath.formats import write_profile
from hotpath.model import Frame, Profile
target = sys.argv[1]
for i in itertools.count(1):
    p = Profile()
    # A profile big enough that writing it takes a while (kill lands mid-write).
    for j in range(3000):
        p.add_frames([Frame(f"f{j}", "m.py", j), Frame("leaf", "m.py", i)], j + 1)
    with atomic_writer(target, binary=True) as f:
        write_profile(p, f, "hotpath")
    print(i, flush=True)
"""


def test_atomic_writer_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_writer(target) as f:
        f.write("new")
    assert target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_writer_keeps_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as f:
        f.write("partial")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_repeated_kill_9_during_writes_never_leaves_a_corrupt_file(tmp_path: Path) -> None:
    target = tmp_path / "profile.hotpath"
    kills = 0
    for round_ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one complete write happened
        time.sleep(0.01 * (round_ % 5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        # Whatever instant the kill landed at, the file is a complete, valid profile.
        profile = read_profile(target)
        assert profile.total == sum(range(1, 3001))
    assert kills == 12
    leftovers = [p for p in tmp_path.iterdir() if p != target]
    # A kill between mkstemp and rename can leave a hidden temp file, never a bad target.
    assert all(p.name.startswith(".hotpath-") for p in leftovers)


def test_disk_full_fails_cleanly_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "profile.hotpath"
    target.write_bytes(gzip.compress(b'{"format": "hotpath.profile/1", "frames": []}'))
    before = target.read_bytes()
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from hotpath.collect.store import atomic_writer\n"
        "try:\n"
        "    with atomic_writer(sys.argv[1], binary=True) as f:\n"
        "        f.write(b'x' * 100000)\n"
        "except OSError as e:\n"
        "    print('ERR', e.errno)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert "ERR 27" in out.stdout, out.stdout + out.stderr  # EFBIG
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert resource.RLIMIT_FSIZE  # the limit exists on this platform


def test_half_written_file_is_refused_by_analyze(tmp_path: Path) -> None:
    """What a non-atomic writer would leave behind is rejected, not half-read."""
    from hotpath.formats import write_profile
    from hotpath.model import Frame, Profile

    p = Profile()
    for j in range(200):
        p.add_frames([Frame(f"f{j}", "m.py", j)], 1)
    path = tmp_path / "whole.hotpath"
    with path.open("wb") as f:
        write_profile(p, f, "hotpath")
    data = path.read_bytes()
    for cut in (10, len(data) // 3, len(data) - 9):
        half = tmp_path / f"half{cut}.hotpath"
        half.write_bytes(data[:cut])
        with pytest.raises(HotpathError):
            read_profile(half)
    assert os.path.getsize(path) == len(data)

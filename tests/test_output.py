"""Every command's outputs go through hotpath.output.open_output: errors are one line and
exit 2, special files are written as streams, regular files are replaced whole or not at all.

The full disk is a real one: a 16 KiB tmpfs mounted (as root) for the test and unmounted after.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from tests.capability import require

OLD = "old report\n" + "." * (4096 - 12) + "\n"
FOLDED = "main (app.py:1);work (app.py:9) 3\nmain (app.py:2) 1\n"


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "p.folded"
    path.write_text(FOLDED)
    return path


def _commands(p: Path, out: Path) -> list[list[str]]:
    """Every command with an output option, writing to ``out``."""
    return [
        ["analyze", str(p), "-o", str(out)],
        ["analyze", str(p), "-f", "html", "-o", str(out)],
        ["convert", str(p), "-o", str(out), "--to", "speedscope"],
        ["diff", str(p), str(p), "-o", str(out)],
        ["gate", str(p), str(p), "-o", str(out)],
        ["gate", str(p), str(p), "--junit", str(out)],
        ["gate", str(p), str(p), "--summary", str(out)],
    ]


def _one_line_exit_2(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (args, result.output, result.exception)
    assert result.stderr.count("\n") == 1 and needle in result.stderr, (args, result.stderr)


def test_output_into_a_missing_directory_is_one_line_exit_2(profile: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "report.txt"
    for args in _commands(profile, out):
        _one_line_exit_2(args, f"cannot write {out}: directory {out.parent} does not exist")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{p}"],
        ["analyze", "{p}", "-f", "json", "-o", "-"],
        ["convert", "{p}", "-o", "-", "--to", "folded"],
        ["diff", "{p}", "{p}"],
        ["gate", "{p}", "{p}"],
    ],
)
def test_stdout_to_dev_full_is_one_line_exit_2(profile: Path, args: list[str]) -> None:
    argv = [a.replace("{p}", str(profile)) for a in args]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "hotpath", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr == "hotpath: error: cannot write to standard output: No space left on device\n"
    )


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A directory on a real, full 16 KiB tmpfs holding one 'old' file."""
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)])
    require(done.returncode == 0, "mount -t tmpfs failed")
    try:
        (mount / "old.txt").write_text(OLD)  # a whole page: an append needs a new one
        fd = os.open(mount / "fill", os.O_WRONLY | os.O_CREAT)
        try:
            with pytest.raises(OSError):
                while True:
                    os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_full_disk_is_one_line_exit_2_and_leaves_no_partial_or_empty_file(
    profile: Path, full_disk: Path
) -> None:
    new = full_disk / "new.txt"
    old = full_disk / "old.txt"
    for args in _commands(profile, new) + _commands(profile, old):
        _one_line_exit_2(args, "No space left on device")
        assert not new.exists(), args  # no 0-byte file (gate --summary appended to create it)
        assert old.read_text() == OLD, args  # whole, never cut or appended to
    assert sorted(p.name for p in full_disk.iterdir()) == ["fill", "old.txt"]  # no temp files


def test_output_onto_a_device_node_writes_to_it(profile: Path, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "creating a device node needs root")
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    for args in _commands(profile, node):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        assert stat.S_ISCHR(node.stat().st_mode), args  # still the device, not a file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null", "p.folded"]


def test_output_onto_a_fifo_streams_into_it(profile: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for args in _commands(profile, fifo):
        got: list[bytes] = []
        reader = threading.Thread(target=lambda got=got: got.append(fifo.read_bytes()))
        reader.start()
        result = CliRunner().invoke(main, args)
        reader.join(timeout=30)
        assert result.exit_code == 0, (args, result.output)
        assert got and got[0].strip(), args
        assert stat.S_ISFIFO(fifo.lstat().st_mode), args
    assert b"hotpath gate" in got[0]  # the last command: the Markdown summary


def test_output_through_a_symlink_to_stdout_writes_to_stdout(profile: Path, tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("/proc/self/fd/1")
    proc = subprocess.run(
        [sys.executable, "-m", "hotpath", "analyze", str(profile), "-f", "json", "-o", str(link)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"schema": "hotpath.report/1"' in proc.stdout
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"


def test_output_through_a_symlink_to_a_file_replaces_the_file_keeps_the_link(
    profile: Path, tmp_path: Path
) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    result = CliRunner().invoke(main, ["analyze", str(profile), "-o", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and "work" in target.read_text()


def test_summary_appends_to_an_existing_file(profile: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    for _ in range(2):
        result = CliRunner().invoke(
            main, ["gate", str(profile), str(profile), "--summary", str(summary)]
        )
        assert result.exit_code == 0, result.output
    text = summary.read_text()
    assert text.startswith("# earlier step\n") and text.count("hotpath gate: ") == 2


@pytest.mark.parametrize("command", [["record"], ["attach", str(os.getpid())]])
def test_record_and_attach_check_the_output_before_sampling(
    tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "missing" / "x.hotpath"
    args = [*command, "-o", str(out)]
    if command == ["record"]:
        args += ["--", sys.executable, "-c", "pass"]
    _one_line_exit_2(args, f"cannot write {out}: directory {out.parent} does not exist")

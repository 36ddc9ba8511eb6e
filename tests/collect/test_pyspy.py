"""py-spy driven for real: real child processes, real signals, real permission failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from hotpath.collect.pyspy import PySpyRecorder, RecordOptions, find_pyspy, record
from hotpath.errors import CollectionError, UsageError
from hotpath.formats import read_profile
from hotpath.model import CPU, IDLE, MEASURE, PID, STATE, THREAD, WALL, cpu_view, wall_view
from tests.collect.support import TARGETS, hotpath_cmd, require, require_ptrace


def _by_label(profile, key: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    for _frames, labels, w in profile.iter_samples():
        v = dict(labels).get(key)
        if v is not None:
            out[v] = out.get(v, 0.0) + w
    return out


def test_find_pyspy_is_the_installed_executable() -> None:
    exe = find_pyspy()
    assert os.access(exe, os.X_OK)
    assert subprocess.run([exe, "--version"], capture_output=True).stdout.startswith(b"py-spy")


def test_record_options_reject_bad_rate() -> None:
    with pytest.raises(UsageError):
        RecordOptions(rate=0)


def test_record_cpu_matches_thread_clocks_and_idle_is_split() -> None:
    """CPU per thread vs the target's own time.thread_time(); the sleeper is mostly idle."""
    require_ptrace()
    with tempfile.TemporaryFile() as out:
        rec = PySpyRecorder(
            [sys.executable, str(TARGETS / "burn.py"), "2.5"], RecordOptions(rate=200)
        )
        # The target's stdout is ours: capture it through a file descriptor swap.
        saved = os.dup(1)
        os.dup2(out.fileno(), 1)
        try:
            rec.start()
            result = rec.wait()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        out.seek(0)
        truth = json.loads(out.read().decode().strip().splitlines()[-1])
    assert result.stopped_by == "target exited"
    cpu = _by_label(cpu_view(result.profile), THREAD)
    burner_truth = truth["burner"]["cpu_s"]
    assert burner_truth > 0.1  # a loaded CI machine still gives it some CPU
    assert abs(cpu["burner"] - burner_truth) / burner_truth < 0.15, (cpu, truth)
    assert cpu.get("sleeper", 0.0) < 0.1
    wall = wall_view(result.profile)
    states: dict[str, float] = {}
    for _f, labels, w in wall.iter_samples():
        d = dict(labels)
        if d.get(THREAD) == "sleeper":
            states[d[STATE]] = states.get(d[STATE], 0.0) + w
    assert states[IDLE] > 0.8 * sum(states.values()), states
    assert {v for _f, ls, _w in result.profile.iter_samples() for k, v in ls if k == MEASURE} == {
        CPU,
        WALL,
    }


def test_bad_pid_is_collection_error() -> None:
    with pytest.raises(CollectionError, match="no such process"):
        record(4_000_000, RecordOptions(duration=1))


def test_cli_attach_bad_pid_exits_3() -> None:
    out = subprocess.run([*hotpath_cmd(), "attach", "4000000"], capture_output=True, timeout=60)
    assert out.returncode == 3
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "no such process" in lines[0]


def _start_hotpath_record(tmp: Path, seconds: float) -> tuple[subprocess.Popen[bytes], Path]:
    target = tmp / "out.hotpath"
    cmd = [*hotpath_cmd(), "record", "--rate", "200", "-o", str(target), "--"]
    cmd += [sys.executable, str(TARGETS / "burn.py"), str(seconds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, target


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_record_interrupted_keeps_data(tmp_path: Path, sig: int) -> None:
    require_ptrace()
    proc, target = _start_hotpath_record(tmp_path, 30)
    # hotpath sets its signal handlers before it starts the command: once the command is
    # its child, a signal is a stop (a fixed 2 s sleep was too short for start-up at load
    # 12, and SIGTERM then ended hotpath before its handler was set).
    deadline = time.monotonic() + 60
    while not _children(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline, proc.poll()
        time.sleep(0.05)
    time.sleep(1.5)  # samples to keep: 200 Hz for 1.5 s
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"wrote what was collected" in err
    assert (b"Ctrl-C" if sig == signal.SIGINT else b"SIGTERM") in err
    profile = read_profile(target)
    assert profile.meta.sample_count and profile.meta.sample_count > 50
    assert _by_label(cpu_view(profile), THREAD).get("burner", 0.0) > 0.01


def test_cli_record_target_exit_keeps_data(tmp_path: Path) -> None:
    require_ptrace()
    proc, target = _start_hotpath_record(tmp_path, 1.5)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"the target exited" in err
    profile = read_profile(target)
    assert _by_label(cpu_view(profile), THREAD).get("burner", 0.0) > 0.01


def test_cli_ptrace_refused_exits_3_naming_the_fix(tmp_path: Path) -> None:
    """An unprivileged sampler against a root-owned process: exit 3, the fix named."""
    require_ptrace()
    require(os.geteuid() == 0, "needs root to own the target and drop to nobody")
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        out_dir = tempfile.mkdtemp()
        os.chmod(out_dir, 0o777)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        cmd += [*hotpath_cmd(), "attach", str(victim.pid), "-d", "2", "-o", f"{out_dir}/x"]
        env = dict(os.environ, HOME=out_dir, TMPDIR=out_dir)
        out = subprocess.run(cmd, capture_output=True, timeout=60, env=env)
    finally:
        victim.kill()
        victim.wait()
    err = out.stderr.decode()
    assert out.returncode == 3, err
    assert len(err.strip().splitlines()) == 1, err
    for fix in ("ptrace", "root", "CAP_SYS_PTRACE", "kernel.yama.ptrace_scope"):
        assert fix in err


def test_subprocesses_give_one_profile_with_per_process_labels() -> None:
    require_ptrace()
    result = record(
        [sys.executable, str(TARGETS / "workers.py"), "2.5"],
        RecordOptions(rate=200, subprocesses=True),
    )
    cpu = _by_label(cpu_view(result.profile), PID)
    busy = {pid: s for pid, s in cpu.items() if s > 0.02}
    assert len(busy) >= 2, cpu


def test_gunicorn_workers_with_subprocesses_labelled_per_process(tmp_path: Path) -> None:
    """A real gunicorn master with 2 sync workers, attached with --subprocesses."""
    require_ptrace()
    import http.client
    import socket

    with socket.socket() as s:  # a free port for gunicorn (it cannot report port 0 back)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--chdir", str(TARGETS), "wsgi_app:application"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and master.poll() is None
                time.sleep(0.1)
        time.sleep(0.5)  # both workers booted
        rec = PySpyRecorder(master.pid, RecordOptions(rate=200, subprocesses=True))
        rec.start()
        stop = time.monotonic() + 2.5
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
        rec.stop()
        profile = rec.wait().profile
    finally:
        master.terminate()
        master.wait(15)
    wall = _by_label(wall_view(profile), PID)
    assert str(master.pid) in wall and len(wall) >= 3, wall  # master + 2 workers
    cmdlines = profile.label_values("process")
    assert any("gunicorn" in c for c in cmdlines), cmdlines
    assert sum(_by_label(cpu_view(profile), PID).values()) > 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def test_cli_record_py_spy_killed_says_what_was_lost(tmp_path: Path) -> None:
    require_ptrace()
    proc, target = _start_hotpath_record(tmp_path, 30)
    time.sleep(2.0)
    spies = [p for p in _children(proc.pid) if "py-spy" in Path(f"/proc/{p}/cmdline").read_text()]
    assert spies, "no py-spy child found"
    for p in spies:
        os.kill(p, signal.SIGKILL)
    _out, err = proc.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 3
    assert len(lines) == 1 and "py-spy was killed by SIGKILL" in lines[0], lines
    assert "samples it had taken are lost" in lines[0] and "no profile was written" in lines[0]
    assert not target.exists()
    assert not list(tmp_path.glob("*.tmp*")), "a temporary file was left behind"


def test_cli_record_disk_full_keeps_the_old_file_and_says_so(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (a full disk for hotpath and the py-spy it starts): py-spy cannot write
    its samples, the one-line error says they are lost, and a profile already at the output
    path is left whole, with no temporary file beside it."""
    require_ptrace()
    target = tmp_path / "out.hotpath"
    target.write_bytes(b"previous contents")
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from hotpath.cli import run\n"
        "sys.argv = sys.argv[1:]\n"
        "run()\n"
    )
    cmd = [sys.executable, "-c", script, "hotpath", "record", "--rate", "200", "-o", str(target)]
    cmd += ["--", sys.executable, str(TARGETS / "burn.py"), "1.5"]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    lines = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 3, lines
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert "SIGXFSZ (the file size limit" in lines[0] and "are lost" in lines[0], lines
    assert target.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.hotpath"]

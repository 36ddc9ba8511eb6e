"""``hotpath demo --prove``: capture the kernel's real calls, replay them against Rust, predict
the saving, then measure it with the Rust function swapped into the running monolith.

1. :func:`capture_live`: the monolith served through hotpath's WSGI middleware with
   ``capture="hotpath.demo.kernel:edit_distance"`` under a bounded load; its capture file.
2. :func:`replay_kernel`: ``hotpath replay`` of those calls against
   ``hotpath.demo.kernel_rust:edit_distance`` (jellyfish): equal? how much faster per call?
3. :func:`predict`: the advisor on the demo's py-spy profile with that measured speed-up:
   the saving predicted for ``edit_distance``, share x (1 - 1/k).
4. :func:`measure_swap`: two monoliths side by side, one with ``HOTPATH_DEMO_RUST_KERNEL=1``,
   given the same requests at the same time, round after round; the saving is 1 - (process
   CPU with Rust) / (process CPU without), read from ``/proc`` (Linux).
"""

from __future__ import annotations

import glob
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from hotpath.errors import CollectionError

if TYPE_CHECKING:
    from hotpath.analysis.results import Candidate
    from hotpath.model import Profile
    from hotpath.prove.replay import ReplayResult

KERNEL = "hotpath.demo.kernel:edit_distance"
RUST_KERNEL = "hotpath.demo.kernel_rust:edit_distance"


@dataclass(frozen=True)
class ProveOptions:
    capture_s: float = 5.0
    clients: int = 4
    calls: int = 1000
    replay_s: float = 20.0
    rounds: int = 4
    round_requests: int = 150
    """Requests of the default mix per server per round of :func:`measure_swap`."""


def start_monolith(
    workdir: str, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """``python -m hotpath.demo.app`` on a free loopback port, warmed up; (process, port)."""
    port_file = os.path.join(workdir, f"port-{time.monotonic_ns()}")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPATH_DEMO_")}
    child_env.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotpath.demo.app", "--port", "0", "--port-file", port_file, *args],
        stdout=subprocess.DEVNULL,
        env=child_env,
    )
    deadline = time.monotonic() + 60
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise CollectionError("the sample monolith did not start")
        time.sleep(0.05)
    with open(port_file, encoding="utf-8") as f:
        port = int(f.read())
    for path in ("/health", "/kernel", "/tags", "/report", "/orders", "/export"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def capture_live(workdir: str, options: ProveOptions) -> list[str]:
    """Serve the monolith capturing the kernel's calls under load; the capture file(s)."""
    from hotpath.demo.load import LoadOptions, run_load

    out_dir = os.path.join(workdir, "captured")
    proc, port = start_monolith(
        workdir, "--capture", KERNEL, "--capture-dir", out_dir,
        "--capture-calls", str(options.calls),
    )  # fmt: skip
    try:
        run_load(
            LoadOptions(port, clients=options.clients, requests=100_000,
                        duration_s=options.capture_s)
        )  # fmt: skip
    finally:
        stop(proc)
    paths = sorted(glob.glob(os.path.join(out_dir, "hotpath-capture-*.json")))
    if not paths:
        raise CollectionError(f"the monolith wrote no capture file in {out_dir}")
    return paths


def replay_kernel(paths: list[str], options: ProveOptions) -> ReplayResult:
    """The captured calls replayed against jellyfish, timed against the pure-Python kernel."""
    from hotpath.prove.files import read_captures
    from hotpath.prove.replay import ReplayOptions, load_function, replay

    cap = read_captures(paths)
    return replay(
        cap,
        load_function(RUST_KERNEL, "replacement"),
        RUST_KERNEL,
        load_function(KERNEL, "original"),
        KERNEL,
        ReplayOptions(max_seconds=options.replay_s),
    )


@dataclass(frozen=True)
class Prediction:
    candidate: Candidate
    point: float
    """share x (1 - 1/median k)."""
    interval: tuple[float, float]
    k: float


def predict(profile: Profile, result_path: str, capture_paths: list[str]) -> Prediction:
    """The advisor's saving for ``edit_distance`` with the replay's measured speed-up."""
    from hotpath.analysis.options import AdvisorOptions, AnalyzeOptions
    from hotpath.analysis.pipeline import analyze
    from hotpath.prove.evidence import boundaries_from, speedups_from

    measured = speedups_from([result_path])
    advisor = AdvisorOptions(measured=measured, boundaries=boundaries_from(capture_paths))
    source_root = os.path.dirname(os.path.abspath(__file__))
    analysis = analyze(profile, AnalyzeOptions(source_root=source_root, advisor=advisor))
    for c in analysis.candidates or []:
        if c.kind == "function" and c.target == "edit_distance":
            k = measured[0].median
            return Prediction(c, c.share * (1 - 1 / k), c.saving_share, k)
    raise CollectionError("the advisor listed no edit_distance candidate in this profile")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError as exc:
        raise CollectionError(f"cannot read the CPU time of process {pid}: {exc}") from None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measured:
    saving: float
    """1 - CPU with Rust / CPU without, over all rounds."""
    per_round: list[float]
    cpu_python_s: float
    cpu_rust_s: float


def measure_swap(workdir: str, options: ProveOptions) -> Measured:
    """The process-CPU saving of the Rust kernel: two monoliths side by side, each round giving
    both the same requests at the same time (half the clients each), so that whatever else
    the machine runs meanwhile disturbs both alike."""
    import threading

    from hotpath.demo.kernel import RUST_ENV
    from hotpath.demo.load import LoadOptions, LoadResult, run_load

    python, p_port = start_monolith(workdir)
    try:
        rust, r_port = start_monolith(workdir, env={RUST_ENV: "1"})
    except BaseException:
        stop(python)
        raise
    spent = {"python": 0.0, "rust": 0.0}
    per_round = []
    clients = max(1, options.clients // 2)
    servers = {"python": (python, p_port), "rust": (rust, r_port)}

    def load(port: int, requests: int, into: dict[str, LoadResult], name: str) -> None:
        into[name] = run_load(LoadOptions(port, clients=clients, requests=requests, duration_s=120))

    def round_(requests: int) -> dict[str, float]:
        done: dict[str, LoadResult] = {}
        cpu0 = {name: process_cpu(proc.pid) for name, (proc, _port) in servers.items()}
        threads = [
            threading.Thread(target=load, args=(port, requests, done, name))
            for name, (_proc, port) in servers.items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = {name: process_cpu(proc.pid) - cpu0[name] for name, (proc, _p) in servers.items()}
        for name, result in done.items():
            if result.errors or result.total != requests:
                raise CollectionError(f"{name} monolith: {result.as_dict()}")
        return took

    try:
        round_(60)  # a round first: caches, connections
        for _r in range(options.rounds):
            took = round_(options.round_requests)
            spent["python"] += took["python"]
            spent["rust"] += took["rust"]
            per_round.append(1 - took["rust"] / took["python"] if took["python"] else 0.0)
    finally:
        stop(python)
        stop(rust)
    saving = 1 - spent["rust"] / spent["python"] if spent["python"] else 0.0
    return Measured(saving, per_round, spent["python"], spent["rust"])


def prove(profile: Profile, options: ProveOptions, out_dir: str, out: TextIO) -> dict[str, Any]:
    """All four steps, told on ``out``; the replay result and capture are kept in out_dir."""
    import json
    import shutil

    from hotpath.collect.store import atomic_writer

    with tempfile.TemporaryDirectory(prefix="hotpath-prove-") as tmp:
        print("hotpath demo: capturing edit_distance's calls (middleware)", file=sys.stderr)
        paths = capture_live(tmp, options)
        kept = []
        for i, path in enumerate(paths):
            dest = os.path.join(out_dir, f"hotpath-demo.capture{'' if i == 0 else i}.json")
            shutil.copyfile(path, dest)
            os.chmod(dest, 0o600)
            kept.append(dest)
        print("hotpath demo: replaying them against jellyfish", file=sys.stderr)
        result = replay_kernel(kept, options)
        result_path = os.path.join(out_dir, "hotpath-demo.replay.json")
        with atomic_writer(result_path) as f:
            f.write(json.dumps(result.document(), indent=1) + "\n")
        prediction = predict(profile, result_path, kept)
        print("hotpath demo: measuring the swap (two monoliths, same requests)", file=sys.stderr)
        measured = measure_swap(tmp, options)
    lo, hi = prediction.interval
    out.write("\nProving it: edit_distance -> jellyfish.levenshtein_distance\n")
    out.write(f"  capture: {result.recorded_calls:,} calls seen, {result.records:,} recorded\n")
    out.write(f"  replay:  {result.summary()}\n")
    out.write(
        f"  predicted saving: {prediction.point:.1%} of the CPU "
        f"({lo:.1%}-{hi:.1%}; share {prediction.candidate.share:.1%} "
        f"x (1 - 1/{prediction.k:.0f}))\n"
    )
    rounds = ", ".join(f"{s:.1%}" for s in measured.per_round)
    out.write(
        f"  measured saving:  {measured.saving:.1%} of the process CPU with jellyfish swapped in "
        f"(rounds: {rounds}; {measured.cpu_python_s:.2f} s -> {measured.cpu_rust_s:.2f} s)\n"
    )
    if prediction.candidate.brief:
        out.write("\n" + prediction.candidate.brief + "\n")
    return {
        "predicted": prediction.point,
        "interval": [lo, hi],
        "measured": measured.saving,
        "per_round": measured.per_round,
        "replay": result.document(),
        "median_spread": statistics.pstdev(measured.per_round) if measured.per_round else 0.0,
    }

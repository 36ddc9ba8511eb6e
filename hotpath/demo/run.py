"""``hotpath demo``: profile the bundled monolith under a bounded load and show the result.

Starts the sample monolith on a free loopback port, warms it up, attaches py-spy, drives
``clients`` concurrent clients for ``duration_s`` seconds, stops, analyses, prints the endpoint
and function tables, and writes report files (``hotpath-demo.json`` and every other file
renderer registered, e.g. html) plus the profile (``hotpath-demo.hotpath``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from typing import TextIO

from hotpath.errors import CollectionError


@dataclass(frozen=True)
class DemoOptions:
    duration_s: float = 15.0
    clients: int = 4
    out_dir: str = "."
    rate: int = 500
    nonblocking: bool = True
    """500 Hz without pausing the target: endpoint CPU shares within 3.4 points of the
    monolith's own measure, for no more than 100-200 Hz paused costs (docs/collect.md)."""
    prove: bool = False
    """Then capture the kernel's calls, replay them against jellyfish, predict and measure
    the saving (:mod:`hotpath.demo.prove`; needs ``pip install jellyfish``)."""


def endpoint_shares(profile: object) -> list[tuple[str, float, float]]:
    """(endpoint, CPU share, wall share) from a profile labelled by recognize, by CPU share."""
    from hotpath.analysis.endpoints import weight_by_endpoint
    from hotpath.analysis.recognize import label_endpoints
    from hotpath.model import Profile, cpu_view, wall_view

    if not isinstance(profile, Profile):
        raise TypeError("expected a Profile")
    p = label_endpoints(profile)
    cpu, wall = weight_by_endpoint(cpu_view(p)), weight_by_endpoint(wall_view(p))
    tot_cpu = sum(cpu.values()) or 1.0
    tot_wall = sum(wall.values()) or 1.0
    rows = [(k, cpu.get(k, 0.0) / tot_cpu, wall.get(k, 0.0) / tot_wall) for k in {*cpu, *wall}]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def _start_monolith(workdir: str) -> tuple[subprocess.Popen[bytes], int]:
    port_file = os.path.join(workdir, "port")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotpath.demo.app", "--port", "0", "--port-file", port_file],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise CollectionError("the sample monolith did not start")
        time.sleep(0.05)
    with open(port_file, encoding="utf-8") as f:
        return proc, int(f.read())


def run_demo(options: DemoOptions, out: TextIO) -> None:
    """Run the whole demo; progress notes go to stderr, tables to ``out``."""
    from hotpath.analysis.options import AnalyzeOptions
    from hotpath.analysis.pipeline import analyze
    from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
    from hotpath.collect.store import atomic_writer
    from hotpath.demo.load import LoadOptions, run_load
    from hotpath.formats import write_profile
    from hotpath.report import REGISTRY

    if options.prove:
        _require_jellyfish()
    with tempfile.TemporaryDirectory(prefix="hotpath-demo-") as tmp:
        proc, port = _start_monolith(tmp)
        try:
            for _ in range(6):  # warm-up: first requests build caches
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).read()
            print(f"hotpath demo: monolith on 127.0.0.1:{port}, pid {proc.pid}", file=sys.stderr)
            rec = PySpyRecorder(
                proc.pid, RecordOptions(rate=options.rate, nonblocking=options.nonblocking)
            )
            rec.start()
            load = run_load(
                LoadOptions(
                    port, clients=options.clients, requests=100_000, duration_s=options.duration_s
                )
            )
            rec.stop("duration")
            result = rec.wait()
        finally:
            proc.terminate()
            proc.wait(10)
    print(
        f"hotpath demo: {load.total} requests from {options.clients} clients in "
        f"{load.elapsed_s:.1f} s; {result.samples} py-spy samples",
        file=sys.stderr,
    )
    profile = result.profile
    out.write(
        "Endpoints, as shares of the time spent in any endpoint (recognised from stacks;\n"
        "CPU from per-thread clocks). The tables below give shares of all the CPU.\n"
    )
    for name, cpu, wall in endpoint_shares(profile):
        out.write(f"  {cpu * 100:5.1f}% CPU  {wall * 100:5.1f}% wall  {name}\n")
    out.write("\n")
    # The monolith's own source is the app: the advisor reads its lines (is a sampled line
    # plain Python, a database call, I/O?) and the Pareto sentence counts its functions.
    source_root = os.path.dirname(os.path.abspath(__file__))
    analysis = analyze(profile, AnalyzeOptions(source_root=source_root, top=15))
    REGISTRY["text"].render(analysis, out)
    os.makedirs(options.out_dir, exist_ok=True)
    written = []
    with atomic_writer(os.path.join(options.out_dir, "hotpath-demo.hotpath"), binary=True) as f:
        write_profile(profile, f, "hotpath")
    written.append("hotpath-demo.hotpath")
    for name, renderer in REGISTRY.items():
        if name == "text":
            continue
        fname = f"hotpath-demo{renderer.extension}"
        with atomic_writer(os.path.join(options.out_dir, fname), binary=renderer.binary) as f:
            renderer.render(analysis, f)
        written.append(fname)
    print(f"hotpath demo: wrote {', '.join(written)} in {options.out_dir}", file=sys.stderr)
    if options.prove:
        from hotpath.demo.prove import ProveOptions, prove

        prove(profile, ProveOptions(clients=options.clients), options.out_dir, out)


def _require_jellyfish() -> None:
    import importlib.util

    if importlib.util.find_spec("jellyfish") is None:
        raise CollectionError(
            "hotpath demo --prove replays the kernel against jellyfish: pip install jellyfish "
            "(or pip install 'hotpath[prove]')"
        )

"""What attaching costs the sample monolith: requests per second under the same bounded load,
with no profiler and with ``hotpath record`` at several py-spy settings (run by hand).

    .venv/bin/python -m benchmarks.pyspy_overhead [--seconds 5] [--repeat 3]

The monolith serves 4 loopback clients on this machine; the load generator and hotpath share
its cores, as they would not in production, so the ratios are upper bounds on the cost.
Settings are interleaved; each is compared with the same round's run without a profiler.
py-spy's own CPU (a share of one core, median over rounds) is printed too: on a loaded machine
it is the steadier measure of what sampling costs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hotpath.collect.pyspy import PySpyRecorder, RecordOptions
from hotpath.demo.load import LoadOptions, run_load

SETTINGS: list[tuple[str, RecordOptions | None]] = [
    ("no profiler", None),
    ("100 Hz, paused", RecordOptions(rate=100, nonblocking=False)),
    ("200 Hz, paused", RecordOptions(rate=200, nonblocking=False)),
    ("500 Hz, --nonblocking (the default)", RecordOptions(rate=500, nonblocking=True)),
    ("500 Hz, paused", RecordOptions(rate=500, nonblocking=False)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotpath.demo.app",
                "--port",
                "0",
                "--port-file",
                str(port_file),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the sample monolith did not start")
                time.sleep(0.05)
            port = int(port_file.read_text())
            run_load(LoadOptions(port, clients=4, requests=24, duration_s=10))  # warm up
            rates: dict[str, list[float]] = {name: [] for name, _ in SETTINGS}
            cost: dict[str, list[float]] = {name: [] for name, _ in SETTINGS}
            for _ in range(args.repeat):
                for name, options in SETTINGS:
                    rec = PySpyRecorder(server.pid, options) if options is not None else None
                    if rec is not None:
                        rec.start()
                    load = run_load(
                        LoadOptions(port, clients=4, requests=100_000, duration_s=args.seconds)
                    )
                    if rec is not None:
                        rec.stop("duration")
                        result = rec.wait()
                        if rec.pyspy_cpu_s is not None:
                            cost[name].append(rec.pyspy_cpu_s / result.elapsed_s)
                    rates[name].append(load.total / load.elapsed_s)
        finally:
            server.terminate()
            server.wait(10)
    # Each round's ratio against the same round's run without a profiler (the machine's load
    # drifts between rounds more than within one), then their median.
    base = rates["no profiler"]
    for name, values in rates.items():
        ratios = sorted(v / b for v, b in zip(values, base, strict=True))
        median = ratios[len(ratios) // 2]
        runs = ", ".join(f"{v:.1f}" for v in values)
        spy = sorted(cost[name])
        own = f"py-spy {100 * spy[len(spy) // 2]:3.0f}% of a core" if spy else " " * 22
        print(f"{name:36s} median ratio {median:5.2f}x  {own}  req/s per round: {runs}")


if __name__ == "__main__":
    main()

"""What capturing a function's calls costs (ratio vs no capture, measured in the same run).

    python benchmarks/capture.py [--rounds 7] [--batch 96] [--calls 1000] [--served]

1. **In process, the demo kernel**: ``run_batch`` of the monolith's ``kernel-only`` mix (each
   request ranks 185 names by ``edit_distance``, ~25 us a call), timed with the thread's CPU
   clock, with and without a capture of ``hotpath.demo.kernel:edit_distance``, rounds
   alternating which goes first. Prints each round's ratio and the median (capture / none).
   The first ``--calls`` calls are all recorded (the reservoir fills), so the first round
   costs more; later rounds show the steady cost of sampling.
2. **Per call of a trivial function**: the wrapper's fixed cost on an unrecorded call
   (a counter and one random number), in ns, against calling the function directly.
3. ``--served``: three monoliths side by side, given the same requests at the same time:
   plain, through the middleware (counting only), and through the middleware with
   ``capture=`` of the kernel; the ratios of their process CPU per round (middleware /
   plain, and capture / middleware: the capture's own cost).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def kernel_rounds(rounds: int, batch: int, calls: int, out_dir: str) -> list[float]:
    from hotpath.demo.app import create_app, run_batch
    from hotpath.prove.capture import capture

    app = create_app()
    cap = capture("hotpath.demo.kernel:edit_distance", f"{out_dir}/k.json", max_calls=calls)
    ratios = []
    try:
        run_batch(app, 6, "kernel-only")  # warm up
        for r in range(rounds):
            took = {}
            for with_capture in (False, True) if r % 2 == 0 else (True, False):
                gc.collect()
                if with_capture:
                    cap.install()
                t0 = time.thread_time()
                run_batch(app, batch, "kernel-only")
                took[with_capture] = time.thread_time() - t0
                if with_capture:
                    cap.uninstall()
            ratios.append(took[True] / took[False])
    finally:
        app.ctx.db.close()
    cap.write()
    return ratios


def per_call_ns(n: int = 1_000_000) -> tuple[float, float]:
    from hotpath.prove.capture import Capture, CaptureOptions

    def f(x: int) -> int:
        return x

    wrapped = Capture("bench:f", None, CaptureOptions(max_calls=1)).wrap(f)
    wrapped(0)  # the one kept call
    best = {"plain": 1e9, "wrapped": 1e9}
    for _ in range(5):
        for name, fn in (("plain", f), ("wrapped", wrapped)):
            t0 = time.perf_counter()
            for i in range(n):
                fn(i)
            best[name] = min(best[name], (time.perf_counter() - t0) / n * 1e9)
    return best["plain"], best["wrapped"]


def served(rounds: int, requests: int, calls: int) -> list[tuple[float, float]]:
    """Per round: (middleware / plain, middleware + capture / middleware) process CPU."""
    import threading

    from hotpath.demo.load import LoadOptions, run_load
    from hotpath.demo.prove import process_cpu, start_monolith, stop

    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        servers = [
            start_monolith(tmp),
            start_monolith(tmp, "--middleware", "--capture-dir", tmp),
            start_monolith(
                tmp, "--capture", "hotpath.demo.kernel:edit_distance", "--capture-dir", tmp,
                "--capture-calls", str(calls),
            ),
        ]  # fmt: skip
        try:
            for _ in range(rounds):
                cpu0 = [process_cpu(proc.pid) for proc, _port in servers]
                ts = [
                    threading.Thread(
                        target=run_load,
                        args=(LoadOptions(port, clients=2, requests=requests, duration_s=120),),
                    )
                    for _proc, port in servers
                ]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                used = [
                    process_cpu(proc.pid) - c for (proc, _p), c in zip(servers, cpu0, strict=True)
                ]
                ratios.append((used[1] / used[0], used[2] / used[1]))
        finally:
            for proc, _port in servers:
                stop(proc)
    return ratios


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--batch", type=int, default=96)
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--served", action="store_true")
    p.add_argument("--requests", type=int, default=150)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ratios = kernel_rounds(a.rounds, a.batch, a.calls, tmp)
    print("kernel in process, CPU with capture / without, per round:",
          ", ".join(f"{r:.3f}" for r in ratios))  # fmt: skip
    print(f"  median {statistics.median(ratios):.3f} (after the first round: "
          f"{statistics.median(ratios[1:]) if len(ratios) > 1 else ratios[0]:.3f})")  # fmt: skip
    plain, wrapped = per_call_ns()
    print(f"trivial function: {plain:.0f} ns plain, {wrapped:.0f} ns wrapped, unrecorded call")
    if a.served:
        sr = served(a.rounds, a.requests, a.calls)
        mw = [m for m, _c in sr]
        cap = [c for _m, c in sr]
        print("served, process CPU of middleware / plain:", ", ".join(f"{r:.3f}" for r in mw),
              f"median {statistics.median(mw):.3f}")  # fmt: skip
        print("served, process CPU of middleware + capture / middleware:",
              ", ".join(f"{r:.3f}" for r in cap),
              f"median {statistics.median(cap):.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

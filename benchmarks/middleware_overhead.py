"""Throughput cost of the hotpath middleware on the sample monolith (loopback, bounded).

    python benchmarks/middleware_overhead.py [--rounds 6] [--requests 600] [--clients 4]
                                             [--fraction F]   # default: the middleware's

Two server processes run the monolith side by side, one plain and one wrapped in
``WSGIMiddleware`` at its default settings (or ``--fraction``). Load runs alternate between
them (plain, hotpath, plain, hotpath ...) so drift on the machine hits both alike; each run
is a fixed number of requests from ``--clients`` threads of this process. It prints the
requests/s of every run and the ratio of medians (hotpath / plain).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(kind: str, port_file: str, out_dir: str, fraction: float | None) -> None:
    import signal
    from wsgiref.simple_server import make_server

    from hotpath.demo.app import QuietHandler, ThreadingWSGIServer, create_app

    app: object = create_app()
    if kind == "hotpath":
        from hotpath.middleware import WSGIMiddleware

        extra = {} if fraction is None else {"sample_fraction": fraction}
        app = WSGIMiddleware(app, output_dir=out_dir, endpoint=demo_endpoint, **extra)  # type: ignore[arg-type]
    httpd = make_server(
        "127.0.0.1",
        0,
        app,
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,  # type: ignore[arg-type]
    )
    with open(port_file + ".tmp", "w") as f:
        f.write(str(httpd.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    httpd.serve_forever()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc; Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(kind: str, tmp: str, fraction: float | None) -> tuple[subprocess.Popen[bytes], int]:
    port_file = os.path.join(tmp, f"{kind}-{len(os.listdir(tmp))}.port")
    cmd = [sys.executable, __file__, "--serve", kind, port_file, os.path.join(tmp, "out")]
    if fraction is not None:
        cmd += ["--fraction", str(fraction)]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{kind} server did not start")
        time.sleep(0.05)
    return proc, int(Path(port_file).read_text())


def demo_endpoint(environ: dict[str, object]) -> str | None:
    from hotpath.demo.app import VIEWS

    path = environ.get("PATH_INFO")  # the router's declared routes are fixed paths
    return f"GET {path}" if path in VIEWS else None


def in_process(rounds: int, n: int, fraction: float | None, aa: bool = False) -> None:
    """Thread CPU per request, app called directly (no sockets), plain vs wrapped."""
    from hotpath.demo.app import create_app, run_batch
    from hotpath.middleware import WSGIMiddleware

    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        extra = {} if fraction is None else {"sample_fraction": fraction}
        wrapped = WSGIMiddleware(app, output_dir=tmp, endpoint=demo_endpoint, **extra)  # type: ignore[arg-type]
        if aa:
            wrapped.options = replace(wrapped.options, enabled=False)
        run_batch(app, n)  # warm-up
        run_batch(wrapped, n)  # type: ignore[arg-type]
        cpu: dict[str, float] = {"plain": 0.0, "hotpath": 0.0}
        for r in range(rounds):
            order = [("plain", app), ("hotpath", wrapped)]
            for kind, target in order if r % 2 == 0 else order[::-1]:
                t0 = time.thread_time()
                run_batch(target, n)  # type: ignore[arg-type]
                cpu[kind] += time.thread_time() - t0
        wrapped.recorder.close()
    per = {k: v / (rounds * n) for k, v in cpu.items()}
    print(
        f"in-process CPU per request: plain {per['plain'] * 1000:.3f} ms, "
        f"hotpath {per['hotpath'] * 1000:.3f} ms, ratio {per['hotpath'] / per['plain']:.3f} "
        f"(cost {100 * (per['hotpath'] / per['plain'] - 1):+.1f}%)"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--requests", type=int, default=600)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--fraction", type=float, default=None)
    p.add_argument(
        "--in-process",
        type=int,
        default=0,
        metavar="N",
        help="also time N requests per round called in-process (no sockets, less noise)",
    )
    p.add_argument(
        "--aa", action="store_true", help="A/A check: hotpath side disabled (measures the noise)"
    )
    p.add_argument("--serve", nargs=3, metavar=("KIND", "PORT_FILE", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(*args.serve, args.fraction)
        return 0
    if args.in_process:
        in_process(args.rounds, args.in_process, args.fraction, args.aa)
        if args.requests == 0:
            return 0
    from hotpath.demo.load import LoadOptions, run_load
    from hotpath.formats import read_profiles

    with tempfile.TemporaryDirectory() as tmp:
        kinds = {"plain": "plain", "hotpath": "plain" if args.aa else "hotpath"}
        servers = {k: start(v, tmp, args.fraction) for k, v in kinds.items()}
        rates: dict[str, list[float]] = {"plain": [], "hotpath": []}
        # Server CPU per request: far less sensitive than req/s to other load on the box.
        cpu: dict[str, list[float]] = {"plain": [], "hotpath": []}
        try:
            for _proc, port in servers.values():  # warm-up, not measured
                run_load(LoadOptions(port=port, clients=args.clients, requests=60))
            for r in range(args.rounds):
                order = ("plain", "hotpath") if r % 2 == 0 else ("hotpath", "plain")
                for kind in order:
                    proc, port = servers[kind]
                    cpu0 = process_cpu_s(proc.pid)
                    res = run_load(
                        LoadOptions(port=port, clients=args.clients, requests=args.requests,
                                    duration_s=120)
                    )  # fmt: skip
                    if res.errors:
                        raise SystemExit(f"{kind}: failed requests {res.errors}")
                    rates[kind].append(res.total / res.elapsed_s)
                    cpu[kind].append((process_cpu_s(proc.pid) - cpu0) / res.total)
                    print(
                        f"round {r + 1} {kind:8s} {rates[kind][-1]:8.1f} req/s "
                        f"{cpu[kind][-1] * 1000:7.3f} ms server CPU/request",
                        flush=True,
                    )
        finally:
            for proc, _port in servers.values():
                proc.terminate()
                proc.wait(timeout=30)
        recorded, sampled = 0, "0"
        if not args.aa:
            prof = read_profiles([os.path.join(tmp, "out")])
            recorded = sum(r.count for r in prof.requests.values())
            sampled = prof.meta.attrs.get("sampled_requests", "?")
    plain, hot = statistics.median(rates["plain"]), statistics.median(rates["hotpath"])
    pairs = [h / p for p, h in zip(rates["plain"], rates["hotpath"], strict=True)]
    print(f"median of per-round ratios = {statistics.median(pairs):.3f}")
    print(f"median plain   {plain:.1f} req/s")
    print(f"median hotpath {hot:.1f} req/s")
    print(
        f"throughput ratio hotpath/plain = {hot / plain:.3f} (cost {100 * (1 - hot / plain):+.1f}%)"
    )
    cpu_plain, cpu_hot = sum(cpu["plain"]), sum(cpu["hotpath"])
    print(
        f"server CPU per request hotpath/plain = {cpu_hot / cpu_plain:.3f} "
        f"(cost {100 * (cpu_hot / cpu_plain - 1):+.1f}%)"
    )
    print(f"requests recorded by the middleware: {recorded} (profiled: {sampled})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

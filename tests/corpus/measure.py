"""One measurement of a corpus app: py-spy attached with default flags, or the middleware.

    python -m tests.corpus.measure [FRAMEWORK ...] [--runs N] [--seconds S] [--clients C]

prints, per framework and run, the endpoints recognised from the stacks, each endpoint's
CPU-share error against the app's own thread-CPU totals, and the machine load.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hotpath.analysis.endpoints import endpoint_rows
from hotpath.analysis.recognize import label_endpoints
from hotpath.collect.pyspy import Recorder, RecordOptions
from hotpath.formats import read_profiles
from hotpath.model import ENDPOINT, Profile, cpu_view
from tests.corpus import servers
from tests.corpus.load import drive
from tests.corpus.work import ENDPOINTS

CLIENTS = 3
"""Oversubscribed: three clients on this 2-core machine (more than the cores, as in
production, fewer than a server's threads)."""


@dataclass(frozen=True)
class AttachResult:
    framework: str
    endpoints: dict[str, float]
    """Every endpoint label recognised from the stacks -> its CPU weight."""
    errors: dict[str, float]
    """loop/sql/json -> our CPU share minus the app's own, in percentage points."""
    served: dict[str, int]
    truth_cpu_s: dict[str, float]

    @property
    def worst(self) -> float:
        return max(abs(e) for e in self.errors.values())


def endpoint_cpu(profile: Profile) -> dict[str, float]:
    out: dict[str, float] = {}
    for _frames, labels, w in cpu_view(label_endpoints(profile)).iter_samples():
        ep = dict(labels).get(ENDPOINT)
        if ep is not None:
            out[ep] = out.get(ep, 0.0) + w
    return out


def attach_once(name: str, tmp: Path, seconds: float = 3.0, clients: int = CLIENTS) -> AttachResult:
    """Serve the app, attach ``hotpath attach``'s recorder with its default options under
    load, and compare each endpoint's CPU share with the app's own measurement."""
    fw = servers.FRAMEWORKS[name]
    srv = servers.start(name, tmp)
    try:
        drive(srv.port, clients, 0.8)  # warm up: imports, per-thread databases, JITs of caches
        before = servers.get_stats(srv.port)
        rec = Recorder(srv.worker_pid, RecordOptions())
        rec.start()
        served = drive(srv.port, clients, seconds)
        rec.stop()
        profile = rec.wait().profile
        after = servers.get_stats(srv.port)
    finally:
        servers.stop(srv)
    truth = {e: after["cpu_s"][e] - before["cpu_s"][e] for e in ENDPOINTS}
    found = endpoint_cpu(profile)
    ours = {e: found.get(fw.views[e], 0.0) for e in ENDPOINTS}
    t_total, o_total = sum(truth.values()), sum(ours.values())
    errors = {
        e: 100 * ((ours[e] / o_total if o_total > 0 else 0.0) - truth[e] / t_total)
        for e in ENDPOINTS
    }
    return AttachResult(name, found, errors, served, truth)


@dataclass(frozen=True)
class MiddlewareResult:
    framework: str
    served: dict[str, int]
    """loop/sql/json -> 200 responses the clients got."""
    counted: dict[str, int]
    """Every endpoint in the middleware's files -> its request count."""
    percentiles: dict[str, tuple[float | None, float | None]]
    exit_code: int


def middleware_once(
    name: str, tmp: Path, requests: int = 90, clients: int = CLIENTS
) -> MiddlewareResult:
    """Serve the app with the middleware, send ``requests`` requests, stop the server with
    SIGTERM (as process managers do) and read back what the middleware wrote."""
    out = tmp / "mw"
    srv = servers.start(name, tmp, middleware_dir=out)
    try:
        served = drive(srv.port, clients, 60.0, max_requests=requests)
    finally:
        code = servers.stop(srv)
    profile = read_profiles([out]) if out.exists() and any(out.iterdir()) else Profile()
    rows = endpoint_rows(profile) or []
    return MiddlewareResult(
        name,
        served,
        {ep: r.count for ep, r in profile.requests.items()},
        {r.name: (r.p50_ms, r.p99_ms) for r in rows},
        code,
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("frameworks", nargs="*", default=list(servers.FRAMEWORKS))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--clients", type=int, default=CLIENTS)
    p.add_argument("--middleware", action="store_true")
    args = p.parse_args()
    for name in args.frameworks:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as d:
                load = os.getloadavg()[0]
                if args.middleware:
                    m = middleware_once(name, Path(d), clients=args.clients)
                    print(f"{name}: served {m.served} counted {m.counted} exit {m.exit_code}")
                    continue
                r = attach_once(name, Path(d), args.seconds, args.clients)
                errs = " ".join(f"{k}:{v:+.1f}" for k, v in r.errors.items())
                names = sorted(r.endpoints)
                print(
                    f"{name}: worst {r.worst:.1f} ({errs}) load {load:.1f} endpoints {names}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

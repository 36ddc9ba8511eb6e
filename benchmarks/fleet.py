"""A fleet's worth of small worker files: one process against ``--workers N`` (Dask).

Generates (once, into ``benchmarks/data/``) ``--files`` worker files from the synthetic
program of :mod:`benchmarks.generate`: half folded text, half hotpath's own format (what the
middleware writes: gzip JSON with endpoint labels and request statistics). Then times, each
as its own child process and interleaved over ``--repeat`` rounds (best kept):

- ``hotpath analyze --format json DIR`` (one process) on all files and on a tenth of them;
- the same with ``--workers N`` (a local Dask cluster), on all files, on a tenth, and on one
  file (the fixed cost: starting the cluster and closing it).

The per-file cost is the slope between the tenth and all files; ratios are against the
single-process run of the same round. The last lines extrapolate to 32 workers.

    python -m benchmarks.fleet                      # 2,000 files, --workers 2
    python -m benchmarks.fleet --files 500 --workers 2 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

from benchmarks.generate import make_pool, make_program, write_folded
from benchmarks.run import measure

HERE = Path(__file__).resolve().parent
FOLDED_BYTES = 40_000
"""One worker file: about a minute of py-spy at a low rate, or a day of one quiet endpoint."""


def ensure_fleet(data: Path, files: int, pool_size: int = 30_000) -> Path:
    """``files`` worker files (half folded, half hotpath format) in one folder."""
    folder = data / f"fleet-{files}"
    done = folder / ".complete"
    if done.exists():
        return folder
    sys.path.insert(0, str(HERE.parent))
    from hotpath.formats import read_bytes, write_profile
    from hotpath.model import RequestStats

    folder.mkdir(parents=True, exist_ok=True)
    pool = make_pool(make_program(1), size=pool_size)
    endpoints = [f"GET /api/v{i % 3}/items/{i}" for i in range(20)]
    for i in range(files):
        path = folder / f"worker-{i:05d}.folded"
        write_folded(path, FOLDED_BYTES, pool, 5000 + i)
        if i % 2 == 1:  # the hotpath format: the same stacks, labelled by endpoint
            prof = read_bytes(path.read_bytes(), path.name, "folded")
            rng = random.Random(i)
            out = type(prof)(prof.meta)
            out.frames, out._frame_ids = prof.frames, prof._frame_ids
            for (stack, _lid), w in prof.samples.items():
                out.add(stack, w, out.intern_labels({"endpoint": rng.choice(endpoints)}))
            for ep in endpoints[:5]:
                out.requests[ep] = RequestStats(10, 0.5, 0.25, {"200": 10}, {60: 10})
            path.unlink()
            with open(folder / f"worker-{i:05d}.hotpath.json.gz", "wb") as f:
                write_profile(out, f, "hotpath")
    done.write_text("ok\n")
    return folder


def _cmd(inputs: list[str], workers: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "hotpath", "analyze", "--format", "json", *inputs]
    return cmd + (["--workers", str(workers)] if workers else [])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--data", type=Path, default=HERE / "data")
    args = p.parse_args(argv)
    folder = ensure_fleet(args.data, args.files)
    every = sorted(str(f) for f in folder.iterdir() if not f.name.startswith("."))
    tenth = every[: max(1, len(every) // 10)]
    cases = {
        "single, all": _cmd([str(folder)], None),
        "single, tenth": _cmd(tenth, None),
        f"workers={args.workers}, all": _cmd([str(folder)], args.workers),
        f"workers={args.workers}, tenth": _cmd(tenth, args.workers),
        f"workers={args.workers}, one file": _cmd(every[:1], args.workers),
    }
    best: dict[str, float] = {}
    print(
        f"{len(every)} files, {sum(os.path.getsize(f) for f in every) / 1e6:.1f} MB;"
        f" load {os.getloadavg()[0]:.2f}"
    )
    for _ in range(args.repeat):
        for name, cmd in cases.items():
            wall, rss, rc, tail = measure(cmd)
            if rc != 0:
                print(f"{name}: exit {rc}: {tail}", file=sys.stderr)
                return 2
            best[name] = min(wall, best.get(name, wall))
            print(f"  {name:<24} {wall:7.2f} s  peak {rss:6.0f} MiB (client)")
    w = args.workers
    single, dist = best["single, all"], best[f"workers={w}, all"]
    n, n10 = len(every), len(tenth)
    per_file_1 = (single - best["single, tenth"]) / (n - n10)
    per_file_w = (dist - best[f"workers={w}, tenth"]) / (n - n10)
    fixed = best[f"workers={w}, one file"]
    print(
        f"single process: {single:.2f} s; --workers {w}: {dist:.2f} s "
        f"(ratio {dist / single:.2f} of single)"
    )
    print(
        f"per file: single {per_file_1 * 1e3:.2f} ms; --workers {w} {per_file_w * 1e3:.2f} ms "
        f"wall ({per_file_w * w * 1e3:.2f} ms of worker time, "
        f"{per_file_w * w / per_file_1:.2f}x single)"
    )
    print(f"fixed cost of --workers {w} (start, one file, close): {fixed:.2f} s")
    task_cost = per_file_w * w  # worker-seconds per file, Dask overhead included
    for files in (2000, 20_000):
        est = fixed + task_cost * files / 32
        print(
            f"implied at 32 workers, {files} files: {est:.1f} s "
            f"(fixed {fixed:.1f} s + {task_cost * 1e3:.2f} ms x {files} / 32; "
            f"one process: {single / n * files:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

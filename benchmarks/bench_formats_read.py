"""Time and peak memory of reading a synthetic py-spy-like speedscope file.

Usage: python benchmarks/bench_formats_read.py [MB]  (default 50). The file is generated
under benchmarks/data/ (git-ignored): 5,000 frames, 20,000 distinct stacks of depth 5-40,
four thread profiles, one entry per sample as py-spy writes them.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time
from pathlib import Path

from hotpath.formats import read_profile

DATA = Path(__file__).resolve().parent / "data"


def generate(path: Path, megabytes: float) -> None:
    rng = random.Random(1)
    nframes = 5000
    frames = [
        {"name": f"mod{i % 50}.func{i}", "file": f"/srv/app/mod{i % 50}.py", "line": i % 900 + 1}
        for i in range(nframes)
    ]
    stacks = [[rng.randrange(nframes) for _ in range(rng.randint(5, 40))] for _ in range(20000)]
    profiles = []
    for t in range(4):
        samples: list[list[int]] = []
        size = 0.0
        while size < megabytes * 1e6 / 4:
            s = rng.choice(stacks)
            samples.append(s)
            size += len(s) * 5
        profiles.append(
            {
                "type": "sampled",
                "name": f'Thread {t} "worker"',
                "unit": "seconds",
                "startValue": 0,
                "endValue": len(samples) * 0.01,
                "samples": samples,
                "weights": [0.01] * len(samples),
            }
        )
    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "exporter": "py-spy@0.4.3",
        "shared": {"frames": frames},
        "profiles": profiles,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")))


def main() -> None:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 50.0
    DATA.mkdir(exist_ok=True)
    path = DATA / f"pyspy-{mb:g}mb.speedscope.json"
    if not path.exists():
        generate(path, mb)
    t0, c0 = time.perf_counter(), time.process_time()
    profile = read_profile(path)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = path.stat().st_size / 1024**2
    print(
        f"{path.name}: {size:.1f} MiB, {len(profile.samples)} stacks, "
        f"{elapsed:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()

"""Fuzz every registered reader for a while: ``python -m fuzz [--seconds N] [--format F]``.

Each reader runs in its own atheris process, seeded from ``fuzz/corpus/<format>/`` (grown as
it finds new coverage, in a scratch copy unless --keep-corpus). Crashing inputs are written to
``fuzz/crashers/<format>/``; ``tests/test_fuzz_regressions.py`` replays every file there, so
a crasher, once fixed, stays fixed. Exit code: 0 when no reader crashed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def formats() -> list[str]:
    from hotpath.formats import REGISTRY

    return [*REGISTRY, "auto"]


def run_one(fmt: str, seconds: int, keep_corpus: bool) -> tuple[int, str]:
    seeds = HERE / "corpus" / fmt
    crashers = HERE / "crashers" / fmt
    crashers.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"hotpath-fuzz-{fmt}-") as scratch:
        corpus = seeds if keep_corpus else Path(scratch) / "corpus"
        if not keep_corpus:
            shutil.copytree(seeds, corpus) if seeds.is_dir() else corpus.mkdir()
        cmd = [
            sys.executable, str(HERE / "target.py"), fmt, str(corpus),
            f"-max_total_time={seconds}", "-timeout=20", "-rss_limit_mb=2048",
            "-max_len=65536", f"-artifact_prefix={crashers}/", "-print_final_stats=1",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
    runs = next(
        (ln.rsplit(":", 1)[1].strip() for ln in proc.stderr.splitlines()
         if ln.startswith("stat::number_of_executed_units")), "?",
    )  # fmt: skip
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-25:])
        return proc.returncode, f"{fmt}: CRASH after {runs} inputs\n{tail}"
    return 0, f"{fmt}: {runs} inputs, no crash"


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    ap.add_argument("--seconds", type=int, default=60, help="per reader (default 60)")
    ap.add_argument("--format", action="append", help="only these readers (repeatable)")
    ap.add_argument("--keep-corpus", action="store_true", help="grow fuzz/corpus in place")
    args = ap.parse_args()
    chosen = args.format or formats()
    failed = 0
    for fmt in chosen:
        rc, line = run_one(fmt, args.seconds, args.keep_corpus)
        print(line, flush=True)
        failed |= rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

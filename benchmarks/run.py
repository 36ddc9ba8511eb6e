"""Run the benchmarks: generate inputs, time hotpath against the floor and gprof2dot.

Every tool runs as its own child process; wall time comes from the clock around it and peak
RSS from ``os.wait4``'s rusage of that child. Tools run interleaved (hotpath, floor,
gprof2dot, hotpath, ...) so that machine noise hits them alike; the best of ``--repeat`` runs
is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MB = 1_000_000


@dataclass(frozen=True)
class Run:
    case: str
    tool: str
    input_bytes: int
    wall_s: float
    peak_rss_mib: float
    mb_per_s: float
    ok: bool
    summary: dict[str, object]


def measure(
    cmd: list[str], stdout_path: str | None = None, env: dict[str, str] | None = None
) -> tuple[float, float, int, str]:
    """Run ``cmd``; return (wall seconds, peak RSS MiB, exit status, stderr tail).

    Peak RSS is the largest single process (the child or one it waited for), not a sum.
    Linux carries the spawning process's peak across vfork+exec, so no figure can be below
    this runner's own peak: keep the runner small (it reads no inputs itself).
    """
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    if stdout_path:
        out.close()  # type: ignore[union-attr]
    return wall, usage.ru_maxrss / 1024, proc.returncode, tail


def generate(data: Path, kind: str, size: int, pool: int, n: int = 0) -> list[Path]:
    """Generate inputs in a child process (see benchmarks.generate.main for why)."""
    cmd = [sys.executable, "-m", "benchmarks.generate", str(data), kind, str(size), str(pool)]
    out = subprocess.run([*cmd, str(n)] if n else cmd, check=True, capture_output=True, text=True)
    return [Path(p) for p in json.loads(out.stdout)]


def hotpath_cmd(files: list[Path], out: str) -> list[str]:
    return [sys.executable, "-m", "hotpath", "analyze", "--format", "json", "-o", out] + [
        str(f) for f in files
    ]


def _hotpath_summary(report_path: str) -> dict[str, object]:
    with open(report_path, encoding="utf-8") as f:
        rep = json.load(f)
    fns = rep["functions"]
    return {
        "total": rep["profile"]["total"],
        "functions": len(fns),
        "top_inclusive": max((f["inclusive"] for f in fns), default=0),
        "max_self": max((f["self"] for f in fns), default=0),
    }


def run_tool(case: str, tool: str, files: list[Path], tmp: Path, source: Path | None = None) -> Run:
    """``source``: the directory hotpath finds the profiled program's source in."""
    size = sum(f.stat().st_size for f in files)
    summary: dict[str, object] = {}
    if tool in ("hotpath", "hotpath-2proc", "hotpath-nosrc"):
        out = str(tmp / f"{case}.json")
        env = dict(os.environ, HOTPATH_JOBS="2" if tool == "hotpath-2proc" else "1")
        if tool == "hotpath-nosrc":
            env["HOTPATH_NO_SOURCE"] = "1"
        elif source is not None:
            env["HOTPATH_SOURCE_PATH"] = str(source)
        wall, rss, rc, err = measure(hotpath_cmd(files, out), env=env)
        if rc == 0:
            summary = _hotpath_summary(out)
    elif tool == "floor":
        out = str(tmp / f"{case}.floor.json")
        cmd = [sys.executable, "-m", "benchmarks.floor", *map(str, files)]
        wall, rss, rc, err = measure(cmd, out)
        if rc == 0:
            summary = json.loads(Path(out).read_text())
    elif tool == "gprof2dot":
        exe = shutil.which("gprof2dot", path=str(Path(sys.executable).parent))
        cmd = [exe or "gprof2dot", "-f", "collapse", "-o", os.devnull, str(files[0])]
        wall, rss, rc, err = measure(cmd)
    else:
        raise ValueError(tool)
    if rc != 0:
        print(f"  {tool} failed on {case} (exit {rc}): {err.strip()[-400:]}", file=sys.stderr)
    return Run(case, tool, size, wall, rss, size / MB / wall if wall else 0.0, rc == 0, summary)


def best(runs: list[Run]) -> Run:
    good = [r for r in runs if r.ok] or runs
    return min(good, key=lambda r: r.wall_s)


def bench_case(
    case: str,
    files: list[Path],
    tools: list[str],
    repeat: int,
    tmp: Path,
    source: Path | None = None,
) -> dict:
    runs: dict[str, list[Run]] = {t: [] for t in tools}
    for i in range(repeat):
        order = tools[i % len(tools) :] + tools[: i % len(tools)]  # rotate: share the noise
        for tool in order:
            runs[tool].append(run_tool(case, tool, files, tmp, source))
    chosen = {t: best(rs) for t, rs in runs.items()}
    result: dict[str, object] = {"case": case, "files": len(files), "runs": {}}
    for t, r in chosen.items():
        result["runs"][t] = asdict(r)  # type: ignore[index]
    h = chosen.get("hotpath")
    ratios: dict[str, float] = {}
    if h and h.ok:
        if "floor" in chosen and chosen["floor"].ok:
            ratios["hotpath/floor"] = h.wall_s / chosen["floor"].wall_s
        if "hotpath-nosrc" in chosen and chosen["hotpath-nosrc"].ok:
            if "floor" in chosen and chosen["floor"].ok:
                ratios["hotpath-nosrc/floor"] = (
                    chosen["hotpath-nosrc"].wall_s / chosen["floor"].wall_s
                )
            ratios["hotpath/hotpath-nosrc"] = h.wall_s / chosen["hotpath-nosrc"].wall_s
        if "hotpath-2proc" in chosen and chosen["hotpath-2proc"].ok:
            ratios["hotpath-2proc/hotpath"] = chosen["hotpath-2proc"].wall_s / h.wall_s
        if "gprof2dot" in chosen and chosen["gprof2dot"].ok:
            ratios["gprof2dot/hotpath"] = chosen["gprof2dot"].wall_s / h.wall_s
        f = chosen.get("floor")
        if f and f.ok:
            # Independent truth: the floor's plain count must agree with hotpath's analysis.
            keys = ("total", "functions", "top_inclusive", "max_self")
            result["agrees_with_floor"] = all(h.summary.get(k) == f.summary.get(k) for k in keys)
    result["ratios"] = ratios
    # Per round as well: the two runs of a round are neighbours, so a machine whose speed
    # drifts (the floor alone took 3.1 s in one run and 5.0 s in another here) moves both.
    rounds: dict[str, list[float]] = {}
    for a, b in (("hotpath", "floor"), ("hotpath-nosrc", "floor")):
        if a in runs and b in runs:
            got = [x.wall_s / y.wall_s for x, y in zip(runs[a], runs[b]) if x.ok and y.ok]
            if got:
                rounds[f"{a}/{b}"] = sorted(got)
    result["round_ratios"] = rounds
    return result


def print_case(res: dict) -> None:
    print(f"{res['case']} ({res['files']} file{'s' if res['files'] > 1 else ''})")
    for tool, r in res["runs"].items():
        status = "" if r["ok"] else "  FAILED"
        print(
            f"  {tool:10} {r['wall_s']:8.2f} s  {r['peak_rss_mib']:8.1f} MiB peak  "
            f"{r['mb_per_s']:7.1f} MB/s{status}"
        )
    for name, v in res["ratios"].items():
        print(f"  {name:18} {v:6.2f}x")
    for name, got in res.get("round_ratios", {}).items():
        shown = " ".join(f"{v:.2f}" for v in got)
        print(f"  {name} per round: {shown} (median {statistics.median(got):.2f}x)")
    if "agrees_with_floor" in res:
        print(f"  totals agree with floor: {res['agrees_with_floor']}")
    if res.get("stages"):
        st = res["stages"]
        parts = ", ".join(f"{k} {v:.2f}" for k, v in st["stages_cpu_s"].items())
        print(f"  stages (CPU s, one in-process run): {parts}; peak {st['peak_rss_mib']} MiB")


def stage_times(files: list[Path], source: Path | None) -> dict | None:
    """``benchmarks.stages`` on ``files`` in a child process (see its docstring)."""
    env = dict(os.environ)
    if source is not None:
        env["HOTPATH_SOURCE_PATH"] = str(source)
    cmd = [sys.executable, "-m", "benchmarks.stages", *map(str, files)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE.parent)
    if out.returncode != 0:
        print(f"  stages failed: {out.stderr.strip()[-400:]}", file=sys.stderr)
        return None
    doc: dict = json.loads(out.stdout)
    return doc


def has_reader(fmt: str) -> bool:
    code = f"import hotpath.formats as f; print({fmt!r} in f.REGISTRY)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return out.stdout.strip() == "True"


def _hotpath_run(res: dict) -> dict | None:
    run = res["runs"].get("hotpath")
    return run if run and run["ok"] else None


def scaling_summary(results: list[dict], prefix: str = "folded-") -> dict[str, object] | None:
    """Time and memory growth of hotpath from the smallest to the largest file of a kind."""
    folded = [(r, _hotpath_run(r)) for r in results if r["case"].startswith(prefix)]
    folded = [(r, h) for r, h in folded if h]
    if len(folded) < 2:
        return None
    (r0, a), (r1, b) = (
        min(folded, key=lambda x: x[1]["input_bytes"]),
        max(folded, key=lambda x: x[1]["input_bytes"]),
    )
    size_ratio = b["input_bytes"] / a["input_bytes"]
    time_ratio = b["wall_s"] / a["wall_s"]
    return {
        "from": r0["case"],
        "to": r1["case"],
        "size_ratio": size_ratio,
        "time_ratio": time_ratio,
        "time_vs_size": time_ratio / size_ratio,
        "rss_ratio": b["peak_rss_mib"] / a["peak_rss_mib"],
    }


def merge_vs_single(results: list[dict]) -> float | None:
    """hotpath's time on the worker files over its time on their concatenation."""
    merges = [r for r in results if r["case"].startswith("merge-") and _hotpath_run(r)]
    if not merges:
        return None
    m = _hotpath_run(merges[0])
    assert m is not None
    # The worker files concatenated: the same stacks in one file of their total size.
    singles = [h for r in results if r["case"] == "concat-of-workers" and (h := _hotpath_run(r))]
    return m["wall_s"] / singles[0]["wall_s"] if singles else None


def git_rev() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--sizes", default="10,100", help="folded sizes in MB (default 10,100)")
    p.add_argument("--big", action="store_true", help="add the 1 GB folded and the speedscope")
    p.add_argument("--speedscope", action="store_true", help="add the speedscope file only")
    p.add_argument("--repeat", type=int, default=1, help="runs per tool (best is kept)")
    p.add_argument("--workers", type=int, default=64, help="worker files to merge (0: skip)")
    p.add_argument(
        "--workers-mb",
        type=float,
        default=None,
        help="total MB of the worker files "
        "(default: the largest --sizes entry, so they compare with that file)",
    )
    p.add_argument(
        "--pool", type=int, default=30_000, help="distinct stacks of the synthetic program"
    )
    p.add_argument(
        "--fleet", action="store_true", help="only the fleet benchmark (benchmarks/fleet.py)"
    )
    p.add_argument(
        "--unique-sizes",
        default="100",
        help="sizes in MB of py-spy raw files whose every line is a distinct stack "
        "(default 100; --big adds 1000; empty: none)",
    )
    p.add_argument("--no-stages", action="store_true", help="skip the per-stage times")
    p.add_argument("--no-gprof2dot", action="store_true", help="skip gprof2dot (slow)")
    p.add_argument("--data", type=Path, default=HERE / "data")
    p.add_argument("--results", type=Path, default=HERE / "results")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fleet:
        from benchmarks.fleet import main as fleet_main

        return fleet_main(["--repeat", str(args.repeat), "--data", str(args.data)])
    sizes = [float(s) for s in args.sizes.split(",") if s]
    if args.big and 1000 not in sizes:
        sizes.append(1000)
    tools = ["hotpath", "floor"] + ([] if args.no_gprof2dot else ["gprof2dot"])
    cases: list[tuple[str, list[Path], list[str], Path | None]] = []
    for mb in sizes:
        cases.append(
            (
                f"folded-{mb:g}MB",
                generate(args.data, "folded", int(mb * MB), args.pool),
                tools,
                None,
            )
        )
    unique_sizes = [float(s) for s in args.unique_sizes.split(",") if s]
    if args.big and 1000 not in unique_sizes:
        unique_sizes.append(1000)
    for mb in unique_sizes:
        raw, src = generate(args.data, "unique", int(mb * MB), args.pool)
        cases.append((f"unique-{mb:g}MB", [raw], ["hotpath", "hotpath-nosrc", "floor"], src))
    # The worker files and the pyinstrument session take their size from the folded cases,
    # else from the unique-line ones (``--sizes ""`` runs those alone).
    base_mb = max(sizes or unique_sizes or [10.0])
    if args.workers:
        total = int((args.workers_mb or base_mb) * MB)
        paths = generate(args.data, "workers", total, args.pool, args.workers)
        tools_m = ["hotpath", "hotpath-2proc", "floor"]
        cases.append(
            (f"merge-{args.workers}x{total / args.workers / MB:.2g}MB", paths, tools_m, None)
        )
        concat = generate(args.data, "concat", total, args.pool, args.workers)
        cases.append(("concat-of-workers", concat, ["hotpath", "floor"], None))
    if has_reader("pyinstrument") and has_reader("pstats"):
        session = generate(args.data, "pyinstrument", int(min(28, base_mb) * MB), args.pool)
        cases.append((f"pyinstrument-{min(28, base_mb):g}MB", session, ["hotpath"], None))
        pstats_file = generate(args.data, "pstats", 0, args.pool)
        cases.append(("pstats", pstats_file, ["hotpath", "hotpath-nosrc"], None))
    if args.big or args.speedscope:
        if has_reader("speedscope"):
            paths = generate(args.data, "speedscope", 320 * MB, args.pool)
            cases.append(("speedscope-320MB", paths, ["hotpath"], None))
        else:
            print("speedscope-320MB: skipped, this hotpath has no speedscope reader", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="hotpath-bench-") as tmpdir:
        for case, files, case_tools, source in cases:
            res = bench_case(case, files, case_tools, args.repeat, Path(tmpdir), source)
            if case.startswith("unique-") and not args.no_stages:
                res["stages"] = stage_times(files, source)
            print_case(res)
            results.append(res)
    scaling = scaling_summary(results)
    if scaling:
        print(
            f"scaling {scaling['from']} -> {scaling['to']}: size x{scaling['size_ratio']:.1f}, "
            f"time x{scaling['time_ratio']:.1f} ({scaling['time_vs_size']:.2f} of linear), "
            f"peak RSS x{scaling['rss_ratio']:.2f}"
        )
    unique_scaling = scaling_summary(results, "unique-")
    if unique_scaling:
        print(
            f"scaling {unique_scaling['from']} -> {unique_scaling['to']}: "
            f"size x{unique_scaling['size_ratio']:.1f}, time x{unique_scaling['time_ratio']:.1f} "
            f"({unique_scaling['time_vs_size']:.2f} of linear), "
            f"peak RSS x{unique_scaling['rss_ratio']:.2f}"
        )
    merge_vs = merge_vs_single(results)
    if merge_vs is not None:
        print(f"merge of the worker files / one file of their total size: {merge_vs:.2f}x")
    doc = {
        "schema": "hotpath.bench/1",
        "scaling": scaling,
        "unique_scaling": unique_scaling,
        "merge_vs_single": merge_vs,
        "commit": git_rev(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cases": results,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"bench-{doc['when'].replace(':', '')}-{doc['commit']}.json"
    out.write_text(json.dumps(doc, indent=1))
    print(f"results: {out}")
    return 0 if all(r["ok"] for c in results for r in c["runs"].values()) else 1

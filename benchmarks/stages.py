"""Where ``hotpath analyze --format json`` spends its time, stage by stage.

``python -m benchmarks.stages FILE... [--profile OUT.pstats]`` runs the same library calls as
the command (read, name functions from source, the analysis' parts, the JSON report) and
prints one JSON object: seconds per stage (CPU time of this process) and the peak RSS.
``--profile`` also writes a cProfile dump of the whole run, for ``python -m pstats``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def main(argv: list[str]) -> int:
    prof_out = None
    if "--profile" in argv:
        i = argv.index("--profile")
        prof_out = argv[i + 1]
        del argv[i : i + 2]
    stages: dict[str, float] = {}
    peaks: dict[str, float] = {}

    def stage(name: str, fn: Callable[[], T]) -> T:
        t0 = time.process_time()
        out = fn()
        stages[name] = round(stages.get(name, 0.0) + time.process_time() - t0, 4)
        peaks[name] = _peak_mib()
        return out

    profiler = None
    if prof_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t_start = time.process_time()
    from hotpath.analysis import pipeline
    from hotpath.analysis.options import AnalyzeOptions
    from hotpath.formats.identity import name_functions
    from hotpath.formats.many import expand_paths, read_many
    from hotpath.formats.source import SourceIndex
    from hotpath.model import cpu_view
    from hotpath.report import REGISTRY

    stages["import"] = round(time.process_time() - t_start, 4)
    files = expand_paths(argv)
    profile = stage("read", lambda: read_many(files, None, None))
    profile = stage("name", lambda: name_functions(profile, SourceIndex()))
    options = AnalyzeOptions(flame=False)  # as `analyze --format json`
    profile = stage("endpoints", lambda: pipeline.label_endpoints(profile))
    cpu = cpu_view(profile)
    cg = stage("callgraph", lambda: pipeline.build_callgraph(cpu))
    rows = stage("rows", lambda: pipeline.function_rows(cg, None))
    stage("recursion", lambda: pipeline.recursion_groups(cg))
    stage("endpoint_rows", lambda: pipeline.endpoint_rows(profile))
    stage("advisor", lambda: pipeline._advise(profile, cpu, cg, options))
    result = stage("analysis (all, again)", lambda: pipeline.analyze(profile, options))
    with open("/dev/null", "w", encoding="utf-8") as out:
        stage("render json", lambda: REGISTRY["json"].render(result, out))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(prof_out)
    doc = {
        "stages_cpu_s": stages,
        "functions": len(rows),
        "stacks": len(profile.samples),
        "frames": len(profile.frames),
        "peak_rss_mib": _peak_mib(),
        "peak_rss_mib_after": peaks,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

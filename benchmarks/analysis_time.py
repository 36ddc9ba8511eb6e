"""Analysis time with hotpath's hand-written graph algorithms against networkx's.

    python -m benchmarks.analysis_time [--sizes 10,100] [--repeat 3] [--rounds 2]
    python -m benchmarks.analysis_time --against REV    # also another commit's tree

For every generated input (folded files of ``--sizes`` MB, a 28 MB pyinstrument session, a
cProfile dump; see benchmarks/README.md), each side runs in a child process that reads the
profile once and times:

- ``first``: the first ``analyze()`` in the process, as ``hotpath analyze`` runs it (no
  flame graph); on the networkx side it includes importing networkx;
- ``warm``: the best of ``--repeat`` further ``analyze()`` calls;
- ``scc`` and ``dominators``: ``recursion_groups`` and ``dominator_tree`` alone, best of
  ``--repeat``, on the call graph of the profile's CPU view (the networkx versions build
  their DiGraph on every call, as an analysis would once).

Sides: ``hand`` is this tree as it is; ``networkx`` is this tree with ``recursion_groups``
and ``dominator_tree`` replaced by the networkx versions below (``strongly_connected_
components`` and ``immediate_dominators`` on an int-node DiGraph, the fastest way found to
use networkx here); ``REV`` (with ``--against``) is that commit's ``hotpath/`` from
``git archive``, imported instead of this tree (the editable install's finder is dropped).

Times are the child's CPU time (``time.process_time``): on a shared machine waiting for a
core inflates wall time, not CPU time. Sides alternate, so the remaining noise hits all
alike; the best of ``--rounds`` is printed, with each side's ratio to ``hand``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.run import MB, generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = r"""
import json, sys, time
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
root, path, repeat, side = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, root)
import hotpath.analysis.callgraph as cgmod
assert cgmod.__file__.startswith(root), cgmod.__file__
from hotpath.formats import read_profile
from hotpath.analysis.callgraph import ROOT, build_callgraph
from hotpath.model import cpu_view
try:
    from hotpath.analysis.options import AnalyzeOptions
    from hotpath.analysis import pipeline
except ImportError:  # before the pipeline had a module of its own
    from hotpath.analysis.summary import AnalyzeOptions
    from hotpath.analysis import summary as pipeline
from hotpath.analysis import advisor, dominators

recursion_groups, dominator_tree = cgmod.recursion_groups, dominators.dominator_tree

if side == "networkx":
    def _graph(cg, edges):
        import networkx as nx
        keys = [ROOT, *(k for k in cg.functions if k != ROOT)]
        ids = {k: i for i, k in enumerate(keys)}
        for a, b in cg.edges:
            for k in (a, b):
                if k not in ids:
                    ids[k] = len(keys)
                    keys.append(k)
        g = nx.DiGraph()
        g.add_nodes_from(range(len(keys)))
        g.add_edges_from((ids[a], ids[b]) for a, b in edges)
        return g, keys

    def recursion_groups(cg):
        import networkx as nx
        g, keys = _graph(cg, cg.edges)
        loops = set(nx.nodes_with_selfloops(g))
        groups = [sorted((keys[i] for i in c), key=lambda k: (k.name, k.file))
                  for c in nx.strongly_connected_components(g)
                  if len(c) > 1 or not loops.isdisjoint(c)]
        groups.sort(key=lambda c: -max((cg.functions[k].inclusive for k in c
                                        if k in cg.functions), default=0))
        return groups

    def dominator_tree(cg):
        import networkx as nx
        sampled = not cg.edge_calls
        incoming = {}
        for (_a, b), w in cg.edges.items():
            incoming[b] = incoming.get(b, 0.0) + w
        kept = [e for e, w in cg.edges.items()
                if not (sampled and w < dominators.NOISE_SHARE * incoming[e[1]])]
        g, keys = _graph(cg, kept)
        fns = cg.functions
        weight = [cg.total] + [fns[k].inclusive if k in fns else 0.0 for k in keys[1:]]
        reached = set()
        def reach(start):
            reached.add(start)
            todo = [start]
            while todo:
                for kid in g.succ[todo.pop()]:
                    if kid not in reached:
                        reached.add(kid)
                        todo.append(kid)
        reach(0)
        rest = sorted((i for i in g if i not in reached), key=lambda i: (weight[i], str(keys[i])))
        while rest:
            entry = rest.pop()
            if entry not in reached:
                g.add_edge(0, entry)
                reach(entry)
        children = {}
        for node, dom in nx.immediate_dominators(g, 0).items():
            if node != dom:
                children.setdefault(keys[dom], []).append(keys[node])
        for kids in children.values():
            kids.sort()
        return children

    pipeline.recursion_groups = recursion_groups
    advisor.dominator_tree = dominator_tree

profile = read_profile(path)
options = AnalyzeOptions(flame=False)
had_nx = "networkx" in sys.modules
t = time.process_time(); pipeline.analyze(profile, options); first = time.process_time() - t
def best(fn):
    out = float("inf")
    for _ in range(repeat):
        t = time.process_time(); fn(); out = min(out, time.process_time() - t)
    return out
warm = best(lambda: pipeline.analyze(profile, options))
cg = build_callgraph(cpu_view(profile))
print(json.dumps({
    "first": first, "warm": warm,
    "scc": best(lambda: recursion_groups(cg)),
    "dominators": best(lambda: dominator_tree(cg)),
    "functions": len(cg.functions), "edges": len(cg.edges),
    "networkx_imported": (not had_nx) and "networkx" in sys.modules,
}))
"""
KEYS = ("first", "warm", "scc", "dominators")


def _child(root: Path, path: Path, repeat: int, side: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), str(path), str(repeat), side],
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _extract(rev: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "hotpath"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def _inputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    out = []
    for mb in (float(s) for s in args.sizes.split(",") if s):
        out.append((f"folded-{mb:g}MB", generate(args.data, "folded", int(mb * MB), args.pool)))
    out.append(("pyinstrument-28MB", generate(args.data, "pyinstrument", 28 * MB, args.pool)))
    out.append(("pstats", generate(args.data, "pstats", 0, args.pool)))
    return [(case, paths[0]) for case, paths in out]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.analysis_time", description=__doc__)
    p.add_argument("--against", default=None, help="also time this git revision's tree")
    p.add_argument("--sizes", default="10,100", help="folded sizes in MB (default 10,100)")
    p.add_argument("--repeat", type=int, default=3, help="timed calls per child (best kept)")
    p.add_argument("--rounds", type=int, default=2, help="alternations of the sides")
    p.add_argument("--pool", type=int, default=30_000, help="distinct stacks of the program")
    p.add_argument("--data", type=Path, default=HERE / "data")
    args = p.parse_args(argv)
    inputs = _inputs(args)
    with tempfile.TemporaryDirectory(prefix="hotpath-analysis-time-") as tmp:
        sides: list[tuple[str, Path, str]] = [
            ("hand", ROOT, "hand"),
            ("networkx", ROOT, "networkx"),
        ]
        if args.against:
            _extract(args.against, Path(tmp))
            sides.append((args.against, Path(tmp), "hand"))
        print(f"{'case':<18} {'side':<9} " + " ".join(f"{k:>10}" for k in KEYS) + "  graph")
        for case, path in inputs:
            best: dict[str, dict[str, float]] = {}
            graph = ""
            for _ in range(args.rounds):
                for name, root, side in sides:
                    r = _child(root, path, args.repeat, side)
                    got = best.setdefault(name, dict.fromkeys(KEYS, float("inf")))
                    for k in KEYS:
                        got[k] = min(got[k], r[k])
                    graph = f"{r['functions']} functions, {r['edges']} edges"
            for name, got in best.items():
                cells = " ".join(f"{got[k] * 1000:8.1f}ms" for k in KEYS)
                print(f"{case:<18} {name:<9} {cells}  {graph if name == 'hand' else ''}")
                if name != "hand":
                    ratios = " ".join(f"{got[k] / best['hand'][k]:9.2f}x" for k in KEYS)
                    print(f"{'':<18} {'/ hand':<9} {ratios}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

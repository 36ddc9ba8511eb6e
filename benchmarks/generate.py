"""Deterministic synthetic profiles shaped like real py-spy output.

A fixed synthetic "program" (about 5,000 functions in a few hundred modules, each calling a
few others) is walked to make a pool of distinct stacks, depth 20-80, root first, frames
``qualname (pkg/mod.py:LINE)``. Files are lines drawn from that pool with Zipf-distributed
popularity and small sample counts, as when many py-spy captures of one service are
concatenated: the number of distinct stacks is bounded by the program, not by the file size.
Everything is derived from the seed, so a size and seed always give the same bytes.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path

FUNCTIONS = 5000
LAYERS = 80
POOL = 30_000
ZIPF_S = 1.05
ROOT_CHAIN = [
    "_bootstrap (threading.py:1002)",
    "_bootstrap_inner (threading.py:1045)",
    "run (threading.py:982)",
    "worker (concurrent/futures/thread.py:83)",
    "handle (gunicorn/workers/sync.py:135)",
    "handle_request (gunicorn/workers/sync.py:178)",
    "__call__ (django/core/handlers/wsgi.py:124)",
]
_PKGS = [
    "app/views", "app/models", "app/services", "app/billing", "app/search", "app/reports",
    "app/api/v2", "app/utils", "django/db/models", "django/db/backends", "django/template",
    "django/core/handlers", "django/utils", "jinja2", "sqlalchemy/orm", "sqlalchemy/engine",
    "rest_framework", "json", "re", "decimal", "pydantic", "requests", "urllib3",
]  # fmt: skip
_WORDS = [
    "get", "load", "render", "compute", "build", "parse", "serialize", "validate", "fetch",
    "resolve", "apply", "filter", "merge", "encode", "decode", "query", "iter", "wrap",
]  # fmt: skip
_NOUNS = [
    "order", "invoice", "user", "cart", "price", "tax", "row", "field", "node", "token",
    "context", "queryset", "template", "item", "report", "page", "cache", "session",
]  # fmt: skip


_HUBS = [
    ("inner", "django/core/handlers/exception.py"),
    ("__call__", "django/utils/deprecation.py"),
    ("_wrapped_view", "django/views/decorators/csrf.py"),
    ("wrapper", "functools.py"),
    ("render", "django/template/base.py"),
    ("render_annotated", "django/template/base.py"),
    ("_execute_with_wrappers", "django/db/backends/utils.py"),
    ("inner", "contextlib.py"),
    ("__get__", "django/utils/functional.py"),
    ("send", "django/dispatch/dispatcher.py"),
]


@dataclass(frozen=True)
class Program:
    """The synthetic program: function names, files, def lines and callees."""

    names: list[str]
    files: list[str]
    first_lines: list[int]
    callees: list[list[int]]


def make_program(seed: int = 1) -> Program:
    rng = random.Random(seed)
    names, files, first_lines, callees = [], [], [], []
    modules = [f"{rng.choice(_PKGS)}/{rng.choice(_NOUNS)}_{i}.py" for i in range(400)]
    for i in range(FUNCTIONS):
        fn = f"{rng.choice(_WORDS)}_{rng.choice(_NOUNS)}_{i}"
        shape = rng.random()
        if shape < 0.5:
            fn = f"{rng.choice(_NOUNS).title()}{i % 37}.{fn}"
        elif shape < 0.55:
            fn = f"{fn}.<locals>.inner"
        names.append(fn)
        files.append(modules[rng.randrange(len(modules))])
        first_lines.append(rng.randrange(1, 3000))
    # Layered like a web app (views -> services -> ORM -> driver): callees sit one or two
    # layers down, so call chains stay short; recursion is local (self calls, mutual pairs
    # inside a layer), as in template rendering or tree walks.
    per_layer = FUNCTIONS // LAYERS
    for i in range(FUNCTIONS):
        layer = i // per_layer
        outs = []
        for _ in range(rng.randint(2, 8)):
            down = layer + (1 if rng.random() < 0.7 else 2)
            if down >= LAYERS:
                outs.append(i)
                continue
            pick = (i + int(rng.gauss(0, 8))) % per_layer
            outs.append(down * per_layer + pick)
        if rng.random() < 0.03:
            outs.append(i)
        callees.append(outs)
    for i in range(FUNCTIONS):
        if rng.random() < 0.02:
            layer = i // per_layer
            j = layer * per_layer + rng.randrange(per_layer)
            callees[i].append(j)
            callees[j].append(i)
    # Hubs: a few generic functions (middleware ``inner``, decorators' ``wrapper``, template
    # ``render``) reached from everywhere and calling back into every layer. In real Django
    # apps they tie much of the graph into one big strongly connected component.
    for h, (name, file) in enumerate(_HUBS):
        idx = FUNCTIONS - len(_HUBS) + h
        names[idx], files[idx] = name, file
        callees[idx] = [rng.randrange(FUNCTIONS - len(_HUBS)) for _ in range(40)]
    for i in range(FUNCTIONS - len(_HUBS)):
        if rng.random() < 0.08:
            callees[i].append(FUNCTIONS - len(_HUBS) + rng.randrange(len(_HUBS)))
    return Program(names, files, first_lines, callees)


def make_pool(program: Program, seed: int = 1, size: int = POOL) -> list[str]:
    """Distinct stack texts (root first), made by random walks down the call structure."""
    rng = random.Random(seed * 7919 + 1)
    # Entry points: a Zipf-ish choice among the first functions (the views).
    entries = list(range(200))
    entry_w = [1 / (r + 1) ** 0.8 for r in range(len(entries))]
    seen: set[str] = set()
    pool: list[str] = []
    while len(pool) < size:
        depth = rng.randint(20, 80) - len(ROOT_CHAIN)
        fn = rng.choices(entries, entry_w)[0]
        frames = list(ROOT_CHAIN)
        for _ in range(depth):
            # Few distinct lines per function: where it calls from / is sampled.
            line = program.first_lines[fn] + 1 + rng.choice((1, 2, 3, 5, 8, 13))
            frames.append(f"{program.names[fn]} ({program.files[fn]}:{line})")
            outs = program.callees[fn]
            # The first callee is the usual path: shared prefixes, as in real programs.
            fn = outs[0] if rng.random() < 0.6 else rng.choice(outs)
        text = ";".join(frames)
        if text not in seen:
            seen.add(text)
            pool.append(text)
    return pool


def _cum_zipf(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1 / (r + 1) ** s for r in range(n)))


def write_folded(path: Path, size: int, pool: list[str], seed: int) -> int:
    """Write about ``size`` bytes of folded lines drawn from ``pool``; returns lines written."""
    rng = random.Random(seed)
    cum = _cum_zipf(len(pool), ZIPF_S)
    top = cum[-1]
    order = list(range(len(pool)))
    rng.shuffle(order)  # popularity unrelated to generation order
    lines = 0
    written = 0
    buf: list[str] = []
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        while written < size:
            idx = order[bisect.bisect_left(cum, rng.random() * top)]
            count = 1 + int(rng.expovariate(0.25))
            line = f"{pool[idx]} {count}\n"
            buf.append(line)
            written += len(line)
            lines += 1
            if len(buf) >= 4096:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    tmp.replace(path)
    return lines


def _pool_tag(pool: int) -> str:
    return "" if pool == POOL else f"-p{pool}"


def ensure_folded(data: Path, size: int, seed: int = 1, pool: int = POOL) -> Path:
    """The folded file of ``size`` bytes (generated once; the name carries size and seed)."""
    path = data / f"folded-{size}-s{seed}{_pool_tag(pool)}.folded"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        program = make_program(1)
        write_folded(path, size, make_pool(program, size=pool), seed)
    return path


def ensure_workers(data: Path, total: int, n: int = 64, pool: int = POOL) -> list[Path]:
    """``n`` worker files of ``total / n`` bytes each: one capture per gunicorn worker."""
    folder = data / f"workers-{n}x{total // n}{_pool_tag(pool)}"
    paths = [folder / f"worker-{i:02d}.folded" for i in range(n)]
    if not all(p.exists() for p in paths):
        folder.mkdir(parents=True, exist_ok=True)
        program = make_program(1)
        pool_stacks = make_pool(program, size=pool)
        for i, p in enumerate(paths):
            write_folded(p, total // n, pool_stacks, 1000 + i)
    return paths


def ensure_speedscope(data: Path, size: int, seed: int = 1, pool: int = POOL) -> Path:
    """A py-spy-style speedscope file (one sampled profile per thread) of about ``size`` bytes.

    py-spy writes every sample as its own entry (no aggregation), so files get large.
    """
    path = data / f"speedscope-{size}-s{seed}{_pool_tag(pool)}.speedscope.json"
    if path.exists():
        return path
    data.mkdir(parents=True, exist_ok=True)
    program = make_program(1)
    pool_stacks = make_pool(program, size=pool)
    rng = random.Random(seed)
    frame_index: dict[str, int] = {}
    stacks: list[list[int]] = []
    for text in pool_stacks:
        ids = []
        for fr in text.split(";"):
            fid = frame_index.get(fr)
            if fid is None:
                fid = frame_index[fr] = len(frame_index)
            ids.append(fid)
        stacks.append(ids)
    frames_json = []
    for fr in frame_index:
        name, _, rest = fr.rpartition(" (")
        file, _, line = rest[:-1].rpartition(":")
        frames_json.append({"name": name, "file": "/srv/app/" + file, "line": int(line)})
    head = json.dumps(
        {
            "$schema": "https://www.speedscope.app/file-format-schema.json",
            "activeProfileIndex": 0,
            "exporter": "py-spy@0.4.3",
            "name": "synthetic",
            "shared": {"frames": frames_json},
        }
    )
    cum = _cum_zipf(len(stacks), ZIPF_S)
    top = cum[-1]
    threads = 4
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(head[:-2] + '}, "profiles": [')  # reopen "shared" object's closing
        budget = (size - len(head)) // threads
        for t in range(threads):
            if t:
                f.write(",")
            f.write(
                f'{{"type": "sampled", "name": "thread {t}", "unit": "seconds", '
                '"startValue": 0, "endValue": 1, "samples": ['
            )
            n = 0
            written = 0
            while written < budget:
                idx = bisect.bisect_left(cum, rng.random() * top)
                s = json.dumps(stacks[idx], separators=(",", ":"))
                f.write(("," if n else "") + s)
                written += len(s) + 6  # weights below cost ~6 bytes per sample
                n += 1
            f.write('], "weights": [' + ",".join(["0.01"] * n) + "]}")
        f.write("]}")
    tmp.replace(path)
    return path


def main(argv: list[str]) -> None:
    """``python -m benchmarks.generate DATA KIND SIZE POOL [N]``: print the paths (JSON).

    The benchmark generates in a child process: Linux charges a child's peak RSS with the
    memory of the process that started it (the high-water mark survives exec), so the
    measuring process must stay small.
    """
    data, kind, size, pool = Path(argv[0]), argv[1], int(argv[2]), int(argv[3])
    if kind == "folded":
        paths = [ensure_folded(data, size, pool=pool)]
    elif kind == "workers":
        paths = ensure_workers(data, size, int(argv[4]), pool=pool)
    elif kind == "speedscope":
        paths = [ensure_speedscope(data, size, pool=pool)]
    elif kind == "concat":  # the worker files as one file: the same stacks, one read
        workers = ensure_workers(data, size, int(argv[4]), pool=pool)
        out = workers[0].parent.with_suffix(".folded")
        if not out.exists():
            tmp = out.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                for w in workers:
                    f.write(w.read_bytes())
            tmp.replace(out)
        paths = [out]
    elif kind == "unique":  # py-spy raw, every line distinct; then the source tree it names
        from benchmarks.unique_lines import ensure_unique

        raw, src = ensure_unique(data, size)
        paths = [raw, src]
    elif kind == "pyinstrument":
        paths = [ensure_pyinstrument(data, size, pool=pool)]
    elif kind == "pstats":
        paths = [ensure_pstats(data, pool=pool)]
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    print(json.dumps([str(p) for p in paths]))


def _split_frame(text: str) -> tuple[str, str, int]:
    name, _, rest = text.rpartition(" (")
    file, _, line = rest[:-1].rpartition(":")
    return name, file, int(line)


def ensure_pyinstrument(data: Path, size: int, pool: int = POOL) -> Path:
    """A pyinstrument session of about ``size`` bytes, written by pyinstrument's Session."""
    from pyinstrument.session import Session

    path = data / f"session-{size}{_pool_tag(pool)}.pyisession"
    if path.exists():
        return path
    data.mkdir(parents=True, exist_ok=True)
    program = make_program(1)
    first = {
        f"{n} ({f}": fl
        for n, f, fl in zip(program.names, program.files, program.first_lines, strict=True)
    }
    stacks = []
    for text in make_pool(program, size=pool):
        idents = ["MainThread\x00<thread>\x00140000"]
        for fr in text.split(";"):
            name, file, line = _split_frame(fr)
            cls, _, meth = name.rpartition(".") if "<locals>" not in name else ("", "", name)
            attrs = (f"\x01c{cls}" if cls else "") + f"\x01l{line}"
            fl = first.get(f"{name} ({file}", line)
            idents.append(f"{meth}\x00/srv/app/{file}\x00{fl}{attrs}")
        stacks.append(idents)
    rng = random.Random(5)
    cum = _cum_zipf(len(stacks), ZIPF_S)
    per_record = sum(len(x) + 10 for x in stacks[0]) * 1.8  # rough JSON bytes per record
    records = [
        (stacks[bisect.bisect_left(cum, rng.random() * cum[-1])], 0.001)
        for _ in range(max(1, int(size / per_record)))
    ]
    session = Session(
        frame_records=records,  # type: ignore[arg-type]
        start_time=0.0,
        duration=len(records) * 0.001,
        min_interval=0.001,
        max_interval=0.001,
        sample_count=len(records),
        start_call_stack=[],
        target_description="synthetic benchmark",
        cpu_time=len(records) * 0.001,
        sys_path=[],
        sys_prefixes=["/usr/lib/python3.11"],
    )
    tmp = path.with_suffix(".tmp")
    session.save(str(tmp))
    tmp.replace(path)
    return path


def ensure_pstats(data: Path, pool: int = POOL) -> Path:
    """A cProfile dump of the synthetic program (marshal, the layout pstats reads)."""
    import marshal

    path = data / f"program{_pool_tag(pool)}.pstats"
    if path.exists():
        return path
    data.mkdir(parents=True, exist_ok=True)
    program = make_program(1)
    rng = random.Random(9)
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, dict]] = {}
    keys = [
        (f"/srv/app/{f}", fl, n.rpartition(".")[2])
        for n, f, fl in zip(program.names, program.files, program.first_lines, strict=True)
    ]
    callers: dict[int, dict[tuple[str, int, str], tuple[int, int, float, float]]] = {}
    for i, outs in enumerate(program.callees):
        for j in set(outs):
            nc = rng.randint(1, 500)
            tt = nc * rng.uniform(1e-6, 1e-4)
            callers.setdefault(j, {})[keys[i]] = (nc, nc, tt, tt * rng.uniform(1, 20))
    for i, key in enumerate(keys):
        inc = callers.get(i, {})
        nc = sum(v[0] for v in inc.values()) or 1
        tt = sum(v[2] for v in inc.values()) or 1e-5
        ct = max(tt, sum(v[3] for v in inc.values()))
        stats[key] = (nc, nc, tt, ct, inc)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        marshal.dump(stats, f)
    tmp.replace(path)
    return path


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

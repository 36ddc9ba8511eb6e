"""Reading many files on a real Dask cluster (``--workers`` / ``--scheduler``).

One ``distributed.LocalCluster`` of two worker processes on 127.0.0.1 serves the module
(``--scheduler`` points the CLI at it); one test starts its own with ``--workers 2``.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.fleet import FleetOptions, Partial, read_batch, read_distributed
from hotpath.formats import read_profiles, write_profile
from hotpath.model import Frame, Profile, RequestStats
from tests.capability import require

try:
    import distributed
except ImportError:  # a test extra (dask[distributed]): installed in CI
    distributed = None

FUNCS = [f"fn_{i}" for i in range(12)]


def _stack(rng_seed: int, k: int) -> list[str]:
    depth = 2 + (rng_seed * 7 + k * 3) % 6
    return ["main (app.py:1)"] + [
        f"{FUNCS[(rng_seed + k * j) % len(FUNCS)]} (app/m{j % 3}.py:{10 + j})"
        for j in range(1, depth)
    ]


def write_fleet(folder: Path, n_folded: int = 24, n_native: int = 16) -> list[Path]:
    """Worker files in two formats: folded text and hotpath's own (with requests)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_folded):
        lines = [f"{';'.join(_stack(i, k))} {1 + (i + k) % 5}" for k in range(8)]
        p = folder / f"w{i:03d}.folded"
        p.write_text("\n".join(lines) + "\n")
        paths.append(p)
    for i in range(n_native):
        prof = Profile()
        for k in range(6):
            frames = [
                Frame(*t.rsplit(" (", 1)[0:1], file=t.split("(")[1].split(":")[0])
                for t in _stack(100 + i, k)
            ]
            prof.add_frames(frames, 1 + (i * k) % 4, {"endpoint": f"GET /e{k % 3}"})
        prof.requests["GET /e0"] = RequestStats(3, 0.25 * i, 0.125, {"200": 3}, {40: 3})
        p = folder / f"m{i:03d}.hotpath.json.gz"
        with open(p, "wb") as f:
            write_profile(prof, f, "hotpath")  # gzip-compressed JSON
        paths.append(p)
    return paths


def samples(profile: Profile) -> Counter[tuple[Any, ...]]:
    return Counter({(frames, labels): w for frames, labels, w in profile.iter_samples()})


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    require(distributed is not None, "dask[distributed] is not installed (test extra)")
    c = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=50,
    )
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_fleet(tmp_path_factory.mktemp("fleet"))


def _json(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_profile_pickles_compactly_and_whole(fleet: list[Path]) -> None:
    profile = read_profiles(fleet)
    data = pickle.dumps(profile)
    back = pickle.loads(data)
    assert samples(back) == samples(profile)
    assert back.requests == profile.requests and back.meta == profile.meta
    assert back.intern_frame(profile.frames[3]) == 3  # the reverse index is rebuilt
    # Without the reverse indexes (frame -> id) the pickle is smaller than the default one.
    default = pickle.dumps({s: getattr(profile, s) for s in Profile.__slots__})
    assert len(data) < len(default)


def test_scheduler_merge_equals_single_process(fleet: list[Path], cluster: Any) -> None:
    folder = str(fleet[0].parent)
    single = _json(["analyze", folder, "-f", "json"])
    dask = _json(["analyze", folder, "-f", "json", "--scheduler", cluster.scheduler_address])
    # Same stacks and weights (every number of the report), same files; only the order in
    # which sources are listed differs (one process reads each format in its own pass).
    for doc in (single, dask):
        doc["profile"]["sources"].sort(key=json.dumps)
    assert dask == single
    assert len(single["profile"]["sources"]) == len(fleet)


def test_library_merge_has_the_same_stacks(fleet: list[Path], client: Any) -> None:
    names = [str(p) for p in fleet]
    seen: list[int] = []
    result = read_distributed(names, None, None, FleetOptions(), seen.append, client=client)
    assert samples(result.profile) == samples(read_profiles(fleet))
    assert result.profile.requests == read_profiles(fleet).requests
    assert sum(seen) == len(fleet) and len(seen) > 1  # every file counted once


def test_progress_counts_each_file_as_it_is_read(fleet: list[Path], client: Any) -> None:
    from hotpath.fleet import batches

    names = [str(p) for p in fleet]
    seen: list[int] = []
    result = read_distributed(names, None, None, FleetOptions(), seen.append, client=client)
    n_batches = len(batches(names, 2))
    assert result.files == len(fleet) and sum(seen) == len(fleet)  # every file once
    # The tasks' per-file events move the count, not only the batches' ends (an event that
    # trails its batch's end is not counted again).
    assert len(seen) > n_batches and min(seen) == 1, (seen, n_batches)


def test_workers_flag_starts_a_local_cluster(fleet: list[Path]) -> None:
    require(distributed is not None, "dask[distributed] is not installed (test extra)")
    files = [str(p) for p in fleet[:24]]  # the folded ones
    single = _json(["analyze", *files, "-f", "json"])
    dask = _json(["analyze", *files, "-f", "json", "--workers", "2"])
    assert dask == single


def test_bad_file_is_named_exit_2(fleet: list[Path], cluster: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "hotpath.profile/1", "frames": 3}')
    args = ["analyze", *map(str, fleet), str(bad), "--scheduler", cluster.scheduler_address]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hotpath: error: {bad}"), lines
    assert "Traceback" not in result.output


def test_skip_bad_counts_the_file(fleet: list[Path], cluster: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.folded"
    bad.write_bytes(b"\x00\x01\x02 not a profile")
    files = [*map(str, fleet), str(bad)]
    result = CliRunner().invoke(
        main,
        ["analyze", *files, "-f", "json", "--skip-bad", "--scheduler", cluster.scheduler_address],
    )
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"hotpath: skipped 1 of {len(files)} files") and str(bad) in lines[0]
    doc = json.loads(result.stdout)
    single = _json(["analyze", *map(str, fleet), "-f", "json"])
    for d in (doc, single):
        d["profile"]["sources"].sort(key=json.dumps)
    assert doc == single  # the bad file left out, every good one in


def test_diff_and_glob_on_the_cluster(fleet: list[Path], cluster: Any) -> None:
    pattern = str(fleet[0].parent / "w*.folded")
    args = ["diff", pattern, pattern, "-f", "json", "--no-estimate-dispersion"]
    single = _json(args)
    dask = _json([*args, "--scheduler", cluster.scheduler_address])
    assert dask == single


def test_diff_on_the_cluster_estimates_dispersion_from_the_files(
    fleet: list[Path], cluster: Any
) -> None:
    folder = fleet[0].parent
    # Two sides of ten files each: the per-file profiles come back from the workers and the
    # noise is measured from their spread, exactly as in one process.
    args = ["diff", str(folder / "w00*.folded"), str(folder / "w01*.folded"), "-f", "json"]
    single = _json(args)
    dask = _json([*args, "--scheduler", cluster.scheduler_address])
    assert any("measured between the 20 files" in n for n in single["notes"]), single["notes"]
    assert dask == single
    gate = ["gate", str(folder / "w00*.folded"), str(folder / "w01*.folded"), "-f", "json"]
    one = CliRunner().invoke(main, gate)
    many = CliRunner().invoke(main, [*gate, "--scheduler", cluster.scheduler_address])
    assert (many.exit_code, many.stdout) == (one.exit_code, one.stdout)
    assert one.exit_code in (0, 1) and "measured between the 20 files" in one.stdout


def test_killed_worker_is_retried_and_nothing_counted_twice(
    fleet: list[Path], client: Any, tmp_path: Path
) -> None:
    marker = str(tmp_path / "killed")
    target = str(fleet[len(fleet) // 2])
    pids_before = {w["pid"] for w in client.run(lambda: {"pid": os.getpid()}).values()}

    def killing_reader(
        files: list[str], fmt: str | None, max_decompressed: int | None, skip_bad: bool
    ) -> Partial:
        import os as _os
        import signal

        if target in files:
            try:  # once: the first task to hold the target file kills its own worker
                fd = _os.open(marker, _os.O_CREAT | _os.O_EXCL | _os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                _os.write(fd, str(_os.getpid()).encode())
                _os.close(fd)
                _os.kill(_os.getpid(), signal.SIGKILL)
        return read_batch(files, fmt, max_decompressed, skip_bad)

    names = [str(p) for p in fleet]
    result = read_distributed(
        names, None, None, FleetOptions(), client=client, reader=killing_reader
    )
    killed = int(Path(marker).read_text())
    assert killed in pids_before  # a worker process of the cluster died mid-run ...
    assert samples(result.profile) == samples(read_profiles(fleet))  # ... counted once
    assert result.files == len(fleet)


def test_no_dask_import_without_the_flags(fleet: list[Path]) -> None:
    code = (
        "import sys; from hotpath.cli import main\n"
        "try: main(['analyze', sys.argv[1], '-f', 'json'])\n"
        "except SystemExit: pass\n"
        "print('dask' in sys.modules, 'distributed' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(fleet[0])], capture_output=True, text=True, check=True
    )
    assert out.stderr.strip().splitlines()[-1] == "False False"


def test_workers_without_dask_names_the_extra(fleet: list[Path]) -> None:
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from hotpath.cli import main\n"
        "main(['analyze', sys.argv[1], '--workers', '2'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(fleet[0])], capture_output=True, text=True
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "hotpath[fleet]" in lines[0], lines


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_file_progress_bar_counts_files_on_a_terminal() -> None:
    from hotpath.report.progress import file_progress

    term = _Terminal()
    with file_progress(120, term) as advance:
        assert advance is not None
        for _ in range(3):
            advance(40)
    assert "reading files" in term.getvalue() and "120/120" in term.getvalue()
    with file_progress(120, io.StringIO()) as advance:  # not a terminal: no bar
        assert advance is None
    with file_progress(3, _Terminal()) as advance:  # a few files: no bar
        assert advance is None


def test_convert_on_the_cluster_writes_the_same_stacks(
    fleet: list[Path], cluster: Any, tmp_path: Path
) -> None:
    from hotpath.formats import read_profile

    one, many = tmp_path / "one.folded", tmp_path / "many.folded"
    folder = str(fleet[0].parent)
    for out, extra in ((one, []), (many, ["--scheduler", cluster.scheduler_address])):
        result = CliRunner().invoke(main, ["convert", folder, "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
    assert samples(read_profile(many)) == samples(read_profile(one))
    assert read_profile(many).total == read_profiles(fleet).total


def _to_memory(paths: list[Path], root: str) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    for p in paths:
        fs.pipe(f"{root}/{p.name}", p.read_bytes())


def test_memory_url_reads_like_the_local_folder(fleet: list[Path]) -> None:
    _to_memory(fleet, "/hotpath-fleet-test")
    local = _json(["analyze", str(fleet[0].parent), "-f", "json"])
    url = _json(["analyze", "memory://hotpath-fleet-test", "-f", "json"])
    # Same stacks, weights and names; only the sources' spelling differs.
    names = sorted(s["path"].rsplit("/", 1)[-1] for s in url["profile"]["sources"])
    assert names == sorted(p.name for p in fleet)
    assert all(s["path"].startswith("memory://") for s in url["profile"]["sources"])
    for doc in (local, url):
        doc["profile"].pop("sources")
    assert url == local
    glob_doc = _json(["analyze", "memory://hotpath-fleet-test/w00*.folded", "-f", "json"])
    assert len(glob_doc["profile"]["sources"]) == 10


def test_file_url_glob_on_the_cluster(fleet: list[Path], cluster: Any) -> None:
    url = "file://" + str(fleet[0].parent / "w*.folded")
    local = _json(["analyze", str(fleet[0].parent / "w*.folded"), "-f", "json"])
    dask = _json(["analyze", url, "-f", "json", "--scheduler", cluster.scheduler_address])
    assert [s["path"] for s in dask["profile"]["sources"]] == [
        "file://" + s["path"] for s in local["profile"]["sources"]
    ]
    for doc in (local, dask):
        doc["profile"].pop("sources")
    assert dask == local


def test_bad_urls_are_one_line_exit_2(fleet: list[Path]) -> None:
    _to_memory(fleet[:1], "/hotpath-bad-test")
    cases = {
        "memory://hotpath-bad-test/absent.folded": "No such file",
        "memory://hotpath-bad-test/none-*.folded": "no files match",
        "nosuchscheme://bucket/x.folded": "nosuchscheme://bucket/x.folded",
    }
    for url, said in cases.items():
        result = CliRunner().invoke(main, ["analyze", url])
        assert result.exit_code == 2, (url, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0], (url, lines)

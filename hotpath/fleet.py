"""Reading a fleet's files (thousands of workers' profiles) on a Dask cluster.

``--workers N`` starts a local ``distributed.LocalCluster`` of N worker processes;
``--scheduler ADDRESS`` uses an existing cluster. Each Dask task reads a batch of files into
one partial :class:`~hotpath.model.Profile` (interned frames and stacks, the model's own
merge), the partials are merged in a fixed tree on the workers (up to eight a node), and only
the final profile travels to the client, where the analysis runs once.

A file that cannot be read stops the run with the usual one-line error naming it; with
``skip_bad`` it is left out and counted (see :class:`FleetResult`). Dask re-runs the tasks of a
worker that dies; a task's result is used once, so nothing is counted twice.

This module imports dask only inside functions: commands without the flags never load it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotpath.errors import HotpathError, ProfileParseError, UsageError
from hotpath.model import Profile, merge

if TYPE_CHECKING:
    from hotpath.formats.many import InputFile

FILES_PER_TASK_MAX = 64
"""A batch never holds more files than this: a worker lost mid-run re-reads at most this many."""

TASKS_PER_WORKER = 4
"""Batches per worker: enough to balance uneven files, few enough to keep per-task cost low."""

MERGE_FAN_IN = 8
"""Partials merged by one task: each merge moves its inputs between processes once, so a
wide tree moves fewer bytes than a binary one."""

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class FleetOptions:
    """How to read many files: on which cluster, and whether bad files are skipped."""

    workers: int | None = None
    scheduler: str | None = None
    skip_bad: bool = False

    @property
    def distributed(self) -> bool:
        return self.workers is not None or self.scheduler is not None


@dataclass
class FleetResult:
    """The merged profile, and the files left out (path, reason) with ``skip_bad``."""

    profile: Profile
    skipped: list[tuple[str, str]] = field(default_factory=list)
    files: int = 0
    parts: list[Profile] = field(default_factory=list)
    """Each file's own profile, when asked for (one process only)."""


def expand_inputs(paths: Iterable[str | os.PathLike[str]]) -> list[InputFile]:
    """Files, directories (their regular files), quoted globs (``'logs/*.txt.gz'``) and
    URLs read through fsspec (``s3://bucket/day/*.txt.gz``: :mod:`hotpath.formats.remote`)."""
    from hotpath.formats import expand_paths
    from hotpath.formats.remote import is_url

    out: list[str | os.PathLike[str]] = []
    for p in paths:
        text = os.fspath(p)
        if not is_url(text) and not os.path.exists(text) and _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise ProfileParseError(text, "no files match this pattern")
            out.extend(matches)
        else:
            out.append(text)
    return expand_paths(out)


def _input_file(name: str) -> InputFile:
    """A file name sent to a worker, back as what the readers take."""
    from hotpath.formats.remote import RemoteFile, is_url

    return RemoteFile(name, 0) if is_url(name) else Path(name)


def require_dask() -> None:
    """A UsageError naming the extra when dask.distributed is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            "--workers/--scheduler need Dask: pip install 'hotpath[fleet]' "
            f"(dask[distributed]; {exc})"
        ) from exc


# -- the tasks (run on workers; plain module functions so they pickle by reference) ----------
@dataclass(frozen=True)
class _Failed:
    """A file that could not be read: what the error said (HotpathErrors do not pickle)."""

    kind: str
    path: str | None
    reason: str
    line: int | None
    message: str

    @staticmethod
    def of(exc: HotpathError, path: str) -> _Failed:
        if isinstance(exc, ProfileParseError):
            return _Failed(type(exc).__name__, exc.path, exc.reason, exc.line, str(exc))
        return _Failed(type(exc).__name__, path, str(exc), None, f"{path}: {exc}")

    def error(self) -> HotpathError:
        from hotpath import errors

        cls = getattr(errors, self.kind, HotpathError)
        if isinstance(cls, type) and issubclass(cls, ProfileParseError):
            return cls(self.path, self.reason, self.line)
        return HotpathError(self.message)


class FleetReadError(Exception):
    """Raised by a task for a bad file when bad files are not skipped (picklable)."""

    def __init__(self, failed: _Failed) -> None:
        super().__init__(failed)
        self.failed = failed


@dataclass
class Partial:
    """What a task returns: the batch's profile and the bad files it skipped."""

    profile: Profile | None
    skipped: list[_Failed]
    files: int
    parts: list[Profile] = field(default_factory=list)
    """Each file's own profile, in file order, when the task was asked for them."""


def read_batch(
    files: Sequence[str],
    fmt: str | None,
    max_decompressed: int | None,
    skip_bad: bool,
    keep_parts: bool = False,
) -> Partial:
    """Read a batch of files into one profile (the single-process reader, on a worker).

    ``keep_parts``: each file's own profile comes back too (the gate's noise estimate)."""
    from hotpath.formats.many import read_group

    paths = [_input_file(f) for f in files]
    report = _file_reporter()
    if not skip_bad and not keep_parts:
        try:
            return Partial(read_group(paths, fmt, max_decompressed, None, report), [], len(files))
        except HotpathError as exc:
            path = getattr(exc, "path", None) or (files[0] if len(files) == 1 else "<batch>")
            raise FleetReadError(_Failed.of(exc, str(path))) from None
    profiles: list[Profile] = []
    skipped: list[_Failed] = []
    for n, p in enumerate(paths, 1):
        # One by one: a file that fails half way must not leave half its stacks behind.
        try:
            profiles.append(read_group([p], fmt, max_decompressed))
        except HotpathError as exc:
            if not skip_bad:
                raise FleetReadError(_Failed.of(exc, os.fspath(p))) from None
            skipped.append(_Failed.of(exc, os.fspath(p)))
        if report is not None:
            report(n)
    parts = list(profiles) if keep_parts else []
    return Partial(merge(profiles) if profiles else None, skipped, len(files), parts)


PROGRESS_TOPIC = "hotpath-files-read"
"""The Dask event topic on which a batch task says how many of its files it has read:
``(task key, files read)``. Task keys are unique, so runs sharing a cluster do not mix."""


def _file_reporter() -> Callable[[int], None] | None:
    """On a Dask worker, a function that publishes this task's files-read count."""
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
    except (ImportError, ValueError, AttributeError):  # not in a Dask task
        return None

    def report(done: int) -> None:
        worker.log_event(PROGRESS_TOPIC, (key, done))

    return report


def merge_partials(*parts: Partial) -> Partial:
    """Partials into one (a node of the merge tree), in the order given."""
    profiles = [p.profile for p in parts if p.profile is not None]
    return Partial(
        merge(profiles) if profiles else None,
        [s for p in parts for s in p.skipped],
        sum(p.files for p in parts),
        [f for p in parts for f in p.parts],
    )


# -- the client side ---------------------------------------------------------------------
def _distributed() -> Any:
    """dask.distributed, typed loosely (it has no type hints mypy strict accepts)."""
    import importlib

    return importlib.import_module("distributed")


def batches(files: Sequence[str], workers: int) -> list[list[str]]:
    """Contiguous batches: about TASKS_PER_WORKER per worker, at most FILES_PER_TASK_MAX each."""
    if not files:
        return []
    n = max(1, min(FILES_PER_TASK_MAX, -(-len(files) // (workers * TASKS_PER_WORKER))))
    return [list(files[i : i + n]) for i in range(0, len(files), n)]


def _client(options: FleetOptions) -> tuple[Any, Callable[[], None]]:
    """A connected client and how to close it (and the local cluster it started)."""
    require_dask()
    dist = _distributed()
    Client, LocalCluster = dist.Client, dist.LocalCluster

    if options.scheduler is not None:
        try:
            client = Client(options.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(
                f"cannot reach the Dask scheduler at {options.scheduler}: {exc}"
            ) from exc
        return client, client.close
    import dask

    # Dask's own statistical profiler samples every task's stack each 10 ms; on hotpath's
    # deep-stack tasks it made reading 2.2x slower (640 files: 27.8 s -> 12.4 s without).
    # The workers take the config the cluster is made with.
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(
            n_workers=options.workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=50,  # CRITICAL: worker chatter would break the one-line contract
        )
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


def read_distributed(
    files: Sequence[str],
    fmt: str | None,
    max_decompressed: int | None,
    options: FleetOptions,
    on_files: Callable[[int], None] | None = None,
    client: Any = None,
    reader: Callable[..., Partial] = read_batch,
) -> FleetResult:
    """Read ``files`` on a Dask cluster and merge them into one profile (module docstring).

    ``client``: an already connected ``distributed.Client`` (else one is made from
    ``options``). ``reader``: the batch task (tests pass one that kills its own worker).
    """
    close: Callable[[], None] | None = None
    if client is None:
        client, close = _client(options)
    try:
        return _run(client, list(files), fmt, max_decompressed, options, on_files, reader)
    finally:
        if close is not None:
            close()


def _run(
    client: Any,
    files: list[str],
    fmt: str | None,
    max_decompressed: int | None,
    options: FleetOptions,
    on_files: Callable[[int], None] | None,
    reader: Callable[..., Partial],
    keep_parts: bool = False,
) -> FleetResult:
    as_completed = _distributed().as_completed

    workers = max(1, len(client.scheduler_info().get("workers", {})) or (options.workers or 1))
    groups = batches(files, workers)
    extra = (True,) if keep_parts else ()  # a reader given by a test takes four arguments
    reads = [
        client.submit(reader, g, fmt, max_decompressed, options.skip_bad, *extra, pure=False)
        for g in groups
    ]
    sizes = {f.key: len(g) for f, g in zip(reads, groups, strict=True)}
    # A fixed tree over the batches (up to MERGE_FAN_IN children a node), in file order: the
    # merged profile (its frame and source order) is the same whatever order the workers
    # finish in. Only the root is kept here, so Dask frees each partial once its parent
    # merge has run.
    level = list(reads)
    while len(level) > 1:
        level = [
            client.submit(merge_partials, *level[i : i + MERGE_FAN_IN], pure=False)
            if len(level[i : i + MERGE_FAN_IN]) > 1
            else level[i]
            for i in range(0, len(level), MERGE_FAN_IN)
        ]
    root = level[0]
    progress = _FileProgress(sizes, on_files)
    if on_files is not None:
        client.subscribe_topic(PROGRESS_TOPIC, progress.event)
    pending = as_completed(reads)  # it lets go of each future once it has yielded it
    del level, reads
    try:
        for fut in pending:
            if fut.status == "error":
                exc = fut.exception()
                client.cancel([root])
                if isinstance(exc, FleetReadError):
                    raise exc.failed.error()
                if isinstance(exc, HotpathError):
                    raise exc
                raise HotpathError(f"a Dask task failed: {type(exc).__name__}: {exc}")
            progress.done(fut.key)
    finally:
        if on_files is not None:
            client.unsubscribe_topic(PROGRESS_TOPIC)
    try:
        partial: Partial = root.result()
    except HotpathError:
        raise
    except Exception as exc:  # a merge task failed (a worker died too often)
        raise HotpathError(f"a Dask task failed: {type(exc).__name__}: {exc}") from None
    skipped = [(s.path or "<input>", s.message) for s in partial.skipped]
    if partial.profile is None:
        raise UsageError(f"none of the {len(files)} files could be read: {skipped[0][1]}")
    return FleetResult(partial.profile, skipped, partial.files, partial.parts)


class _FileProgress:
    """Files read per batch, from the tasks' events (one per file) and their completion.

    A batch's count only grows: a task re-run after its worker died reports its files
    again from one, and those are not counted twice. Events come on the client's event
    loop thread, completions on the caller's: a lock keeps the counts whole."""

    def __init__(self, sizes: dict[Any, int], on_files: Callable[[int], None] | None) -> None:
        import threading

        self.sizes = sizes
        self.on_files = on_files
        self.read: dict[Any, int] = {}
        self.lock = threading.Lock()

    def _advance(self, key: Any, done: int) -> None:
        with self.lock:
            before = self.read.get(key, 0)
            done = min(done, self.sizes[key])
            if done > before:
                self.read[key] = done
                if self.on_files is not None:
                    self.on_files(done - before)

    def event(self, event: tuple[float, Any]) -> None:
        msg = event[1]
        if isinstance(msg, tuple | list) and len(msg) == 2 and msg[0] in self.sizes:
            self._advance(msg[0], int(msg[1]))

    def done(self, key: Any) -> None:
        self._advance(key, self.sizes[key])


def read_local(
    files: Sequence[str],
    fmt: str | None,
    max_decompressed: int | None,
    on_bytes: Callable[[int], None] | None = None,
    keep_parts: bool = False,
) -> FleetResult:
    """``skip_bad`` without a cluster: the files one by one in this process."""
    from hotpath.formats.many import read_group

    profiles: list[Profile] = []
    skipped: list[tuple[str, str]] = []
    for f in files:
        try:
            profiles.append(read_group([_input_file(f)], fmt, max_decompressed, on_bytes))
        except HotpathError as exc:
            skipped.append((f, str(exc)))
    if not profiles:
        raise UsageError(f"none of the {len(files)} files could be read: {skipped[0][1]}")
    parts = profiles if keep_parts else []
    return FleetResult(merge(profiles), skipped, len(files), parts)


def read_sides(
    sides: Sequence[Sequence[str]],
    fmt: str | None,
    max_decompressed: int | None,
    options: FleetOptions,
    on_files: Callable[[int], None] | None = None,
    keep_parts: bool = False,
) -> list[FleetResult]:
    """Several sides (diff, gate) on one cluster, each merged on its own; with
    ``keep_parts`` each side's per-file profiles come back too (as
    :func:`read_local` keeps them), for the noise estimate from the spread between files."""
    client, close = _client(options)
    try:
        return [
            _run(
                client,
                list(files),
                fmt,
                max_decompressed,
                options,
                on_files,
                read_batch,
                keep_parts and len(files) > 1,
            )
            for files in sides
        ]
    finally:
        close()


def skipped_line(result: FleetResult) -> str | None:
    """The one line that counts the skipped files (None when none were)."""
    if not result.skipped:
        return None
    from hotpath import escape

    first = escape.text(result.skipped[0][1])  # file names are untrusted
    return (
        f"hotpath: skipped {len(result.skipped)} of {result.files} files that could not be "
        f"read (first: {first})"
    )

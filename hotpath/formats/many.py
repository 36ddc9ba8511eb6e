"""Reading many profile files at once: shared frame parsing, and two processes when it pays.

Files of a format with an :class:`~hotpath.formats.spec.Accumulator` (folded) are read into one
profile, so each distinct frame text is parsed once, not once per worker file. With
``jobs`` > 1 and enough bytes, the files are split into groups of about equal size; one group
is read here and the others in forked processes, and the results are merged.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hotpath import errors
from hotpath.errors import HotpathError, ProfileParseError
from hotpath.formats.checks import check_totals
from hotpath.formats.opening import open_profile
from hotpath.formats.registry import read_stream, spec_of_stream
from hotpath.formats.remote import RemoteFile, expand_url, is_url
from hotpath.formats.spec import Accumulator, ProgressFn
from hotpath.model import Profile, Source, merge

PARALLEL_MIN_BYTES = 32 * 1024**2
"""Below this, starting a process (~0.1 s) costs more than it saves."""


InputFile = Path | RemoteFile
"""A file to read: a local path, or a file behind a URL (:mod:`hotpath.formats.remote`)."""


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[InputFile]:
    """Files named directly, plus the regular files inside named directories (sorted);
    URLs (``s3://...``) are expanded by their filesystem the same way, globs included."""
    out: list[InputFile] = []
    for p in paths:
        if isinstance(p, RemoteFile):
            out.append(p)
            continue
        if isinstance(p, str) and is_url(p):
            out.extend(expand_url(p))
            continue
        path = Path(p)
        if path.is_dir():
            children = sorted(
                c for c in path.iterdir() if c.is_file() and not c.name.startswith(".")
            )
            if not children:
                raise ProfileParseError(str(path), "directory holds no profile files")
            out.extend(children)
        else:
            out.append(path)
    return out


def read_many(
    files: Sequence[InputFile],
    fmt: str | None,
    max_decompressed: int | None,
    jobs: int = 1,
    on_bytes: ProgressFn | None = None,
) -> Profile:
    """Read ``files`` into one merged profile (see the module docstring)."""
    if jobs > 1 and len(files) > 1:
        groups = split_by_size(files, jobs)
        if len(groups) > 1:
            # Imported here: multiprocessing and concurrent.futures cost 0.1 s at start-up.
            from concurrent.futures.process import BrokenProcessPool

            try:
                return _read_parallel(groups, fmt, max_decompressed)
            except (BrokenProcessPool, OSError):
                pass  # no processes on this system (or a child died): read them here
    return read_group(files, fmt, max_decompressed, on_bytes)


def split_by_size(files: Sequence[InputFile], jobs: int) -> list[list[InputFile]]:
    """Contiguous groups of about equal bytes; one group when the total is small."""
    sizes = []
    for f in files:
        try:
            sizes.append(f.stat().st_size)
        except OSError:
            sizes.append(0)  # the reader reports the missing file with its proper error
    total = sum(sizes)
    if total < PARALLEL_MIN_BYTES:
        return [list(files)]
    groups: list[list[InputFile]] = [[]]
    target = total / jobs
    acc = 0
    for f, size in zip(files, sizes, strict=True):
        # A file goes to the next group when most of it lies past this group's share.
        if groups[-1] and acc + size / 2 > target * len(groups) and len(groups) < jobs:
            groups.append([])
        groups[-1].append(f)
        acc += size
    return [g for g in groups if g]


def read_group(
    files: Sequence[InputFile],
    fmt: str | None,
    max_decompressed: int | None,
    on_bytes: ProgressFn | None = None,
    on_file: Callable[[int], None] | None = None,
) -> Profile:
    """Read files one after another, sharing an accumulator per format that has one.

    ``on_file(n)`` is called after each file with the number of files read so far."""
    profiles: list[Profile] = []
    accumulators: dict[str, Accumulator] = {}
    sources: dict[str, list[Source]] = {}
    for f in files:
        display = os.fspath(f)
        with open_profile(display, max_decompressed, on_bytes) as stream:
            spec = spec_of_stream(stream, display, fmt)
            if spec.accumulator is None or len(files) == 1:
                profiles.append(read_stream(stream, display, spec.name)[0])
                if on_file is not None:
                    on_file(len(profiles) + sum(map(len, sources.values())))
                continue
            acc = accumulators.get(spec.name)
            if acc is None:
                acc = accumulators[spec.name] = spec.accumulator()
            try:
                acc.feed(stream, display)
            except (OSError, EOFError, zlib.error) as exc:
                raise ProfileParseError(display, f"cannot read: {exc}") from exc
            sources.setdefault(spec.name, []).append(Source(display, spec.name))
        if on_file is not None and spec.accumulator is not None and len(files) > 1:
            on_file(len(profiles) + sum(map(len, sources.values())))
    for name, acc in accumulators.items():
        profile = acc.finish()
        profile.meta.sources.extend(sources[name])
        check_totals(profile, ", ".join(s.path for s in sources[name][:3]))
        profiles.append(profile)
    return merge(profiles)


@dataclass(frozen=True)
class _Failure:
    """A HotpathError from a child process (they do not pickle: their args differ)."""

    kind: str
    message: str
    path: str | None = None
    reason: str | None = None
    line: int | None = None

    def exception(self) -> HotpathError:
        cls = getattr(errors, self.kind, HotpathError)
        if self.reason is not None and issubclass(cls, ProfileParseError):
            return cls(self.path, self.reason, self.line)
        return cls(self.message) if issubclass(cls, HotpathError) else HotpathError(self.message)


def _read_child(
    files: list[InputFile], fmt: str | None, max_decompressed: int | None
) -> Profile | _Failure:
    try:
        return read_group(files, fmt, max_decompressed)
    except ProfileParseError as exc:
        return _Failure(type(exc).__name__, str(exc), exc.path, exc.reason, exc.line)
    except HotpathError as exc:
        return _Failure(type(exc).__name__, str(exc))


def _read_parallel(
    groups: list[list[InputFile]], fmt: str | None, max_decompressed: int | None
) -> Profile:
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # fork is cheap and needs no re-import; with other threads running it is unsafe.
    method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(len(groups) - 1, mp_context=ctx) as pool:
        futures = [pool.submit(_read_child, g, fmt, max_decompressed) for g in groups[1:]]
        here = read_group(groups[0], fmt, max_decompressed)
        results = [f.result() for f in futures]
    for r in results:
        if isinstance(r, _Failure):
            raise r.exception()
    return merge([here, *(r for r in results if isinstance(r, Profile))])

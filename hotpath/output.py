"""Where commands write: one function opens every output a command writes.

:func:`open_output` decides by what the path is:

- ``None`` or ``-``: standard output.
- an existing path that is not a regular file (a device such as ``/dev/null``, a FIFO, a
  socket, or a symlink to one such as ``/proc/self/fd/1``): written as a stream, never
  replaced by a regular file.
- anything else: a regular file written atomically (a temporary file beside it, ``fsync``,
  rename; through a symlink, beside the file it points to), so a reader sees the old file or
  the whole new one, never a partial or empty one.

Every ``OSError`` while opening, writing, flushing or renaming (a missing directory, a full
disk, ``/dev/full``) becomes :class:`~hotpath.errors.OutputError`: one line naming the path,
exit 2. Text is UTF-8 with ``backslashreplace``: a name holding a lone surrogate is written as
``\\ud800`` (a valid escape in JSON and JavaScript) instead of failing the whole report.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
from collections.abc import Iterator
from typing import IO, Any

from hotpath.errors import OutputError

TEXT_ERRORS = "backslashreplace"


def _describe(path: str, exc: OSError) -> str:
    if path == "-":
        return f"cannot write to standard output: {exc.strerror or exc}"
    parent = os.path.dirname(os.path.abspath(path))
    if isinstance(exc, FileNotFoundError) and not os.path.isdir(parent):
        return f"cannot write {path}: directory {parent} does not exist"
    return f"cannot write {path}: {exc.strerror or exc}"


@contextlib.contextmanager
def open_output(
    path: str | os.PathLike[str] | None, binary: bool = False, append: bool = False
) -> Iterator[IO[Any]]:
    """A stream for one output of a command (see the module docstring).

    ``append`` adds to the end of an existing file (``gate --summary``): what is written is
    held in memory and appended at once; on a failure the file is cut back to its old length.
    """
    display = "-" if path is None else os.fspath(path)
    try:
        if display == "-":
            with _stdout(binary) as out:
                yield out
        elif append:
            with _appended(display, binary) as out:
                yield out
        else:
            with _file(display, binary) as out:
                yield out
    except BrokenPipeError:
        if display == "-":
            raise  # stdout closed by its reader: the command group ends quietly
        raise OutputError(f"cannot write {display}: broken pipe") from None
    except OSError as exc:
        raise OutputError(_describe(display, exc)) from exc


def check_writable(path: str | os.PathLike[str] | None) -> None:
    """Fail now, before a long recording, when ``path`` cannot be written later."""
    display = "-" if path is None else os.fspath(path)
    if display == "-" or _is_stream(display):
        return
    parent = os.path.dirname(os.path.abspath(display))
    if os.path.isdir(display):
        raise OutputError(f"cannot write {display}: is a directory")
    if not os.path.isdir(parent):
        raise OutputError(f"cannot write {display}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {display}: permission denied in {parent}")


@contextlib.contextmanager
def _text(raw: IO[bytes]) -> Iterator[IO[str]]:
    text = io.TextIOWrapper(raw, encoding="utf-8", errors=TEXT_ERRORS, newline="\n")
    try:
        yield text
        text.flush()
    finally:
        with contextlib.suppress(ValueError):
            text.detach()  # the raw stream belongs to the caller


@contextlib.contextmanager
def _stdout(binary: bool) -> Iterator[IO[Any]]:
    buffer = getattr(sys.stdout, "buffer", None)
    try:
        if buffer is None:  # a text-only stand-in (some test runners)
            yield sys.stdout
            sys.stdout.flush()
            return
        sys.stdout.flush()  # what was echoed before comes first
        if binary:
            yield buffer
        else:
            with _text(buffer) as out:
                yield out
        buffer.flush()
    except OSError:
        _silence_stdout()
        raise


def _silence_stdout() -> None:
    """After a failed write to stdout, point fd 1 at /dev/null so the interpreter's final
    flush of the same unwritable data does not print a second error at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _is_stream(path: str) -> bool:
    """An existing path that is not a regular file (following symlinks)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def _file(path: str, binary: bool) -> Iterator[IO[Any]]:
    if os.path.isdir(path):
        raise IsADirectoryError(21, "is a directory", path)
    if _is_stream(path):
        with open(path, "wb") as raw:
            if binary:
                yield raw
            else:
                with _text(raw) as out:
                    yield out
        return
    from hotpath.collect.store import atomic_writer

    # Through a symlink, replace the file it points to, not the link.
    target = os.path.realpath(path) if os.path.islink(path) else path
    with atomic_writer(target, binary=True) as raw:
        if binary:
            yield raw
        else:
            with _text(raw) as out:
                yield out


@contextlib.contextmanager
def _appended(path: str, binary: bool) -> Iterator[IO[Any]]:
    held: io.BytesIO | io.StringIO = io.BytesIO() if binary else io.StringIO()
    yield held
    value = held.getvalue()
    data = value if isinstance(value, bytes) else value.encode("utf-8", TEXT_ERRORS)
    existed = os.path.exists(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        size = os.fstat(fd).st_size if regular else 0
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if regular:
                os.fsync(fd)
        except OSError:
            if regular:  # never leave half an append, nor an empty new file
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                if not existed:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
            raise
    finally:
        os.close(fd)

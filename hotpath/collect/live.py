"""Run a recording in the foreground: stop cleanly on Ctrl-C/SIGTERM, show live progress.

Used by ``hotpath record`` and ``hotpath attach``. While it runs, SIGINT and SIGTERM ask
py-spy to finish (it then writes what it collected) instead of killing hotpath; the previous
handlers are restored afterwards. On a terminal a one-line progress display (elapsed, samples,
the current top function) is drawn on stderr with rich; elsewhere nothing is drawn.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from hotpath.collect.pyspy import PySpyRecorder, RecordResult, current_top


@contextmanager
def _stop_on_signals(recorder: PySpyRecorder) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        recorder.stop("interrupted" if signum == signal.SIGINT else "terminated")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def drive(recorder: PySpyRecorder, progress_console: Any | None = None) -> RecordResult:
    """Start ``recorder``, wait for it (duration, signal or target exit), return the result.

    ``progress_console`` is a ``rich.console.Console`` on a terminal, or None for no display.
    """
    with _stop_on_signals(recorder):
        recorder.start()
        if progress_console is None:
            return recorder.wait()
        return _with_progress(recorder, progress_console)


def _with_progress(recorder: PySpyRecorder, console: Any) -> RecordResult:
    from rich.live import Live
    from rich.text import Text

    top: list[str | None] = [None]
    stop = threading.Event()

    def watch_top() -> None:  # py-spy dump is slow-ish: refresh the top function every 2 s
        while not stop.wait(2.0):
            pid = recorder.pid
            if pid is not None:
                top[0] = current_top(pid, recorder.exe) or top[0]

    watcher = threading.Thread(target=watch_top, daemon=True)
    watcher.start()
    rate = recorder.options.rate

    def line() -> Text:
        el = recorder.elapsed()
        est = int(el * rate * max(recorder.thread_count(), 1))
        dur = recorder.options.duration
        total = f"/{dur:g}s" if dur else "s"
        return Text(
            f"recording {el:5.1f}{total}  ~{est} samples  top: {top[0] or '…'}  (Ctrl-C to stop)"
        )

    try:
        with Live(line(), console=console, refresh_per_second=4, transient=True) as live:
            while not recorder.poll(0.25):
                live.update(line())
                time.sleep(0)
        return recorder.wait()
    finally:
        stop.set()

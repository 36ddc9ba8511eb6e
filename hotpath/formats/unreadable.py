"""Files people give hotpath that are profiles (or look like them) hotpath does not read.

Detection checks these after every readable format and before the folded-text fallback, so
such a file fails with what it is and what to do instead of a confusing parse error on its
first line (an HTML page read as folded stacks). Each entry: a name, a sniffer over the
first bytes, and the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Unreadable:
    name: str
    sniff: Callable[[bytes], bool]
    message: str


_PERF_SAMPLE = re.compile(
    rb"^\S[^\n]*?\s+\d+(?:/\d+)?\s+(?:\[\d+\]\s+)?\d+\.\d+:\s+(?:\d+\s+)?[\w.:-]+:", re.M
)


def _lower_head(head: bytes) -> bytes:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()


def _html(head: bytes) -> bool:
    text = _lower_head(head)
    return text.startswith((b"<!doctype html", b"<html"))


def _svg(head: bytes) -> bool:
    text = _lower_head(head)
    return text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in head


def _perf_script(head: bytes) -> bool:
    return _PERF_SAMPLE.search(head[:4096]) is not None


def _gprof(head: bytes) -> bool:
    return b"Flat profile:" in head[:4096] and b"Each sample counts as" in head[:4096]


def _pickle(head: bytes) -> bool:
    return len(head) > 2 and head[0] == 0x80 and 2 <= head[1] <= 5


KNOWN: tuple[Unreadable, ...] = (
    Unreadable(
        "perf.data",
        lambda head: head.startswith(b"PERFILE2"),
        "this is a perf.data file, which hotpath does not read: fold it first "
        "(perf script | stackcollapse-perf.pl > out.folded), then hotpath reads the folded "
        "stacks",
    ),
    Unreadable(
        "gmon.out",
        lambda head: head.startswith(b"gmon"),
        "this is gprof's gmon.out, which hotpath does not read",
    ),
    Unreadable(
        "pickle",
        _pickle,
        "this is a Python pickle (yappi's default 'ystat' save?), which hotpath never loads: "
        "save yappi's stats with type='callgrind' or type='pstat'",
    ),
    Unreadable(
        "html",
        _html,
        "this is an HTML page but not pyinstrument's -r html output, which is the only "
        "HTML hotpath reads",
    ),
    Unreadable(
        "svg",
        _svg,
        "this is an SVG image but not a flame graph (py-spy, inferno, flamegraph.pl), the "
        "only SVG hotpath reads",
    ),
    Unreadable(
        "gprof",
        _gprof,
        "this is a gprof report, which hotpath does not read",
    ),
    Unreadable(
        "perf script",
        _perf_script,
        "this is perf script output, which hotpath does not read as it is: fold it first "
        "(stackcollapse-perf.pl or inferno-collapse-perf), then hotpath reads the folded "
        "stacks",
    ),
)


def identify(head: bytes) -> Unreadable | None:
    """The known unreadable format these first bytes belong to, if any."""
    return next((u for u in KNOWN if u.sniff(head)), None)

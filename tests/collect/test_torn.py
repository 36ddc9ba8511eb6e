"""Mending py-spy's torn (root-less) stacks: the callers come from the thread's nearest whole
stack holding the torn stack's outermost function. The stacks are shaped as the torn reads of
a Flask + PyYAML app under waitress were (tests/analysis/test_advisor_monolith2.py is the live
check: its YAML endpoint's share rose 3-4 points with the mending)."""

from __future__ import annotations

from hotpath.collect.chrometrace import Span
from hotpath.collect.torn import mend_torn
from hotpath.model import Frame

BOOT = Frame("Thread._bootstrap", "/py/threading.py", 1002)
HANDLER = Frame("handler_thread", "/site/waitress/task.py", 70)
VIEW = Frame("settings_view", "/app/app.py", 146)
PARSE = Frame("parse_yaml", "/app/app.py", 67)
SCAN = Frame("Scanner.scan_plain", "/site/yaml/scanner.py", 1303)
PEEK = Frame("Reader.peek", "/site/yaml/reader.py", 90)
OTHER_VIEW = Frame("article_view", "/app/app.py", 140)


def _span(tid: int, stack: tuple[Frame, ...], start: float, end: float) -> Span:
    return Span(1, tid, "worker", None, stack, start, end)


def _names(span: Span) -> list[str]:
    return [f.name for f in span.stack]


def test_a_torn_stack_takes_the_callers_of_the_nearest_whole_stack_of_its_thread() -> None:
    whole = (BOOT, HANDLER, VIEW, PARSE, SCAN, PEEK)
    article = (BOOT, HANDLER, OTHER_VIEW, Frame("convert", "/site/markdown/core.py", 1))
    torn = (Frame("Scanner.scan_plain", "/site/yaml/scanner.py", 1309), PEEK)
    spans = [
        _span(7, article, 0.0, 0.1),
        _span(7, whole, 0.1, 0.2),
        _span(7, torn, 0.2, 0.204),  # nearest whole stack with scan_plain: the one before
        _span(7, article, 0.204, 0.3),
    ]
    out, mended = mend_torn(spans)
    assert mended == 1
    assert _names(out[2]) == [
        "Thread._bootstrap", "handler_thread", "settings_view", "parse_yaml",
        "Scanner.scan_plain", "Reader.peek",
    ]  # fmt: skip
    assert out[2].stack[-2].line == 1309  # the torn read's own frames are kept as read
    assert (out[2].start, out[2].end) == (0.2, 0.204)
    assert out[0] == spans[0] and out[1] == spans[1] and out[3] == spans[3]


def test_the_nearest_in_time_wins_and_the_deepest_frame_of_a_recursion() -> None:
    rec = Frame("walk", "/app/tree.py", 5)
    early = (BOOT, HANDLER, VIEW, rec, rec, PEEK)  # walk twice: graft at the inner one
    late = (BOOT, HANDLER, OTHER_VIEW, rec)
    spans = [
        _span(3, early, 0.0, 0.1),
        _span(3, (rec, SCAN), 0.30, 0.31),
        _span(3, late, 0.32, 0.4),
    ]
    out, mended = mend_torn(spans)
    assert mended == 1
    assert _names(out[1]) == ["Thread._bootstrap", "handler_thread", "article_view", "walk",
                              "Scanner.scan_plain"]  # fmt: skip
    spans[1] = _span(3, (rec, SCAN), 0.11, 0.12)  # now nearer the early one
    out, _ = mend_torn(spans)
    assert _names(out[1]) == ["Thread._bootstrap", "handler_thread", "settings_view", "walk",
                              "walk", "Scanner.scan_plain"]  # fmt: skip


def test_what_cannot_be_mended_is_left_as_read() -> None:
    whole = (BOOT, HANDLER, VIEW)
    garbage = (Frame("__spec__", "", 3085216432),)
    other_thread = (BOOT, HANDLER, VIEW, PARSE, SCAN)
    spans = [
        _span(1, whole, 0.0, 0.1),
        _span(1, garbage, 0.1, 0.2),  # its function is in no whole stack of the thread
        _span(1, (SCAN,), 0.2, 0.3),  # only another thread was seen in scan_plain whole
        _span(2, other_thread, 0.0, 0.3),
    ]
    out, mended = mend_torn(spans)
    assert mended == 0
    assert out == spans


def test_an_empty_read_keeps_the_stack_just_before_it_and_a_lone_root_is_no_tear() -> None:
    whole = (BOOT, HANDLER, VIEW, PARSE)
    main = (Frame("<module>", "/app/run.py", 1), Frame("serve", "/app/run.py", 9))
    spans = [
        _span(5, whole, 0.0, 0.1),
        _span(5, (), 0.1, 0.102),
        _span(5, (SCAN,), 0.102, 0.2),  # torn: the whole stack after it holds scan_plain
        _span(5, (BOOT, HANDLER, VIEW, PARSE, SCAN), 0.2, 0.3),
        _span(6, main, 0.0, 0.3),  # a thread whose stacks all start at one root
        _span(6, (), 0.3, 0.31),  # empty, but its thread has no second root: nothing torn
    ]
    out, mended = mend_torn(spans)
    assert mended == 2
    assert out[1].stack == whole and (out[1].start, out[1].end) == (0.1, 0.102)
    assert _names(out[2])[-2:] == ["parse_yaml", "Scanner.scan_plain"]
    assert out[4] == spans[4] and out[5] == spans[5]

"""Torn stacks from py-spy's non-blocking reads, mended before they are weighed.

py-spy ``--nonblocking`` reads a thread's frames while the thread runs. When a frame it walks
through is popped meanwhile, the walk ends early and py-spy reports the leaf part of the stack
without its callers: ``Scanner.scan_plain`` alone where the thread was in ``Thread._bootstrap >
... > settings_view > load_settings > parse_yaml > ... > Scanner.scan_plain`` (py-spy issue #56:
the end of a stack is a NULL ``back`` pointer, which is also what a torn read finds). A pure-
Python library that calls and returns a lot tears often: on a Flask app under waitress, 8% of
the wall time of a PyYAML endpoint was in stacks without their root, and with them 4-8 points of
the endpoint's CPU share went to no endpoint at all.

A stack is torn when it does not start at its thread's root (the outermost frame most of the
thread's stacks start at) and its outermost frame is a function the thread was also seen in
whole. It is mended by taking the callers from the thread's nearest (in time) whole stack that
holds that function: ``whole[:i] + torn`` with ``whole[i]`` the deepest frame of it. A read that
found no frame at all, right after a stack of the same thread, keeps that stack. What cannot be
mended (its outermost frame is nowhere else: garbage read from freed memory) is left as read.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import replace

from hotpath.collect.chrometrace import Span

FrameKey = tuple[str, str]


def mend_torn(spans: list[Span]) -> tuple[list[Span], int]:
    """``spans`` with torn stacks mended (see the module), and how many were."""
    by_thread: dict[tuple[int, int | None], list[int]] = {}
    for i, s in enumerate(spans):
        by_thread.setdefault((s.pid, s.tid), []).append(i)
    out = list(spans)
    mended = 0
    for idx in by_thread.values():
        idx.sort(key=lambda i: spans[i].start)
        mended += _mend_thread([spans[i] for i in idx], idx, out)
    return out, mended


def _key(span: Span) -> FrameKey | None:
    return (span.stack[0].name, span.stack[0].file) if span.stack else None


def _mend_thread(thread: list[Span], idx: list[int], out: list[Span]) -> int:
    roots = Counter(k for k in map(_key, thread) if k is not None)
    if len(roots) < 2:
        return 0  # every stack starts at the root (or none has frames): nothing is torn
    root = roots.most_common(1)[0][0]
    torn = [p for p, s in enumerate(thread) if s.stack and _key(s) != root]
    heads = {_key(thread[p]) for p in torn}
    # Where each torn stack's outermost function sits in the whole stacks: per head, the
    # positions (in time order) of the whole stacks holding it and the depth of its deepest
    # frame there. One pass, each distinct stack looked at once.
    found: dict[tuple[object, ...], dict[FrameKey, int]] = {}
    places: dict[FrameKey, tuple[list[int], list[int]]] = {}
    for p, s in enumerate(thread):
        if not s.stack or _key(s) != root:
            continue
        depths = found.get(s.stack)
        if depths is None:
            depths = {}
            for d, f in enumerate(s.stack):
                k = (f.name, f.file)
                if k in heads:
                    depths[k] = d
            found[s.stack] = depths
        for k, d in depths.items():
            pos, depth = places.setdefault(k, ([], []))
            pos.append(p)
            depth.append(d)
    mended = 0
    for p in torn:
        s = thread[p]
        head = _key(s)
        assert head is not None
        if head not in places:
            continue
        pos, depth = places[head]
        j = bisect_left(pos, p)
        near = [q for q in (j - 1, j) if 0 <= q < len(pos)]
        q = min(near, key=lambda q: abs(thread[pos[q]].start - s.start))
        whole = thread[pos[q]].stack
        out[idx[p]] = replace(s, stack=whole[: depth[q]] + s.stack)
        mended += 1
    for p in range(1, len(thread)):
        s, prev = thread[p], out[idx[p - 1]]
        if not s.stack and prev.stack and prev.end == s.start and _key(prev) == root:
            out[idx[p]] = replace(s, stack=prev.stack)
            mended += 1
    return mended

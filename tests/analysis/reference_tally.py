"""The evidence tally as it was before it ran on arrays: one Python step per stack and
entry. Kept as the reference the array version is checked against (test_tally_reference)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from itertools import compress, count

from hotpath.analysis.evidence import (
    _IN_LOOP,
    _NO_CALLER,
    _NOT_IN_LOOP,
    FrameIndex,
    Tally,
    _call_site,
)
from hotpath.analysis.nativeness import Category, Evidence, LeafJudge
from hotpath.analysis.region_index import Region
from hotpath.model import FunctionKey, Stack


def reference_tally(
    index: FrameIndex,
    samples: Iterable[tuple[Stack, float]],
    entries: Mapping[FunctionKey, AbstractSet[FunctionKey]],
    judge: LeafJudge,
) -> dict[FunctionKey, Tally]:
    """Tally every sample (stack of frame ids, weight) under each entry (-> its region).

    Near-linear in the frames of all stacks: regions given as :class:`Region` intervals are
    tested by the preorder numbers of a stack's suffix (its minimum and maximum), never by
    building a set per entry (quadratic in a deep stack of distinct functions).
    """
    ids = index.id_of
    fn_of, ok, app, cls_of, lib_of, frames = (
        index.fn_of,
        index.outside_ok,
        index.app,
        index.cls,
        index.lib,
        index.frames,
    )
    owner_ok = index.owner_ok
    entry_ids = {ids[k]: k for k in entries if k in ids}
    # Per entry: its preorder interval (lo, hi) when the region is one, else a set of ids.
    intervals: dict[int, tuple[int, int]] = {}
    regions: dict[int, set[int]] = {}
    pos_of: list[int] = []
    tree = None
    for i, k in entry_ids.items():
        region = entries[k]
        if isinstance(region, Region) and region.lo >= 0 and region.index is (tree or region.index):
            if tree is None:
                tree = region.index
                pos_of = [tree.position.get(key, -1) for key in index.keys]
            intervals[i] = (region.lo, region.hi)
        else:
            regions[i] = {ids[r] for r in region if r in ids}
    pos_at = pos_of.__getitem__
    lib_fns = {f for f, name in enumerate(lib_of) if name is not None}
    marked = [name is not None or own for name, own in zip(lib_of, owner_ok, strict=True)]
    marked_at = marked.__getitem__
    entry_set = set(entry_ids)
    fn_at = fn_of.__getitem__
    ok_at, app_at = ok.__getitem__, app.__getitem__
    judged: dict[int, tuple[Category, Evidence | None]] = {}  # per leaf frame id
    sites = [-1] * len(frames) + [_NO_CALLER]  # per caller frame id; [-1]: no caller
    # Per (stack, entry) only a key is built: (entry, leaf judgement, outside?, layer class,
    # call site in a loop?, library entered). Their weights add up here and each distinct key
    # is tallied once below: on the 100 MB benchmark profile 90,000 visits became 36,000 keys.
    acc: defaultdict[
        tuple[int, tuple[Category, Evidence | None], bool, str | None, int, tuple[str, int] | None],
        float,
    ]
    acc = defaultdict(float)
    for stack, w in samples:
        if not stack:
            continue
        fns = list(map(fn_at, stack))
        here = entry_set.intersection(fns)
        if not here:
            continue
        leaf = stack[-1]
        verdict = judged.get(leaf)
        if verdict is None:
            verdict = judged[leaf] = judge.judge(frames[leaf])
        # Per stack, once: the deepest frame that no rewrite may swallow (framework code)
        # and the deepest app frame (both usually near the leaf, so found from there).
        n = len(fns)
        last_bad = _last_index(list(map(ok_at, fns)), False)
        last_app = _last_index(list(map(app_at, fns)), True)
        inner_cls = cls_of[fns[last_app]] if last_app >= 0 else None
        # Each library entered on this stack, with the app frame that called into it.
        libs: list[tuple[int, str, int]] = []
        if not lib_fns.isdisjoint(fns):  # a C test: most stacks of most apps enter none
            owner = -1
            for j in compress(count(), map(marked_at, fns)):  # Python visits only these frames
                f = fns[j]
                name = lib_of[f]
                if name is not None:
                    if not libs or libs[-1][1] != name or owner > libs[-1][0]:
                        libs.append((j, name, owner))
                elif owner_ok[f]:
                    owner = j
        lib_at = [j for j, _name, _o in libs]
        # Each entry's outermost call (a recursive entry counts once: the first index wins),
        # innermost first, so the preorder numbers below each one are scanned in one pass
        # of C-level min/max over the segments between entries.
        at_entry = sorted(((fns.index(fn), fn) for fn in here), reverse=True)
        facts: dict[int, tuple[int, bool]] = {}  # entry -> (its index, region holds below)
        pos = list(map(pos_at, fns)) if intervals else []
        lo, hi, end = 1 << 62, -1, n
        for i, fn in at_entry:
            span = intervals.get(fn)
            if span is None:
                facts[fn] = (i, regions[fn].issuperset(fns[i + 1 :]))
                continue
            if i + 1 < end:
                seg = pos[i + 1 : end]
                lo, hi, end = min(lo, min(seg)), max(hi, max(seg)), i + 1
            facts[fn] = (i, i + 1 >= n or (lo >= span[0] and hi <= span[1]))
        for fn in here:  # the set's order, as the weights were always added up in
            i, inside = facts[fn]
            outside = last_bad > i or not inside
            layer = inner_cls if last_app > i and inner_cls != cls_of[fn] else None
            caller = stack[i - 1] if i > 0 else -1
            site = sites[caller]
            if site < 0:
                site = sites[caller] = _call_site(frames[caller], judge)
            lib = None
            if libs:
                at = bisect_right(lib_at, i)  # the first library entered below this entry
                if at < len(libs):
                    _j, name, o = libs[at]
                    lib = (name, fns[o] if o >= i or (o >= 0 and not owner_ok[fn]) else fn)
            acc[fn, verdict, outside, layer, site, lib] += w
    by_id = {i: Tally() for i in entry_ids}
    for (fn, (category, ev), outside, layer, site, lib), w in acc.items():
        t = by_id[fn]
        t.total += w
        t.categories[category] = t.categories.get(category, 0.0) + w
        if ev is not None:
            t.evidence.add(ev)
            t.judged += w
            if ev == "Python files, source not read":
                t.unread += w
        if outside:
            t.outside += w
        if layer is not None:
            t.layer += w
            t.layer_classes[layer] = t.layer_classes.get(layer, 0.0) + w
        if site != _NO_CALLER:
            t.call_sites += w
        if site >= _NOT_IN_LOOP:
            t.call_sites_known += w
        if site == _IN_LOOP:
            t.call_sites_in_loops += w
        if lib is not None:
            name, owner_fn = lib
            t.libraries[name] = t.libraries.get(name, 0.0) + w
            who = (name, index.keys[owner_fn].name)
            t.owners[who] = t.owners.get(who, 0.0) + w
    tallies = {k: Tally() for k in entries}
    tallies.update((entry_ids[i], t) for i, t in by_id.items())
    return tallies


def _last_index(flags: list[bool], value: bool) -> int:
    """The index of the last ``value`` in ``flags``, or -1 (searched by C loops)."""
    flags.reverse()
    try:
        return len(flags) - 1 - flags.index(value)
    except ValueError:
        return -1

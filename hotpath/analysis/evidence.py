"""Per-candidate evidence measured from a profile's stacks (or exact call statistics).

For a candidate entry F (a function, or the view under an endpoint) and its dominator
region R, every sample under F is sorted into:

- ``native``/``db``/``io``: its leaf runs in C, a database driver, or waits (see
  :mod:`hotpath.analysis.nativeness`); the rest is interpreted Python;
- ``outside``: some frame below F is not in R (shared code other callers also reach) or is
  framework code: a rewrite would have to call back into Python there;
- ``layer``: its innermost app frame below F is a method of a class other than F's own:
  the time sits in an object layer (an ORM's query sets, models and fields) whose objects
  would have to cross the boundary;
- ``libraries``: the weight under each (non-framework) library that F calls into, by the
  first library frame below F: a hot path spent in one library is advised as replacing it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from itertools import compress, count

from hotpath.analysis.callgraph import CallGraph
from hotpath.analysis.classify import Classifier, framework_of, package_of
from hotpath.analysis.nativeness import Category, Evidence, LeafJudge, c_backed, is_db_call
from hotpath.analysis.region_index import Region
from hotpath.model import Frame, FunctionKey, Profile, Stack

_COMPREHENSIONS = ("<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "<lambda>")


@dataclass
class Tally:
    """Weights under one candidate entry."""

    total: float = 0.0
    categories: dict[Category, float] = field(default_factory=dict)
    outside: float = 0.0
    layer: float = 0.0
    layer_classes: dict[str, float] = field(default_factory=dict)
    evidence: set[str] = field(default_factory=set)
    judged: float = 0.0
    """Weight whose leaf was judged on evidence (the rest is assumed interpreted)."""
    unread: float = 0.0
    """Weight judged only by its leaf's ``.py`` file, its source not read."""
    call_sites: float = 0.0
    call_sites_in_loops: float = 0.0
    call_sites_known: float = 0.0
    libraries: dict[str, float] = field(default_factory=dict)
    """Library (top-level package) -> weight of the samples that enter it below the entry."""
    owners: dict[tuple[str, str], float] = field(default_factory=dict)
    """(library, the app function that calls into it) -> weight."""

    @property
    def python(self) -> float:
        return self.categories.get("python", 0.0)

    def share(self, category: Category) -> float:
        return self.categories.get(category, 0.0) / self.total if self.total else 0.0


def class_of(name: str) -> str | None:
    """``QuerySet.filter`` -> ``QuerySet``; plain functions and closures -> None."""
    if "." not in name or "<" in name:
        return None
    return name.rsplit(".", 1)[0]


class FrameIndex:
    """Per-frame facts computed once: function ids, so the hot loop hashes ints, not keys."""

    def __init__(self, profile: Profile, classifier: Classifier) -> None:
        ids: dict[FunctionKey, int] = {}
        self.fn_of: list[int] = []
        for fr in profile.frames:
            self.fn_of.append(ids.setdefault(fr.function, len(ids)))
        self.keys = list(ids)
        self.id_of = ids
        self.outside_ok = [not framework_of(k.file) for k in self.keys]
        self.app = [classifier.kind(k.name, k.file) == "app" for k in self.keys]
        self.cls = [class_of(k.name) for k in self.keys]
        # App functions that own a call: comprehension frames belong to their function.
        self.owner_ok = [
            a and not k.name.endswith(_COMPREHENSIONS)
            for a, k in zip(self.app, self.keys, strict=True)
        ]
        self.lib = [
            package_of(k.file)
            if self.outside_ok[i] and classifier.kind(k.name, k.file) == "library"
            else None
            for i, k in enumerate(self.keys)
        ]
        self.frames = profile.frames


def tally_stacks(
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


# A call site, as the caller's line: in a loop (many calls per call of the caller), not in a
# loop, not known (no line number, or no source to read), or no caller at all.
_NO_CALLER, _UNKNOWN, _NOT_IN_LOOP, _IN_LOOP = range(4)


def _call_site(caller: Frame, judge: LeafJudge) -> int:
    if caller.name in _COMPREHENSIONS:
        return _IN_LOOP
    if caller.line is None:
        return _UNKNOWN
    in_loop = judge.in_loop(caller.file, caller.line)
    return _UNKNOWN if in_loop is None else _IN_LOOP if in_loop else _NOT_IN_LOOP


def tally_stats(
    cg: CallGraph,
    key: FunctionKey,
    region: AbstractSet[FunctionKey],
    classifier: Classifier,
    native_call_s: float,
    native_frac: dict[FunctionKey, float],
) -> Tally:
    """Evidence from exact call statistics (cProfile): costly builtins and C-backed stdlib
    wrappers are C time, whether inside the region or in shared callees outside it."""
    t = Tally(total=cg.functions[key].inclusive)
    t.judged = t.total  # builtin entries are recorded for every call: exact evidence
    native = outside = db = 0.0
    for r in region:
        f = cg.functions.get(r)
        if f is not None:
            native += f.self * _self_native(cg, r, classifier, native_call_s)
    for (a, b), w in cg.edges.items():
        if a not in region or a == b or b in region:
            continue
        if classifier.kind(b.name, b.file) == "native":
            t.evidence.add("builtin entries")
        native += w * native_frac.get(b, 0.0)
        if classifier.kind(b.name, b.file) != "native":
            outside += w
        elif is_db_call(b.name):
            db += w * native_frac.get(b, 0.0)
    native = min(native, t.total)
    db = min(db, native)
    t.categories = {"native": native - db, "db": db, "python": max(0.0, t.total - native)}
    t.outside = min(outside, t.total)
    return t


def _self_native(
    cg: CallGraph, key: FunctionKey, classifier: Classifier, native_call_s: float
) -> float:
    """1.0 when a function's own time is C work: a costly builtin, a C-backed stdlib wrapper."""
    kind = classifier.kind(key.name, key.file)
    f = cg.functions[key]
    if kind == "native":
        # Cheap builtins (min, len, list.append: well under a microsecond of real work per
        # call) are interpreter overhead that Rust removes; only costly calls are C work.
        return 1.0 if not f.calls or f.self / f.calls >= native_call_s else 0.0
    if kind == "stdlib" and c_backed(key.file):
        return 1.0
    return 0.0


def native_fractions(
    cg: CallGraph, classifier: Classifier, native_call_s: float
) -> dict[FunctionKey, float]:
    """Share of each function's inclusive time that is C work (call statistics only)."""
    callees: dict[FunctionKey, list[tuple[FunctionKey, float]]] = {}
    for (a, b), w in cg.edges.items():
        if a != b and a in cg.functions:
            callees.setdefault(a, []).append((b, w))
    memo: dict[FunctionKey, float] = {}

    def frac(key: FunctionKey, depth: int) -> float:
        if key in memo:
            return memo[key]
        memo[key] = 0.0  # cycle guard: a recursive back edge adds nothing
        f = cg.functions.get(key)
        if f is None or f.inclusive <= 0:
            return 0.0
        nat = f.self * _self_native(cg, key, classifier, native_call_s)
        if depth < 200:
            nat += sum(w * frac(b, depth + 1) for b, w in callees.get(key, ()))
        memo[key] = min(1.0, nat / f.inclusive)
        return memo[key]

    for key in cg.functions:
        frac(key, 0)
    return memo


@dataclass(frozen=True)
class Measured:
    """One candidate's measurements before the verdict."""

    target: str
    kind: str
    key: FunctionKey | None
    region: AbstractSet[FunctionKey]
    """A :class:`Region` view for functions; a plain frozenset for endpoints."""
    tally: Tally
    weight: float
    callers: int | None
    per_call_s: float | None
    requests: int | None
    cpu_bound: float | None = None
    waits: Waits | None = None
    """Where its wall time went, when wall time was recorded."""


@dataclass(frozen=True)
class Waits:
    """A candidate's wall time: on CPU, waiting for I/O or a lock (the leaf is a blocking
    call), waiting for a core or the GIL (off CPU anywhere else), as fractions of the wall."""

    on_cpu: float
    blocked: float
    runnable: float
    blocking_leaves: tuple[str, ...] = ()
    """The heaviest blocking leaves (``Condition.wait``, ``select``), for the reasons."""

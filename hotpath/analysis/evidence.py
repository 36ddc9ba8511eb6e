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

from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Generic, TypeVar, get_args

import numpy as np

from hotpath.analysis.callgraph import CallGraph
from hotpath.analysis.classify import Classifier, framework_of, package_of
from hotpath.analysis.nativeness import Category, Evidence, LeafJudge, c_backed, is_db_call
from hotpath.analysis.region_index import Region
from hotpath.analysis.stacktable import CodeSums, StackTable, first_of_each, last_slot
from hotpath.model import Frame, FunctionKey, Profile, Stack

_COMPREHENSIONS = ("<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "<lambda>")

K = TypeVar("K")


class Weights(Mapping[K, float], Generic[K]):
    """Weight per key as two arrays, codes into a key table the tallies of one pass share:
    12 bytes a key where a dict takes about 50 (the 89,537 layer classes of the 447
    candidates of the 100 MB unique-line benchmark file were 4.4 MiB as dicts). Keys come
    in the order they were first seen, as a dict's would."""

    __slots__ = ("_codes", "_keys", "_w")

    def __init__(self, keys: Sequence[K], codes: np.ndarray, weights: np.ndarray) -> None:
        self._keys = keys
        self._codes = codes
        self._w = weights

    def __len__(self) -> int:
        return len(self._codes)

    def __iter__(self) -> Iterator[K]:
        keys = self._keys
        return (keys[c] for c in self._codes.tolist())

    def __getitem__(self, key: K) -> float:
        for k, w in self.items():
            if k == key:
                return w
        raise KeyError(key)

    def items(self) -> ItemsView[K, float]:
        return _WeightItems(self)

    def plus(self, other: Mapping[K, float], sign: float) -> Mapping[K, float]:
        """``self`` + ``sign`` x ``other``, key by key (new keys after the old, in their
        order), with the float arithmetic of the dict loop it replaces."""
        if not isinstance(other, Weights) or other._keys is not self._keys:
            return _plus_dict(self, other, sign)
        if not len(other._codes):
            return Weights(self._keys, self._codes, self._w)
        order = np.argsort(self._codes, kind="stable")
        ranked = self._codes[order]
        at = np.searchsorted(ranked, other._codes)
        hit = at < len(ranked)
        hit[hit] = ranked[at[hit]] == other._codes[hit]
        w = self._w.copy()
        pos = order[at[hit]]
        w[pos] = w[pos] + sign * other._w[hit]
        new = ~hit
        codes = np.concatenate([self._codes, other._codes[new]])
        return Weights(self._keys, codes, np.concatenate([w, 0.0 + sign * other._w[new]]))


class _WeightItems(ItemsView[K, float]):
    _mapping: Weights[K]

    def __iter__(self) -> Iterator[tuple[K, float]]:
        m = self._mapping
        keys = m._keys
        return zip((keys[c] for c in m._codes.tolist()), m._w.tolist(), strict=True)


def _plus_dict(a: Mapping[K, float], b: Mapping[K, float], sign: float) -> dict[K, float]:
    out = dict(a.items())
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + sign * v
    return out


def plus(a: Mapping[K, float], b: Mapping[K, float], sign: float) -> Mapping[K, float]:
    """``a`` + ``sign`` x ``b`` for the keyed fields of a tally."""
    if isinstance(a, Weights):
        return a.plus(b, sign)
    return _plus_dict(a, b, sign)


class _Pairs(Sequence[tuple[str, str]]):
    """The (library, owner) keys: code ``lib * len(names) + name``."""

    def __init__(self, libs: list[str], names: list[str]) -> None:
        self.libs, self.names = libs, names

    def __len__(self) -> int:
        return len(self.libs) * len(self.names)

    def __getitem__(self, code: int) -> tuple[str, str]:  # type: ignore[override]
        lib, o = divmod(code, len(self.names))
        return self.libs[lib], self.names[o]


@dataclass
class Tally:
    """Weights under one candidate entry."""

    total: float = 0.0
    categories: dict[Category, float] = field(default_factory=dict)
    outside: float = 0.0
    layer: float = 0.0
    layer_classes: Mapping[str, float] = field(default_factory=dict)
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
    owners: Mapping[tuple[str, str], float] = field(default_factory=dict)
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
        self._arrays: _FunctionArrays | None = None

    def arrays(self) -> _FunctionArrays:
        """The per-function facts as arrays (built once), and the frame → function array
        for the frames known now (the plan adds frames as it rewrites leaves)."""
        fa = self._arrays
        if fa is None:
            fa = self._arrays = _FunctionArrays(self)
        if len(fa.fn_of) != len(self.fn_of):
            fa.fn_of = np.asarray(self.fn_of, dtype=np.int64)
        return fa


class _FunctionArrays:
    """:class:`FrameIndex`'s lists as numpy arrays; classes and libraries as small ints."""

    def __init__(self, index: FrameIndex) -> None:
        self.fn_of = np.asarray(index.fn_of, dtype=np.int64)
        self.bad = ~np.asarray(index.outside_ok, dtype=bool)
        self.app = np.asarray(index.app, dtype=bool)
        self.owner_ok = np.asarray(index.owner_ok, dtype=bool)
        self.class_names: list[str | None] = [
            None,
            *dict.fromkeys(c for c in index.cls if c is not None),  # "" is a class name too
        ]
        cls_ids = {c: i for i, c in enumerate(self.class_names)}
        self.cls = np.asarray([cls_ids[c] for c in index.cls], dtype=np.int64)
        self.lib_names: list[str] = list(dict.fromkeys(n for n in index.lib if n is not None))
        lib_ids = {n: i for i, n in enumerate(self.lib_names)}
        self.lib = np.asarray([-1 if n is None else lib_ids[n] for n in index.lib], dtype=np.int64)


def tally_stacks(
    index: FrameIndex,
    samples: Iterable[tuple[Stack, float]] | StackTable,
    entries: Mapping[FunctionKey, AbstractSet[FunctionKey]],
    judge: LeafJudge,
) -> dict[FunctionKey, Tally]:
    """Tally every sample (stack of frame ids, weight) under each entry (-> its region).

    Each (stack, entry) pair is one row of arrays, computed by numpy over a chunk of stacks
    at once (a Python step per pair took 2.6-2.9 s of a 100 MB py-spy file's analysis): the
    entry's outermost position, the deepest framework and app frames of its stack, the
    preorder minimum and maximum of the stack below it (a region given as a :class:`Region`
    interval holds a suffix when it holds both), its caller's line, its leaf's verdict and
    the first library entered below it. Equal rows are added up by numpy, each distinct row
    is tallied once by Python.
    """
    tallies = {k: Tally() for k in entries}
    ids = index.id_of
    entry_ids = {ids[k]: k for k in entries if k in ids}
    table = samples if isinstance(samples, StackTable) else StackTable.of(samples)
    if not entry_ids or not table.slots:
        return tallies
    rows = _Rows(index, entry_ids, entries, judge)
    sums = _Sums(index)
    for part in table.chunks():
        sums.add(*rows.of(part))
    return sums.into(tallies, entry_ids)


class _Sums:
    """A tally's rows added up chunk by chunk: per entry function, each weight field as a
    numpy array, each keyed field (categories, layer classes, libraries, owners) as codes in
    the order they first appear. Whole-number weights add up exactly."""

    _FIELDS = (
        "total",
        "judged",
        "unread",
        "outside",
        "layer",
        "call_sites",
        "call_sites_known",
        "call_sites_in_loops",
    )

    def __init__(self, index: FrameIndex) -> None:
        self.index = index
        self.fa = index.arrays()
        self.n = n = len(index.keys)
        self.fields = {name: np.zeros(n, dtype=np.float64) for name in self._FIELDS}
        self.name_of = _name_ids(index.keys)
        self.names = list(dict.fromkeys(k.name for k in index.keys))
        self.keyed = {
            k: CodeSums()
            for k in ("categories", "evidence", "layer_classes", "libraries", "owners")
        }

    def add(
        self,
        fn: np.ndarray,
        verdict: np.ndarray,
        outside: np.ndarray,
        site: np.ndarray,
        layer: np.ndarray,
        lib: np.ndarray,
        owner: np.ndarray,
        w: np.ndarray,
    ) -> None:
        if not len(fn):
            return
        fn = fn.astype(np.int64)
        n, fields = self.n, self.fields
        ev = verdict % len(_EVIDENCE)
        has_lib = lib >= 0
        for name, mask in (
            ("total", None),
            ("judged", ev > 0),
            ("unread", ev == _UNREAD),
            ("outside", outside),
            ("layer", layer > 0),
            ("call_sites", site != _NO_CALLER),
            ("call_sites_known", site >= _NOT_IN_LOOP),
            ("call_sites_in_loops", site == _IN_LOOP),
        ):
            f, x = (fn, w) if mask is None else (fn[mask], w[mask])
            fields[name] += np.bincount(f, weights=x, minlength=n)
        keyed = self.keyed
        keyed["categories"].add(fn * 8 + verdict // len(_EVIDENCE), w)
        keyed["evidence"].add((fn * 8 + ev)[ev > 0], w[ev > 0])
        cls = np.int64(len(self.fa.class_names))
        keyed["layer_classes"].add((fn * cls + layer)[layer > 0], w[layer > 0])
        libs = np.int64(len(self.fa.lib_names) + 1)
        lib_code = (fn * libs + lib)[has_lib]
        keyed["libraries"].add(lib_code, w[has_lib])
        # Owners are told apart by name: same-named functions of two files are one owner.
        owner_name = self.name_of[owner[has_lib]]
        keyed["owners"].add(lib_code * len(self.names) + owner_name, w[has_lib])

    def into(
        self, tallies: dict[FunctionKey, Tally], entry_ids: dict[int, FunctionKey]
    ) -> dict[FunctionKey, Tally]:
        fa, fields, keyed = self.fa, self.fields, self.keyed
        columns = {name: fields[name].tolist() for name in self._FIELDS}
        for f, key in entry_ids.items():
            t = tallies[key]
            for name in self._FIELDS:
                setattr(t, name, columns[name][f])
        for code, w in keyed["categories"].items():
            f, c = divmod(code, 8)
            tallies[entry_ids[f]].categories[_CATEGORIES[c]] = w
        for code, _w in keyed["evidence"].items():
            f, e = divmod(code, 8)
            tallies[entry_ids[f]].evidence.add(_EVIDENCE[e])  # type: ignore[arg-type]
        classes = len(fa.class_names)
        for f, codes, ws in _per_entry(keyed["layer_classes"], classes):
            names: list[str] = fa.class_names  # type: ignore[assignment]  # 0 (None) is no layer
            tallies[entry_ids[f]].layer_classes = Weights(names, codes, ws)
        libs = len(fa.lib_names) + 1
        for code, w in keyed["libraries"].items():
            f, lib = divmod(code, libs)
            tallies[entry_ids[f]].libraries[fa.lib_names[lib]] = w
        pairs = _Pairs(fa.lib_names, self.names)
        for f, codes, ws in _per_entry(keyed["owners"], libs * len(self.names)):
            tallies[entry_ids[f]].owners = Weights(pairs, codes, ws)
        return tallies


def _per_entry(sums: CodeSums, width: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Per entry function ``f`` of codes ``f * width + key``: its keys and weights, in the
    order first seen (views of one array for all entries)."""
    if not len(sums.codes):
        return
    codes, w = sums.ordered()
    fn = codes // width
    by_fn = np.argsort(fn, kind="stable")
    small = np.int32 if width <= 1 << 31 else np.int64
    fn, keys, w = fn[by_fn], (codes % width)[by_fn].astype(small), w[by_fn]
    heads = np.flatnonzero(np.concatenate([[True], fn[1:] != fn[:-1]]))
    bounds = [*heads.tolist(), len(fn)]
    for i, f in enumerate(fn[heads].tolist()):
        lo, hi = bounds[i], bounds[i + 1]
        yield f, keys[lo:hi], w[lo:hi]


def _name_ids(keys: list[FunctionKey]) -> np.ndarray:
    ids: dict[str, int] = {}
    return np.asarray([ids.setdefault(k.name, len(ids)) for k in keys], dtype=np.int64)


_CATEGORIES: tuple[Category, ...] = get_args(Category)
_EVIDENCE: tuple[Evidence | None, ...] = (None, *get_args(Evidence))
_UNREAD = _EVIDENCE.index("Python files, source not read")


_VERDICT_ID = {
    (c, e): i * len(_EVIDENCE) + j
    for i, c in enumerate(_CATEGORIES)
    for j, e in enumerate(_EVIDENCE)
}


class _Rows:
    """The (stack, entry) rows of one tally, chunk by chunk: per row two int codes (entry,
    verdict, outside, call site; layer, library, owner) and the stack's weight."""

    def __init__(
        self,
        index: FrameIndex,
        entry_ids: dict[int, FunctionKey],
        entries: Mapping[FunctionKey, AbstractSet[FunctionKey]],
        judge: LeafJudge,
    ) -> None:
        self.index, self.judge = index, judge
        self.fa = index.arrays()
        n = len(index.keys)
        self.is_entry = np.zeros(n, dtype=bool)
        self.is_entry[list(entry_ids)] = True
        ids = index.id_of
        self.regions: dict[int, np.ndarray] = {}
        """Entries whose region is a set: per function, whether the region holds it."""
        self.lo_of = np.zeros(n, dtype=np.int64)
        self.hi_of = np.full(n, -1, dtype=np.int64)  # -1: not an interval
        self.pos_of: np.ndarray | None = None
        self.span = 0
        tree = None
        for i, k in entry_ids.items():
            region = entries[k]
            if (
                isinstance(region, Region)
                and region.lo >= 0
                and region.index is (tree or region.index)
            ):
                tree = region.index
                self.lo_of[i], self.hi_of[i] = region.lo, region.hi
            else:
                inside = self.regions[i] = np.zeros(n, dtype=bool)
                inside[[ids[r] for r in region if r in ids]] = True
        if tree is not None:
            self.pos_of = np.asarray(
                [tree.position.get(key, -1) for key in index.keys], dtype=np.int64
            )
            self.span = len(tree.order)
        # Per frame id (+1: the caller of an outermost frame is -1), judged when first seen.
        self.site_of = np.full(len(index.frames) + 1, -1, dtype=np.int64)
        self.verdict_of = np.full(len(index.frames) + 1, -1, dtype=np.int64)

    def of(self, table: StackTable) -> tuple[np.ndarray, ...]:
        fa = self.fa
        slot_sid = table.sid()
        fns = fa.fn_of[table.flat]  # per slot (a frame of a stack): its function
        # Each entry's outermost call per stack (a recursive entry counts once).
        occ = np.flatnonzero(self.is_entry[fns])
        occ = occ[first_of_each(slot_sid[occ] * len(self.index.keys) + fns[occ])]
        sid = slot_sid[occ]
        fn = fns[occ]
        end = table.ends[sid]
        # The deepest frame no rewrite may swallow (framework code) and the deepest app frame.
        last_bad = last_slot(np.flatnonzero(fa.bad[fns]), table.starts, table.ends)[sid]
        app_slot = last_slot(np.flatnonzero(fa.app[fns]), table.starts, table.ends)[sid]
        outside = last_bad > occ
        inner_cls = np.where(app_slot >= 0, fa.cls[fns[np.maximum(app_slot, 0)]], 0)
        layer = np.where((app_slot > occ) & (inner_cls != fa.cls[fn]), inner_cls, 0)
        below = occ + 1
        if self.pos_of is not None:  # the region below each entry, as an interval
            smin, smax = _suffix_min_max(self.pos_of[fns], slot_sid, self.span)
            at = np.minimum(below, table.slots - 1)
            holds = (smin[at] >= self.lo_of[fn]) & (smax[at] <= self.hi_of[fn])
            outside |= (below < end) & ~holds & (self.hi_of[fn] >= 0)
        for f, inside in self.regions.items():  # a set (an endpoint's view as far as reached)
            rows = np.flatnonzero(fn == f)
            if len(rows):
                smin, _smax = _suffix_min_max(inside[fns].astype(np.int64), slot_sid, 1)
                at = np.minimum(below[rows], table.slots - 1)
                outside[rows] |= (below[rows] < end[rows]) & (smin[at] < 1)
        # The call site (the caller's line) and the leaf's verdict, once per frame.
        caller_frames = table.flat[np.maximum(occ - 1, 0)].astype(np.int64)
        callers = np.where(occ > table.starts[sid], caller_frames, -1)
        site = _per_frame(callers, self.site_of, self._site)
        verdict = _per_frame(table.flat[end - 1], self.verdict_of, self._verdict)
        lib, owner = _libraries_entered(fa, fns, table, slot_sid, occ, end, fn)
        small = np.int8
        return (
            fn.astype(np.int32),
            verdict.astype(small),
            outside,
            site.astype(small),
            layer.astype(np.int32),
            lib.astype(np.int32),
            owner.astype(np.int32),
            table.weights[sid],
        )

    def _site(self, caller: int) -> int:
        return _NO_CALLER if caller < 0 else _call_site(self.index.frames[caller], self.judge)

    def _verdict(self, leaf: int) -> int:
        return _VERDICT_ID[self.judge.judge(self.index.frames[leaf])]


def _per_frame(frames: np.ndarray, cache: np.ndarray, fn: Callable[[int], int]) -> np.ndarray:
    """``fn`` of each frame id (ids from -1 up), computed once per frame: ``cache`` holds
    the results by id + 1, -1 where not computed yet."""
    at = frames.astype(np.int64) + 1
    got = cache[at]
    missing = got < 0
    if missing.any():
        for f in np.unique(at[missing]).tolist():
            cache[f] = fn(f - 1)
        got = cache[at]
    return got


def _suffix_min_max(
    values: np.ndarray, sid: np.ndarray, span: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per slot, the minimum and maximum of ``values`` from it to the end of its stack.

    One running minimum (maximum) over the reversed slots, each stack shifted below (above)
    every stack after it by ``span + 2``, so a running value never crosses a stack's end."""
    big = np.int64(span + 2)
    rev = values[::-1]
    off = (int(sid[-1]) - sid[::-1]).astype(np.int64) * big
    smin = (np.minimum.accumulate(rev - off) + off)[::-1]
    smax = (np.maximum.accumulate(rev + off) - off)[::-1]
    return smin, smax


def _libraries_entered(
    fa: _FunctionArrays,
    fns: np.ndarray,
    table: StackTable,
    slot_sid: np.ndarray,
    occ: np.ndarray,
    end: np.ndarray,
    fn: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per (stack, entry) row: the first library entered below the entry (-1: none) and the
    app function that called into it (the entry itself when none below it owns the call).

    A library frame starts an entry into its library unless the library frame before it in
    its stack is of the same library with no app frame owning a call in between."""
    libs = fa.lib[fns]
    lib_slots = np.flatnonzero(libs >= 0)
    none = np.full(len(occ), -1, dtype=np.int64)
    if not len(lib_slots):
        return none, none
    own = fa.owner_ok[fns]
    owners_upto = np.cumsum(own)
    lib_names = libs[lib_slots]
    starts_new = np.ones(len(lib_slots), dtype=bool)
    prev, cur = lib_slots[:-1], lib_slots[1:]
    same_stack = slot_sid[prev] == slot_sid[cur]
    starts_new[1:] = (
        ~same_stack | (lib_names[1:] != lib_names[:-1]) | (owners_upto[cur] != owners_upto[prev])
    )
    entered = lib_slots[starts_new]
    # The owner of each entry: the last app frame owning a call above it in its stack.
    last_owner = np.maximum.accumulate(np.where(own, np.arange(len(fns)), -1))
    owner_slot = last_owner[entered - 1] if len(entered) else entered
    if len(entered) and entered[0] == 0:
        owner_slot[0] = -1
    owner_slot = np.where(owner_slot >= table.starts[slot_sid[entered]], owner_slot, -1)
    at = np.searchsorted(entered, occ, side="right")
    found = at < len(entered)
    at = np.minimum(at, len(entered) - 1)
    found &= entered[at] < end
    o = owner_slot[at]
    by_owner = (o >= occ) | ((o >= 0) & ~fa.owner_ok[fn])
    owner_fn = np.where(by_owner, fns[np.maximum(o, 0)], fn)
    return np.where(found, libs[entered[at]], -1), np.where(found, owner_fn, -1)


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

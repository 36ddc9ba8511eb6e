"""Compare two profiles by shares: what got heavier, what got lighter, and is it real.

Profiles from different machines differ in absolute time, so functions and endpoints are
compared by their share of the CPU. Each share change gets a one-sided two-proportion z-test
on the sample counts behind it (variance inflated by ``dispersion``, because a profiler's
samples are correlated in time; measured from the data by :func:`choose_dispersion` where
it can be), corrected for testing every row at once, each row charged only the chance that
it passes the practical thresholds at all (:func:`~hotpath.analysis.stats.adjust_thresholded`,
Holm by default). A change is a regression only when it is significant **and** exceeds both
thresholds (absolute percentage points and relative change). Callers that grew only
through a regressed callee say so (:attr:`Change.through`).
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

from hotpath.analysis.callgraph import build_callgraph
from hotpath.analysis.endpoints import weight_by_endpoint
from hotpath.analysis.stats import Correction, adjust_thresholded, two_proportion_z, upper_p
from hotpath.model import PID, THREAD_ID, FunctionKey, Profile, cpu_view

Status = Literal["regressed", "improved", "new", "vanished", "unchanged"]
Metric = Literal["inclusive", "self", "endpoint"]


@dataclass(frozen=True)
class DiffOptions:
    """How two profiles are compared (defaults documented in docs/ci.md)."""

    min_change_pp: float = 1.0
    """A change must move the share by at least this many percentage points..."""
    min_change_relative: float = 0.10
    """...and by at least this fraction of the base share (0.10 = 10%)."""
    alpha: float = 0.05
    """Significance level after correction for multiple comparisons."""
    correction: Correction = "holm"
    dispersion: float = 2.0
    """Variance inflation over independent sampling (time-correlated samples)."""
    ignore: tuple[str, ...] = ()
    """Glob patterns; a function matching one is not compared (see :func:`matches`)."""
    source_root: str | None = None
    """Paths under it are compared relative to it, so checkouts in different places match."""
    estimate_dispersion: bool = True
    """Measure the dispersion from the data where it can be (see :func:`choose_dispersion`)."""


@dataclass(frozen=True)
class Side:
    """One side of the comparison: where it came from and how much evidence it holds."""

    sources: tuple[str, ...]
    unit: str
    total: float
    samples: float
    """Sample count behind the shares (implied from seconds when needed)."""
    samples_note: str = ""


@dataclass(frozen=True)
class Change:
    """The share of one function (self or inclusive) or endpoint, before and after."""

    metric: Metric
    name: str
    file: str
    line: int | None
    base_share: float
    current_share: float
    base_samples: float
    current_samples: float
    z: float
    p_value: float
    p_adjusted: float
    significant: bool
    exceeds_threshold: bool
    status: Status
    through: str = ""
    """For an inclusive regression: a callee whose own (self) share regressed and explains
    it; empty when this function's own code got heavier or no callee's did."""

    @property
    def delta_pp(self) -> float:
        return (self.current_share - self.base_share) * 100.0

    @property
    def relative(self) -> float | None:
        """Relative change of the share; None when the base share is zero."""
        if self.base_share == 0:
            return None
        return self.current_share / self.base_share - 1.0

    @property
    def is_regression(self) -> bool:
        return self.status in ("regressed", "new")

    @property
    def location(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class DiffNode:
    """A node of the merged call tree of both profiles (for the differential flame graph)."""

    name: str
    file: str
    base_share: float
    current_share: float
    children: tuple[DiffNode, ...] = ()


@dataclass(frozen=True)
class DiffResult:
    """Everything the diff and gate reports show."""

    base: Side
    current: Side
    options: DiffOptions
    functions: tuple[Change, ...]
    """Every compared function, both metrics, largest absolute change first."""
    endpoints: tuple[Change, ...]
    tree: DiffNode | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def regressions(self) -> tuple[Change, ...]:
        """Regressed rows, causes first: functions whose own code got heavier (self share,
        or inclusive with no regressed callee), then callers heavier only through them."""
        rows = [c for c in (*self.functions, *self.endpoints) if c.is_regression]
        return tuple(sorted(rows, key=lambda c: (bool(c.through), c.metric != "self")))

    @property
    def improvements(self) -> tuple[Change, ...]:
        return tuple(
            c for c in (*self.functions, *self.endpoints) if c.status in ("improved", "vanished")
        )


def module_of(file: str) -> str:
    """Dotted module name of a file path (``myapp/search.py`` -> ``myapp.search``)."""
    path = file.replace("\\", "/")
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
    path = re.sub(r"\.pyw?$", "", path).removesuffix("/__init__")
    return ".".join(p for p in path.split("/") if p and p != ".")


def matches(pattern: str, name: str, file: str) -> bool:
    """Whether a function matches a user's pattern.

    ``module:qualname`` (``myapp.search:score``; globs allowed in both parts, the module
    matches a dotted suffix of the file's module path), or a glob on the file path, or a
    glob on the qualified name.
    """
    if ":" in pattern and not pattern.startswith("<"):
        mod_pat, _, name_pat = pattern.rpartition(":")
        if not fnmatch.fnmatchcase(name, name_pat):
            return False
        mod = module_of(file)
        parts = mod.split(".")
        return any(
            fnmatch.fnmatchcase(".".join(parts[i:]), mod_pat) for i in range(len(parts))
        ) or fnmatch.fnmatchcase(mod, mod_pat)
    return fnmatch.fnmatchcase(file, pattern) or fnmatch.fnmatchcase(name, pattern)


def normalize_file(file: str, source_root: str | None) -> str:
    """The file as compared: relative to the source root, or from site-packages on."""
    if source_root and os.path.isabs(file):
        root = os.path.abspath(source_root)
        if file == root or file.startswith(root.rstrip(os.sep) + os.sep):
            return os.path.relpath(file, root)
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in file:
            return file.rsplit(marker, 1)[1]
    return file


def implied_samples(profile: Profile) -> tuple[float, str]:
    """How many samples stand behind a profile's weights, and how that was found."""
    view = cpu_view(profile)
    total = profile.total
    fraction = view.total / total if total else 0.0
    meta = profile.meta
    if meta.unit == "samples":
        return view.total, ""
    if meta.sample_count:
        return meta.sample_count * fraction, ""
    if meta.interval_s:
        return view.total / meta.interval_s, "sample count implied by the sampling interval"
    # Nothing says how many samples there were: one per distinct stack is the least it can be.
    stacks = len({s for (s, _lid) in view.samples})
    return float(stacks), "sample count unknown: using the number of distinct stacks"


@dataclass
class _Shares:
    total: float
    incl: dict[FunctionKey, float]
    self_: dict[FunctionKey, float]
    lines: dict[FunctionKey, int | None]
    endpoints: dict[str, float]


def _shares(profile: Profile, options: DiffOptions) -> _Shares:
    view = cpu_view(profile)
    cg = build_callgraph(view)
    total = cg.total
    incl: dict[FunctionKey, float] = {}
    self_: dict[FunctionKey, float] = {}
    lines: dict[FunctionKey, int | None] = {}
    for key, f in cg.functions.items():
        nkey = FunctionKey(key.name, normalize_file(key.file, options.source_root))
        # Two raw keys can normalise to one (same code in two checkouts): keep the larger.
        incl[nkey] = max(incl.get(nkey, 0.0), f.inclusive / total if total else 0.0)
        self_[nkey] = self_.get(nkey, 0.0) + (f.self / total if total else 0.0)
        line = f.first_line if f.first_line is not None else f.min_line
        if lines.get(nkey) is None:
            lines[nkey] = line
    endpoints = {ep: w / total if total else 0.0 for ep, w in weight_by_endpoint(view).items()}
    return _Shares(total, incl, self_, lines, endpoints)


def _status(b: float, c: float, significant: bool, exceeds: bool) -> Status:
    if not (significant and exceeds):
        return "unchanged"
    if c > b:
        return "new" if b == 0 else "regressed"
    return "vanished" if c == 0 else "improved"


def _exceeds(b: float, c: float, options: DiffOptions) -> bool:
    delta = abs(c - b)
    if delta * 100.0 < options.min_change_pp:
        return False
    if b == 0:
        return True
    return delta / b >= options.min_change_relative


def _reach(
    rows: list[tuple[Metric, str, str, int | None, float, float]],
    n1: float,
    n2: float,
    options: DiffOptions,
    sign: float,
) -> list[float]:
    """Per row, the most probable it is under "no change" that its share moves past both
    practical thresholds in the direction ``sign`` (+1 heavier, -1 lighter).

    Under no change the pooled share ``q`` is fixed and the difference ``d`` has standard
    error ``s``; passing ``min-change-pp`` needs ``|d| >= pp`` and passing
    ``min-change-relative`` needs ``|d| >= rel * base``, i.e. ``|d| >= rel*q / (1 + sign*rel*n2/N)``
    because the base share is ``q - d*n2/N``. So the row needs ``z >= max(both) / s``.
    """
    total = n1 + n2
    pp, rel = options.min_change_pp / 100.0, options.min_change_relative
    out = []
    for *_, b, c in rows:
        q = (b * n1 + c * n2) / total if total else 0.0
        var = q * (1.0 - q) * (1.0 / n1 + 1.0 / n2) * options.dispersion if n1 and n2 else 0.0
        denom = 1.0 + sign * rel * n2 / total if total else 1.0
        need = max(pp, rel * q / denom if denom > 0 else math.inf)
        out.append(upper_p(need / math.sqrt(var)) if var > 0 else 0.0)
    return out


def _compare(
    items: Iterable[tuple[Metric, str, str, int | None, float, float]],
    n1: float,
    n2: float,
    options: DiffOptions,
) -> list[Change]:
    """Test every row one-sided in each direction: heavier rows (the gate's question) form
    one family, lighter rows (reported, never failing) another, each corrected at alpha with
    :func:`~hotpath.analysis.stats.adjust_thresholded`."""
    rows = list(items)
    zs = [two_proportion_z(b * n1, n1, c * n2, n2, options.dispersion) for *_, b, c in rows]
    up = adjust_thresholded(
        [upper_p(z) for z in zs], _reach(rows, n1, n2, options, 1.0), options.correction
    )
    down = adjust_thresholded(
        [upper_p(-z) for z in zs], _reach(rows, n1, n2, options, -1.0), options.correction
    )
    out = []
    for (metric, name, file, line, b, c), z, pu, pd in zip(rows, zs, up, down, strict=True):
        p, pa = (upper_p(z), pu) if c >= b else (upper_p(-z), pd)
        significant = pa < options.alpha
        exceeds = _exceeds(b, c, options)
        out.append(
            Change(
                metric,
                name,
                file,
                line,
                b,
                c,
                b * n1,
                c * n2,
                z,
                p,
                pa,
                significant,
                exceeds,
                _status(b, c, significant, exceeds),
            )
        )
    out.sort(key=lambda ch: (-abs(ch.current_share - ch.base_share), ch.metric, ch.name))
    return out


def _chi2(parts: Sequence[tuple[_Shares, float]]) -> tuple[float, int]:
    """Pearson's chi-square of the inclusive shares across replicate parts and its degrees
    of freedom, over the functions with a pooled share of 0.5% to 99.5%."""
    total = sum(n for _s, n in parts)
    chi2, df = 0.0, 0
    if len(parts) < 2 or total <= 0 or any(n <= 0 for _s, n in parts):
        return 0.0, 0
    for key in set().union(*(s.incl for s, _n in parts)):
        xs = [s.incl.get(key, 0.0) * n for s, n in parts]
        p = sum(xs) / total
        if not 0.005 <= p <= 0.995:
            continue
        chi2 += sum(
            (x - n * p) ** 2 / (n * p * (1 - p)) for x, (_s, n) in zip(xs, parts, strict=True)
        )
        df += len(parts) - 1
    return chi2, df


def estimate_dispersion(parts: Sequence[Profile], options: DiffOptions) -> float | None:
    """How much more function shares vary between replicate profiles than independent
    sampling explains: Pearson's chi-square over its degrees of freedom, pooled over the
    functions with an inclusive share of at least 0.5%. None with fewer than two parts."""
    chi2, df = _chi2([(_shares(p, options), implied_samples(p)[0]) for p in parts])
    return chi2 / df if df else None


def _has(pair: tuple[str, str], labels: tuple[tuple[str, str], ...]) -> bool:
    return pair in labels


def _within_parts(
    profile: Profile, n: float, options: DiffOptions, keys: tuple[str, ...] = (PID, THREAD_ID)
) -> list[tuple[_Shares, float]]:
    """A profile's parts by the first of ``keys`` that splits it into at least two parts of
    10% of its CPU samples or more each: the processes (else threads) of one server doing
    one job. (Time slices of one run are not replicates: a run's phases differ.)"""
    view = cpu_view(profile)
    total = view.total
    if total <= 0:
        return []
    for key in keys:
        weight: dict[str, float] = {}
        for (_stack, lid), w in view.samples.items():
            value = dict(view.label_sets[lid]).get(key)
            if value is not None:
                weight[value] = weight.get(value, 0.0) + w
        big = [v for v, w in weight.items() if w >= 0.1 * total]
        if len(big) >= 2:
            out = []
            for v in big:
                part = view.filter(partial(_has, (key, v)))
                out.append((_shares(part, options), n * weight[v] / total))
            return out
    return []


def choose_dispersion(
    base: Profile,
    current: Profile,
    options: DiffOptions,
    base_parts: Sequence[Profile] = (),
    current_parts: Sequence[Profile] = (),
) -> tuple[float, str]:
    """The dispersion to test with, and a note saying where it came from.

    Several files on a side are runs of the same code: their spread (pooled over both sides)
    *is* the noise, so it replaces the configured value (never below 1, independent
    sampling). Processes or threads of one file that share the work can only raise it: they
    may differ for reasons other than noise. Otherwise the configured value stands.
    """
    if not options.estimate_dispersion:
        return options.dispersion, ""
    files = (
        [(_shares(p, options), implied_samples(p)[0]) for p in base_parts],
        [(_shares(p, options), implied_samples(p)[0]) for p in current_parts],
    )
    chi2, df = 0.0, 0
    for side in files:
        c, d = _chi2(side)
        chi2, df = chi2 + c, df + d
    if df:
        est = max(1.0, chi2 / df)
        count = len(base_parts) + len(current_parts)
        return est, (
            f"dispersion {est:.2f}, measured between the {count} files of the sides "
            f"(configured {options.dispersion:g})"
        )
    for profile in (base, current):
        c, d = _chi2(_within_parts(profile, implied_samples(profile)[0], options))
        chi2, df = chi2 + c, df + d
    if df and chi2 / df > options.dispersion:
        return chi2 / df, (
            f"dispersion raised from {options.dispersion:g} to {chi2 / df:.2f}: the processes "
            "or threads of a file differ more than sampling explains"
        )
    return options.dispersion, ""


def diff_profiles(
    base: Profile,
    current: Profile,
    options: DiffOptions | None = None,
    tree: bool = False,
    base_parts: Sequence[Profile] = (),
    current_parts: Sequence[Profile] = (),
) -> DiffResult:
    """Compare ``current`` with ``base`` by CPU share (see the module docstring).

    ``base_parts``/``current_parts``: the files each side was merged from, when there were
    several; their spread sets the dispersion (see :func:`choose_dispersion`).
    """
    options = options or DiffOptions()
    notes_extra: list[str] = []
    dispersion, why = choose_dispersion(base, current, options, base_parts, current_parts)
    if why:
        notes_extra.append(why)
    options = replace(options, dispersion=dispersion)
    sb, sc = _shares(base, options), _shares(current, options)
    n1, note1 = implied_samples(base)
    n2, note2 = implied_samples(current)
    keys = sorted(set(sb.incl) | set(sc.incl))
    keys = [k for k in keys if not any(matches(p, k.name, k.file) for p in options.ignore)]
    items: list[tuple[Metric, str, str, int | None, float, float]] = []
    for k in keys:
        line = sc.lines.get(k) if sc.lines.get(k) is not None else sb.lines.get(k)
        items.append(("inclusive", k.name, k.file, line, sb.incl.get(k, 0.0), sc.incl.get(k, 0.0)))
        bs, cs = sb.self_.get(k, 0.0), sc.self_.get(k, 0.0)
        if bs or cs:
            items.append(("self", k.name, k.file, line, bs, cs))
    eps = sorted(set(sb.endpoints) | set(sc.endpoints))
    ep_items: list[tuple[Metric, str, str, int | None, float, float]] = [
        ("endpoint", e, "", None, sb.endpoints.get(e, 0.0), sc.endpoints.get(e, 0.0)) for e in eps
    ]
    # One family of tests: functions and endpoints corrected together.
    changes = _attribute(_compare([*items, *ep_items], n1, n2, options), current, options)
    notes = tuple(f"{side}: {n}" for side, n in (("base", note1), ("current", note2)) if n)
    notes += tuple(notes_extra)
    return DiffResult(
        base=_side(base, n1, note1),
        current=_side(current, n2, note2),
        options=options,
        functions=tuple(c for c in changes if c.metric != "endpoint"),
        endpoints=tuple(c for c in changes if c.metric == "endpoint"),
        tree=diff_tree(base, current, options) if tree else None,
        notes=notes,
    )


def _attribute(changes: list[Change], current: Profile, options: DiffOptions) -> list[Change]:
    """Mark inclusive regressions that a regressed callee's self time explains: a slowed
    function's callers grow only in inclusive time, and the report names the function."""
    causes = {(c.name, c.file) for c in changes if c.metric == "self" and c.is_regression}
    suspects = [
        c
        for c in changes
        if c.metric == "inclusive" and c.is_regression and (c.name, c.file) not in causes
    ]
    if not causes or not suspects:
        return changes
    cg = build_callgraph(cpu_view(current))
    callees: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for a, b in cg.edges:
        ka = (a.name, normalize_file(a.file, options.source_root))
        kb = (b.name, normalize_file(b.file, options.source_root))
        if ka != kb:
            callees.setdefault(ka, set()).add(kb)
    through: dict[tuple[str, str], str] = {}
    for c in suspects:
        seen, todo = set(), [(c.name, c.file)]
        while todo:
            for kb in callees.get(todo.pop(), ()):
                if kb not in seen:
                    seen.add(kb)
                    todo.append(kb)
        hit = sorted(seen & causes)
        if hit:
            # The heaviest-growing cause below it names it.
            best = max(
                (x for x in changes if x.metric == "self" and (x.name, x.file) in hit),
                key=lambda x: x.current_share - x.base_share,
            )
            through[(c.name, c.file)] = best.name
    return [
        replace(c, through=through.get((c.name, c.file), ""))
        if c.metric == "inclusive" and c.is_regression
        else c
        for c in changes
    ]


def _side(profile: Profile, n: float, note: str) -> Side:
    return Side(
        tuple(s.path for s in profile.meta.sources),
        profile.meta.unit,
        cpu_view(profile).total,
        n,
        note,
    )


class _TreeNode:
    """Mutable accumulator for :func:`diff_tree` (the result is frozen DiffNodes)."""

    __slots__ = ("children", "shares")

    def __init__(self) -> None:
        self.shares = [0.0, 0.0]
        self.children: dict[tuple[str, str], _TreeNode] = {}


def diff_tree(
    base: Profile,
    current: Profile,
    options: DiffOptions | None = None,
    min_share: float = 0.002,
    max_depth: int = 100,
) -> DiffNode:
    """The merged call tree of both profiles by function, shares per side; nodes below
    ``min_share`` on both sides are dropped, and stacks are cut at ``max_depth`` frames
    (deep recursion would otherwise exhaust Python's recursion limit when building)."""
    options = options or DiffOptions()
    root = _TreeNode()
    for side, profile in enumerate((base, current)):
        view = cpu_view(profile)
        total = view.total or 1.0
        keys = [(f.name, normalize_file(f.file, options.source_root)) for f in view.frames]
        for (stack, _lid), w in view.samples.items():
            share = w / total
            node = root
            node.shares[side] += share
            for fid in stack[:max_depth]:
                child = node.children.get(keys[fid])
                if child is None:
                    child = node.children[keys[fid]] = _TreeNode()
                node = child
                node.shares[side] += share

    def build(name: str, file: str, node: _TreeNode) -> DiffNode:
        kids = [
            build(n, f, child)
            for (n, f), child in node.children.items()
            if max(child.shares) >= min_share
        ]
        kids.sort(key=lambda d: (-max(d.base_share, d.current_share), d.name))
        return DiffNode(name, file, node.shares[0], node.shares[1], tuple(kids))

    return build("all", "", root)

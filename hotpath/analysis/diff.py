"""Compare two profiles by shares: what got heavier, what got lighter, and is it real.

Profiles from different machines differ in absolute time, so functions and endpoints are
compared by their share of the CPU. Each share change gets a two-proportion z-test on the
sample counts behind it (variance inflated by ``dispersion``, because a profiler's samples
are correlated in time), corrected for testing many functions at once (Holm by default).
A change is a regression only when it is significant **and** exceeds both thresholds
(absolute percentage points and relative change).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from hotpath.analysis.callgraph import build_callgraph
from hotpath.analysis.endpoints import weight_by_endpoint
from hotpath.analysis.stats import Correction, adjust_p, two_proportion_z, two_sided_p
from hotpath.model import FunctionKey, Profile, cpu_view

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
    """When a side is several files, raise ``dispersion`` to the spread measured between them."""


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
        return tuple(c for c in (*self.functions, *self.endpoints) if c.is_regression)

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


def _adjust_filtered(
    rows: list[tuple[Metric, str, str, int | None, float, float]],
    ps: list[float],
    n1: float,
    n2: float,
    options: DiffOptions,
) -> list[float]:
    """Correct p-values within the family of rows that could matter.

    A big monolith has thousands of cold functions that can never move a share by the
    threshold; counting them as tests would only cost power. The family is the rows whose
    pooled share (both sides together) is at least half the pp threshold: under "no change"
    the pooled share does not depend on the difference being tested, so filtering on it
    keeps the error rate (independent filtering). Rows outside the family get Bonferroni
    over every row, which is stricter still.
    """
    floor = options.min_change_pp / 200.0
    total = n1 + n2
    family = [
        i for i, (*_, b, c) in enumerate(rows) if total and (b * n1 + c * n2) / total >= floor
    ]
    if options.correction == "none":
        return list(ps)
    adjusted = [min(1.0, p * len(rows)) for p in ps]
    for i, pa in zip(family, adjust_p([ps[i] for i in family], options.correction), strict=True):
        adjusted[i] = pa
    return adjusted


def _compare(
    items: Iterable[tuple[Metric, str, str, int | None, float, float]],
    n1: float,
    n2: float,
    options: DiffOptions,
) -> list[Change]:
    rows = list(items)
    zs = [two_proportion_z(b * n1, n1, c * n2, n2, options.dispersion) for *_, b, c in rows]
    ps = [two_sided_p(z) for z in zs]
    adjusted = _adjust_filtered(rows, ps, n1, n2, options)
    out = []
    for (metric, name, file, line, b, c), z, p, pa in zip(rows, zs, ps, adjusted, strict=True):
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


def estimate_dispersion(parts: Sequence[Profile], options: DiffOptions) -> float | None:
    """How much more function shares vary between replicate profiles than independent
    sampling explains: Pearson's chi-square over its degrees of freedom, pooled over the
    functions with an inclusive share of at least 0.5%. None with fewer than two parts."""
    if len(parts) < 2:
        return None
    shares = [_shares(p, options) for p in parts]
    ns = [implied_samples(p)[0] for p in parts]
    total = sum(ns)
    if any(n <= 0 for n in ns):
        return None
    chi2, df = 0.0, 0
    for key in set().union(*(s.incl for s in shares)):
        xs = [s.incl.get(key, 0.0) * n for s, n in zip(shares, ns, strict=True)]
        p = sum(xs) / total
        if not 0.005 <= p <= 0.995:
            continue
        chi2 += sum((x - n * p) ** 2 / (n * p * (1 - p)) for x, n in zip(xs, ns, strict=True))
        df += len(parts) - 1
    return chi2 / df if df else None


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
    several; their spread can raise the dispersion (never lower it).
    """
    options = options or DiffOptions()
    notes_extra: list[str] = []
    if options.estimate_dispersion:
        estimates = [
            e
            for e in (
                estimate_dispersion(base_parts, options),
                estimate_dispersion(current_parts, options),
            )
            if e is not None
        ]
        if estimates and max(estimates) > options.dispersion:
            notes_extra.append(
                f"dispersion raised from {options.dispersion:g} to {max(estimates):.2f}: "
                "the files of a side differ more than sampling explains"
            )
            options = replace(options, dispersion=max(estimates))
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
    changes = _compare([*items, *ep_items], n1, n2, options)
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

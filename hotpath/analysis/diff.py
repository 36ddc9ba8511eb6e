"""Compare two profiles by shares: what got heavier, what got lighter, and is it real.

Profiles from different machines differ in absolute time, so functions and endpoints are
compared by their share of the CPU. Each share change gets a one-sided two-proportion z-test
on the sample counts behind it (variance inflated by ``dispersion``, because a profiler's
samples are correlated in time; measured from the data by :func:`choose_noise` where
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

from hotpath.analysis.callgraph import build_callgraph
from hotpath.analysis.endpoints import weight_by_endpoint
from hotpath.analysis.stats import (
    Correction,
    adjust_thresholded,
    two_proportion_z,
    upper_p_t,
)
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
    """Measure the dispersion from the data where it can be (see :func:`choose_noise`)."""


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


Row = tuple[Metric, str, str, int | None, float, float]


@dataclass(frozen=True)
class Noise:
    """How much more shares vary than independent samples would, as the test uses it.

    A row's statistic is its plain two-proportion z divided by the square root of
    ``dispersion``, referred to Student's t with ``df`` degrees of freedom (a dispersion
    measured between files is itself an estimate; ``inf``: taken as known).
    """

    dispersion: float
    df: float = math.inf
    note: str = ""


def _reach(
    rows: list[Row], n1: float, n2: float, options: DiffOptions, noise: Noise, sign: float
) -> list[float]:
    """Per row, the most probable it is under "no change" that its share moves past both
    practical thresholds in the direction ``sign`` (+1 heavier, -1 lighter).

    Under no change the pooled share ``q`` is fixed and the difference ``d`` has standard
    error ``s``; passing ``min-change-pp`` needs ``|d| >= pp`` and passing
    ``min-change-relative`` needs ``|d| >= rel * base``, i.e. ``|d| >= rel*q / (1 + sign*rel*n2/N)``
    because the base share is ``q - d*n2/N``. So the row needs ``t >= max(both) / s``.
    """
    total = n1 + n2
    pp, rel = options.min_change_pp / 100.0, options.min_change_relative
    out = []
    dispersion, df = noise.dispersion, noise.df
    for *_, b, c in rows:
        q = (b * n1 + c * n2) / total if total else 0.0
        var = q * (1.0 - q) * (1.0 / n1 + 1.0 / n2) * dispersion if n1 and n2 else 0.0
        denom = 1.0 + sign * rel * n2 / total if total else 1.0
        need = max(pp, rel * q / denom if denom > 0 else math.inf)
        out.append(upper_p_t(need / math.sqrt(var), df) if var > 0 else 0.0)
    return out


def _plain_z(rows: Sequence[Row], n1: float, n2: float) -> list[float]:
    """Each row's two-proportion z as if the samples were independent (dispersion 1)."""
    return [two_proportion_z(b * n1, n1, c * n2, n2, 1.0) for *_, b, c in rows]


def _compare(
    rows: list[Row], n1: float, n2: float, options: DiffOptions, noise: Noise
) -> list[Change]:
    """Test every row one-sided in each direction: heavier rows (the gate's question) form
    one family, lighter rows (reported, never failing) another, each corrected at alpha with
    :func:`~hotpath.analysis.stats.adjust_thresholded`."""
    zs = [z / math.sqrt(noise.dispersion) for z in _plain_z(rows, n1, n2)]
    p_up = [upper_p_t(z, noise.df) for z in zs]
    p_down = [upper_p_t(-z, noise.df) for z in zs]
    up = adjust_thresholded(p_up, _reach(rows, n1, n2, options, noise, 1.0), options.correction)
    down = adjust_thresholded(
        p_down, _reach(rows, n1, n2, options, noise, -1.0), options.correction
    )
    out = []
    for (metric, name, file, line, b, c), z, raw_up, raw_down, pu, pd in zip(
        rows, zs, p_up, p_down, up, down, strict=True
    ):
        p, pa = (raw_up, pu) if c >= b else (raw_down, pd)
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


# -- how noisy the shares are --------------------------------------------------------------
#
# The cells: a profile's samples by (caller, leaf) function pair -- the function on CPU and
# the one that called it, which is where a sampler's samples land. Each cell also keeps the
# set of functions on its stacks, so that the cells *without* a function can be had: when
# only that function got slower, the other stacks keep their proportions among themselves,
# so their spread between the two profiles is noise alone, whatever that function did.

Cell = tuple[FunctionKey | None, FunctionKey | None]


def cell_table(
    profile: Profile,
    n: float,
    options: DiffOptions,
    without: frozenset[FunctionKey] = frozenset(),
) -> dict[Cell, float]:
    """A profile's samples (scaled to ``n`` in all) by (caller, leaf) cell, leaving out the
    stacks on which any function of ``without`` is."""
    view = cpu_view(profile)
    total = view.total
    out: dict[Cell, float] = {}
    if total <= 0:
        return out
    keys = [FunctionKey(f.name, normalize_file(f.file, options.source_root)) for f in view.frames]
    dropped = [k in without for k in keys]
    scale = n / total
    for (stack, _lid), w in view.samples.items():
        if not stack:
            cell: Cell = (None, None)
        elif any(dropped[i] for i in stack):
            continue
        else:
            cell = (keys[stack[-2]] if len(stack) > 1 else None, keys[stack[-1]])
        out[cell] = out.get(cell, 0.0) + w * scale
    return out


def table_chi2(tables: Sequence[Mapping[Cell, float]]) -> tuple[float, int]:
    """Pearson's chi-square of a (profiles x cells) table of sample counts and its degrees of
    freedom; cells expected to hold fewer than 5 samples in the smallest profile are pooled
    into one, so that sparse cells do not pass for spread."""
    sizes = [sum(t.values()) for t in tables]
    total = sum(sizes)
    if len(tables) < 2 or total <= 0 or min(sizes) <= 0:
        return 0.0, 0
    cells: set[Cell] = set().union(*tables)
    column = {c: sum(t.get(c, 0.0) for t in tables) for c in cells}
    smallest = min(sizes)
    big = sorted((c for c in cells if column[c] * smallest / total >= 5.0), key=str)
    rest = [c for c in cells if column[c] * smallest / total < 5.0]
    columns = [[t.get(c, 0.0) for t in tables] for c in big]
    if rest:
        columns.append([sum(t.get(c, 0.0) for c in rest) for t in tables])
    chi2, k = 0.0, 0
    for xs in columns:
        col_total = sum(xs)
        if col_total <= 0:
            continue
        k += 1
        for x, size in zip(xs, sizes, strict=True):
            expected = col_total * size / total
            chi2 += (x - expected) ** 2 / expected
    return chi2, max(0, (k - 1) * (len(tables) - 1))


RAISE_LEVEL_Z = 2.326
"""A pair's cells raise the configured dispersion when their chi-square is beyond its 99th
percentile under that dispersion (one-sided z of 0.01)."""


def raised_dispersion(chi2: float, df: int, configured: float) -> float | None:
    """``chi2 / df`` when the cells spread significantly more than ``configured`` allows
    (the chi-square's 99th percentile, Wilson-Hilferty), else None."""
    if df <= 0:
        return None
    h = 2.0 / (9.0 * df)
    limit = configured * df * (1.0 - h + RAISE_LEVEL_Z * math.sqrt(h)) ** 3
    return chi2 / df if chi2 > limit else None


ROW_RANGE = (0.02, 0.98)
"""Rows measured for the dispersion between files: pooled shares in this range (the rows
that the gate can flag; near 0% or 100% a handful of start-up samples dominates)."""


def rows_chi2(parts: Sequence[tuple[_Shares, float]]) -> tuple[float, int]:
    """Pearson's chi-square of every function's inclusive and self share across replicate
    files, summed, and its degrees of freedom: the dispersion of the rows the gate tests."""
    total = sum(n for _s, n in parts)
    chi2, df = 0.0, 0
    if len(parts) < 2 or total <= 0 or any(n <= 0 for _s, n in parts):
        return 0.0, 0
    lo, hi = ROW_RANGE
    for table in ("incl", "self_"):
        rows = [getattr(s, table) for s, _n in parts]
        for key in set().union(*rows):
            xs = [r.get(key, 0.0) * n for r, (_s, n) in zip(rows, parts, strict=True)]
            p = sum(xs) / total
            if not lo <= p <= hi:
                continue
            chi2 += sum(
                (x - n * p) ** 2 / (n * p * (1 - p)) for x, (_s, n) in zip(xs, parts, strict=True)
            )
            df += len(parts) - 1
    return chi2, df


def estimate_dispersion(parts: Sequence[Profile], options: DiffOptions) -> float | None:
    """How much more shares vary between replicate profiles than independent sampling
    explains (:func:`rows_chi2` over its degrees of freedom). None with fewer than two."""
    chi2, df = rows_chi2([(_shares(p, options), implied_samples(p)[0]) for p in parts])
    return chi2 / df if df else None


def _has(pair: tuple[str, str], labels: tuple[tuple[str, str], ...]) -> bool:
    return pair in labels


def _within_parts(
    profile: Profile, n: float, options: DiffOptions, keys: tuple[str, ...] = (PID, THREAD_ID)
) -> list[dict[Cell, float]]:
    """A profile's parts by the first of ``keys`` that splits it into at least two parts of
    10% of its CPU samples or more each: the processes (else threads) of one server doing
    one job, as cell tables. (Time slices of one run are not replicates: a run's phases
    differ.)"""
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
                out.append(cell_table(part, n * weight[v] / total, options))
            return out
    return []


def choose_noise(
    base: Profile,
    current: Profile,
    options: DiffOptions,
    base_parts: Sequence[Profile] = (),
    current_parts: Sequence[Profile] = (),
    moved: frozenset[FunctionKey] = frozenset(),
) -> Noise:
    """The noise to test with, and a note saying where it came from.

    - Several files on a side are runs of the same code: their spread (pooled over both
      sides) *is* the noise, so it replaces the configured value (never below 1).
    - One file per side: the configured value, raised when the two profiles' cells spread
      significantly more than it allows (:func:`raised_dispersion`), counting only the
      stacks on which none of the functions that ``moved`` is: when only they changed, the
      other stacks keep their proportions among themselves, so a real change does not
      pass for noise. (It is never estimated down: a pair has some 15 cells, and Student's t
      with so few degrees of freedom costs more power than a lower estimate gains; see
      docs/ci.md.)
    - Processes or threads of one file that share the work can only raise it: they may
      differ for reasons other than noise.
    """
    if not options.estimate_dispersion:
        return Noise(options.dispersion)
    n1, n2 = implied_samples(base)[0], implied_samples(current)[0]
    chi2, df = 0.0, 0
    for side in (base_parts, current_parts):
        c, d = rows_chi2([(_shares(p, options), implied_samples(p)[0]) for p in side])
        chi2, df = chi2 + c, df + d
    if df:
        est = max(1.0, chi2 / df)
        count = len(base_parts) + len(current_parts)
        return Noise(
            est,
            float(df),
            note=f"dispersion {est:.2f}, measured between the {count} files of the sides "
            f"(configured {options.dispersion:g})",
        )
    configured = options.dispersion
    tables = [cell_table(base, n1, options, moved), cell_table(current, n2, options, moved)]
    overall = raised_dispersion(*table_chi2(tables), configured)
    base_value = overall if overall is not None else configured
    within_chi2, within_df = 0.0, 0
    for profile, n in ((base, n1), (current, n2)):
        c, d = table_chi2(_within_parts(profile, n, options))
        within_chi2, within_df = within_chi2 + c, within_df + d
    notes = []
    if within_df and within_chi2 / within_df > base_value:
        base_value = within_chi2 / within_df
        notes.append(
            f"dispersion raised from {configured:g} to {base_value:.2f}: the processes "
            "or threads of a file differ more than sampling explains"
        )
    elif overall is not None:
        notes.append(
            f"dispersion raised from {configured:g} to {overall:.2f}: the two profiles' stacks "
            "differ more than that allows (chi-square over their (caller, leaf) cells, 1% level)"
        )
    return Noise(base_value, note="; ".join(notes))


MOVED_Z = 3.0
"""A function whose share moved by this many standard errors of independent sampling (and
that holds less than half of the samples, so it is not merely the root every stack shares)
is left out of the noise estimate of a pair of files."""


def _moved(rows: Sequence[Row], n1: float, n2: float) -> frozenset[FunctionKey]:
    out = set()
    for (_metric, name, file, _line, b, c), z in zip(rows, _plain_z(rows, n1, n2), strict=True):
        if abs(z) >= MOVED_Z and (b * n1 + c * n2) < 0.5 * (n1 + n2):
            out.add(FunctionKey(name, file))
    return frozenset(out)


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
    several; their spread sets the dispersion (see :func:`choose_noise`).
    """
    options = options or DiffOptions()
    sb, sc = _shares(base, options), _shares(current, options)
    n1, note1 = implied_samples(base)
    n2, note2 = implied_samples(current)
    keys = sorted(set(sb.incl) | set(sc.incl))
    keys = [k for k in keys if not any(matches(p, k.name, k.file) for p in options.ignore)]
    items: list[Row] = []
    for k in keys:
        line = sc.lines.get(k) if sc.lines.get(k) is not None else sb.lines.get(k)
        items.append(("inclusive", k.name, k.file, line, sb.incl.get(k, 0.0), sc.incl.get(k, 0.0)))
        bs, cs = sb.self_.get(k, 0.0), sc.self_.get(k, 0.0)
        if bs or cs:
            items.append(("self", k.name, k.file, line, bs, cs))
    eps = sorted(set(sb.endpoints) | set(sc.endpoints))
    ep_items: list[Row] = [
        ("endpoint", e, "", None, sb.endpoints.get(e, 0.0), sc.endpoints.get(e, 0.0)) for e in eps
    ]
    noise = choose_noise(base, current, options, base_parts, current_parts, _moved(items, n1, n2))
    options = replace(options, dispersion=noise.dispersion)
    # One family of tests: functions and endpoints corrected together.
    changes = _attribute(_compare([*items, *ep_items], n1, n2, options, noise), current, options)
    notes = tuple(f"{side}: {n}" for side, n in (("base", note1), ("current", note2)) if n)
    if noise.note:
        notes += (noise.note,)
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

"""The gate: fail CI when a hot path really got heavier, or a budget is exceeded.

Settings come from ``[tool.hotpath]`` in pyproject.toml (``source-root``), its
``[tool.hotpath.gate]`` table (thresholds, significance, ignore patterns) and its
``[tool.hotpath.budgets]`` / ``[tool.hotpath.endpoint-budgets]`` tables (maximum inclusive
share of a function or endpoint, checked on the current profile alone); command-line options
override them. :func:`run_gate` is pure: profiles and settings in, a :class:`GateResult` out.
"""

from __future__ import annotations

import difflib
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from hotpath.analysis.diff import (
    Change,
    DiffOptions,
    DiffResult,
    diff_profiles,
    matches,
    normalize_file,
)
from hotpath.analysis.endpoints import weight_by_endpoint
from hotpath.errors import ConfigError
from hotpath.model import Profile, cpu_view

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

BudgetKind = Literal["function", "endpoint"]


@dataclass(frozen=True)
class Budget:
    """At most ``max_share`` (fraction) of the CPU for a function pattern or an endpoint."""

    target: str
    kind: BudgetKind
    max_share: float


@dataclass(frozen=True)
class GateConfig:
    """The effective gate settings (see :func:`load_config`)."""

    diff: DiffOptions = field(default_factory=DiffOptions)
    budgets: tuple[Budget, ...] = ()
    config_file: str | None = None


@dataclass(frozen=True)
class BudgetCheck:
    budget: Budget
    share: float
    """Inclusive share on the current profile of every sample under a matching function."""
    matched: tuple[str, ...]
    file: str = ""
    line: int | None = None

    @property
    def passed(self) -> bool:
        return self.share <= self.budget.max_share

    @property
    def message(self) -> str:
        b = self.budget
        what = f"{b.kind} {b.target}"
        if not self.matched:
            return f"{what}: not in the current profile (0.0%, budget {b.max_share:.1%})"
        verdict = "exceeds" if not self.passed else "within"
        return f"{what}: {self.share:.1%} of CPU {verdict} its budget of {b.max_share:.1%}"


@dataclass(frozen=True)
class GateResult:
    diff: DiffResult
    budgets: tuple[BudgetCheck, ...]
    config: GateConfig

    @property
    def regressions(self) -> tuple[Change, ...]:
        return self.diff.regressions

    @property
    def failed_budgets(self) -> tuple[BudgetCheck, ...]:
        return tuple(b for b in self.budgets if not b.passed)

    @property
    def passed(self) -> bool:
        return not self.regressions and not self.failed_budgets

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


# -- configuration ------------------------------------------------------------------------

_GATE_KEYS = {
    "min-change-pp": ("min_change_pp", float),
    "min-change-relative": ("min_change_relative", float),
    "alpha": ("alpha", float),
    "correction": ("correction", str),
    "dispersion": ("dispersion", float),
    "ignore": ("ignore", list),
    "estimate-dispersion": ("estimate_dispersion", bool),
}


def parse_share(value: object, where: str) -> float:
    """``"12%"``, ``"12.5 %"`` or a fraction ``0.12`` -> 0.12."""
    if isinstance(value, bool):
        raise ConfigError(f'{where}: expected a share like "12%" or 0.12, got {value!r}')
    if isinstance(value, (int, float)):
        share = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            share = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise ConfigError(f'{where}: expected a share like "12%", got {value!r}') from None
    else:
        raise ConfigError(f'{where}: expected a share like "12%" or 0.12, got {value!r}')
    if not 0.0 <= share <= 1.0:
        raise ConfigError(f"{where}: a share must be between 0% and 100%, got {value!r}")
    return share


def find_pyproject(start: str | os.PathLike[str] = ".") -> Path | None:
    """The nearest pyproject.toml at or above ``start``."""
    here = Path(start).resolve()
    for d in (here, *here.parents):
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_tool_table(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``[tool.hotpath]`` table of a pyproject.toml (empty when absent)."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        line = 1 + _raw_line(path, exc.start)
        raise ConfigError(f"{path}: line {line}: not UTF-8 text (TOML must be UTF-8)") from exc
    tool = doc.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: 'tool' must be a table ([tool.hotpath] ...), not {tool!r}")
    table = tool.get("hotpath", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.hotpath] must be a table")
    return table


def _raw_line(path: str | os.PathLike[str], offset: int) -> int:
    """Newlines before byte ``offset`` of the file (for a decoding error's line number)."""
    try:
        with open(path, "rb") as f:
            return f.read(offset).count(b"\n")
    except OSError:
        return 0


_TABLES = ("source-root", "gate", "budgets", "endpoint-budgets")


def config_from_table(table: Mapping[str, Any], source: str = "pyproject.toml") -> GateConfig:
    """Build settings from a ``[tool.hotpath]`` table, naming the bad key on error."""
    kwargs: dict[str, Any] = {}
    for key in table:
        if key not in _TABLES:
            close = difflib.get_close_matches(key, _TABLES, 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(_TABLES)
            raise ConfigError(f"{source}: unknown key [tool.hotpath] {key!r}{hint} ({known})")
    root = table.get("source-root")
    if root is not None:
        if not isinstance(root, str):
            raise ConfigError(f"{source}: [tool.hotpath] source-root must be a string")
        base = os.path.dirname(os.path.abspath(source)) if source.endswith(".toml") else "."
        kwargs["source_root"] = os.path.normpath(os.path.join(base, root))
    gate = table.get("gate", {})
    if not isinstance(gate, dict):
        raise ConfigError(f"{source}: [tool.hotpath.gate] must be a table")
    for key, value in gate.items():
        if key not in _GATE_KEYS:
            known = ", ".join(sorted(_GATE_KEYS))
            raise ConfigError(f"{source}: unknown key [tool.hotpath.gate] {key!r} ({known})")
        attr, typ = _GATE_KEYS[key]
        where = f"{source}: [tool.hotpath.gate] {key}"
        if typ is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where} must be a number, got {value!r}")
            kwargs[attr] = float(value)
        elif typ is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, got {value!r}")
            kwargs[attr] = value
        elif typ is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where} must be a list of strings")
            kwargs[attr] = tuple(value)
        else:
            kwargs[attr] = value
    options = validate_options(DiffOptions(**kwargs), source)
    budgets: list[Budget] = []
    for table_name, kind in (("budgets", "function"), ("endpoint-budgets", "endpoint")):
        entries = table.get(table_name, {})
        if not isinstance(entries, dict):
            raise ConfigError(f"{source}: [tool.hotpath.{table_name}] must be a table")
        for target, value in entries.items():
            where = f"{source}: [tool.hotpath.{table_name}] {target!r}"
            budgets.append(Budget(target, kind, parse_share(value, where)))  # type: ignore[arg-type]
    return GateConfig(options, tuple(budgets), source)


def validate_options(options: DiffOptions, source: str) -> DiffOptions:
    """Reject settings that would make the gate pass whatever the profiles say (a NaN
    compares false with every threshold) or that mean nothing."""
    for name in ("min_change_pp", "min_change_relative", "alpha", "dispersion"):
        value = getattr(options, name)
        if not math.isfinite(value):
            key = name.replace("_", "-")
            raise ConfigError(f"{source}: {key} must be a finite number, got {value!r}")
    if options.correction not in ("holm", "bh", "none"):
        raise ConfigError(f"{source}: correction must be holm, bh or none")
    if not 0.0 < options.alpha < 1.0:
        raise ConfigError(f"{source}: alpha must be between 0 and 1")
    if options.dispersion < 1.0:
        raise ConfigError(f"{source}: dispersion must be at least 1")
    if options.min_change_pp < 0 or options.min_change_relative < 0:
        raise ConfigError(f"{source}: thresholds must not be negative")
    return options


def load_config(path: str | os.PathLike[str] | None = None) -> GateConfig:
    """Settings from ``path`` (or the nearest pyproject.toml); defaults when there is none."""
    found = Path(path) if path is not None else find_pyproject()
    if found is None:
        return GateConfig()
    if path is not None and not found.is_file():
        raise ConfigError(f"{found}: no such config file")
    return config_from_table(read_tool_table(found), str(found))


def override(config: GateConfig, budgets: tuple[Budget, ...] = (), **diff: Any) -> GateConfig:
    """Command-line overrides: given options replace the file's; budgets add (same target
    and kind: the command line wins)."""
    given = {k: v for k, v in diff.items() if v is not None}
    unknown = set(given) - {f.name for f in fields(DiffOptions)}
    if unknown:
        raise ConfigError(f"unknown gate option(s): {', '.join(sorted(unknown))}")
    options = validate_options(replace(config.diff, **given), "command line")
    keep = [
        b
        for b in config.budgets
        if not any((b.target, b.kind) == (o.target, o.kind) for o in budgets)
    ]
    return GateConfig(options, (*keep, *budgets), config.config_file)


def parse_budget_option(text: str, kind: BudgetKind) -> Budget:
    """``TARGET=SHARE`` from the command line (``myapp.search:score=12%``)."""
    target, sep, share = text.rpartition("=")
    if not sep or not target:
        raise ConfigError(
            f"--budget expects TARGET=SHARE (e.g. myapp.search:score=12%), got {text!r}"
        )
    return Budget(target, kind, parse_share(share, f"--budget {text!r}"))


# -- evaluation ---------------------------------------------------------------------------


def check_budget(profile: Profile, budget: Budget, source_root: str | None = None) -> BudgetCheck:
    """The inclusive share of the CPU under a function pattern or in an endpoint."""
    view = cpu_view(profile)
    total = view.total
    under = 0.0
    matched: dict[str, tuple[str, int | None]] = {}
    if budget.kind == "endpoint":
        by_endpoint = weight_by_endpoint(view)
        if budget.target in by_endpoint:
            under = by_endpoint[budget.target]
            matched[budget.target] = ("", None)
    else:
        hit: dict[int, bool] = {}
        for fid, fr in enumerate(view.frames):
            file = normalize_file(fr.file, source_root)
            hit[fid] = matches(budget.target, fr.name, file)
            if hit[fid]:
                prev = matched.get(f"{fr.name} ({file})")
                line = fr.first_line if fr.first_line is not None else fr.line
                if prev is None or (line is not None and (prev[1] is None or line < prev[1])):
                    matched[f"{fr.name} ({file})"] = (file, line)
        for (stack, _lid), w in view.samples.items():
            if any(hit[f] for f in stack):  # once per stack: recursion is not double-counted
                under += w
    file, line = next(iter(matched.values()), ("", None))
    return BudgetCheck(budget, under / total if total else 0.0, tuple(sorted(matched)), file, line)


def run_gate(
    base: Profile,
    current: Profile,
    config: GateConfig | None = None,
    base_parts: Sequence[Profile] = (),
    current_parts: Sequence[Profile] = (),
) -> GateResult:
    """Compare ``current`` with ``base`` and check budgets on ``current`` (``*_parts``: the
    files a side was merged from, see :func:`~hotpath.analysis.diff.diff_profiles`)."""
    config = config or GateConfig()
    diff = diff_profiles(base, current, config.diff, False, base_parts, current_parts)
    checks = tuple(check_budget(current, b, config.diff.source_root) for b in config.budgets)
    return GateResult(diff, checks, config)


def explain(config: GateConfig) -> list[tuple[str, str]]:
    """The effective settings as (name, value) rows, for ``hotpath gate --explain``."""
    o = config.diff
    rows = [
        ("config file", config.config_file or "(none found: defaults)"),
        ("source-root", o.source_root or "(none)"),
        ("min-change-pp", f"{o.min_change_pp:g} percentage points"),
        ("min-change-relative", f"{o.min_change_relative:g} ({o.min_change_relative:.0%})"),
        ("alpha", f"{o.alpha:g}"),
        ("correction", o.correction),
        ("dispersion", f"{o.dispersion:g}"),
        ("estimate-dispersion", "yes" if o.estimate_dispersion else "no"),
        ("ignore", ", ".join(o.ignore) or "(none)"),
    ]
    for b in config.budgets:
        rows.append((f"budget ({b.kind})", f"{b.target} <= {b.max_share:.1%}"))
    return rows

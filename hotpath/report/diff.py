"""Reports of a profile comparison (``hotpath diff``) and of the gate (``hotpath gate``).

Text for terminals, Markdown for PR comments and ``$GITHUB_STEP_SUMMARY``, JSON (schemas
``hotpath.diff/1`` and ``hotpath.gate/1``). Function names and paths are untrusted data:
every format passes them through :mod:`hotpath.escape` (text: :func:`~hotpath.escape.text`,
Markdown: :func:`~hotpath.escape.markdown`, JSON: :func:`~hotpath.escape.json_dumps`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import IO, Any

from hotpath import escape
from hotpath.analysis.diff import Change, DiffResult, Side
from hotpath.analysis.gate import BudgetCheck, GateResult

DIFF_SCHEMA = "hotpath.diff/1"
GATE_SCHEMA = "hotpath.gate/1"
ROWS = 15

md_escape = escape.markdown


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def signed_pp(c: Change) -> str:
    return f"{c.delta_pp:+.1f} pp"


def relative_text(c: Change) -> str:
    rel = c.relative
    return "new" if rel is None else f"{rel * 100:+.0f}%"


def p_text(p: float) -> str:
    return "<1e-12" if p < 1e-12 else f"{p:.2g}"


def describe(c: Change) -> str:
    """One line naming the function or endpoint with its before/after numbers (names made
    safe for plain text; other formats escape the whole line again)."""
    where = f" ({escape.text(c.location)})" if c.location else ""
    what = "endpoint" if c.metric == "endpoint" else f"{c.metric} share"
    via = f"; heavier through {escape.text(c.through)}" if c.through else ""
    return (
        f"{escape.text(c.name)}{where}: {what} {pct(c.base_share)} -> {pct(c.current_share)} "
        f"({signed_pp(c)}, {relative_text(c)}, p={p_text(c.p_adjusted)}{via})"
    )


def _side_text(name: str, s: Side) -> str:
    srcs = ", ".join(escape.text(src) for src in s.sources[:3]) + (
        f" and {len(s.sources) - 3} more" if len(s.sources) > 3 else ""
    )
    return f"{name}: {srcs or '(no source)'} — {s.samples:,.0f} samples"


def _top_changes(result: DiffResult, n: int) -> list[Change]:
    """Regressions and improvements first, then the largest other movements."""
    flagged = [c for c in (*result.functions, *result.endpoints) if c.status != "unchanged"]
    rest = [c for c in result.functions if c.status == "unchanged"]
    return (flagged + rest)[: max(n, len(flagged))]


# -- text ---------------------------------------------------------------------------------


def render_diff_text(result: DiffResult, out: IO[str]) -> None:
    out.write(_side_text("base", result.base) + "\n")
    out.write(_side_text("current", result.current) + "\n")
    for note in result.notes:
        out.write(f"note: {escape.text(note)}\n")
    out.write(
        f"{len(result.regressions)} regressed, {len(result.improvements)} improved "
        f"(thresholds: {result.options.min_change_pp:g} pp and "
        f"{result.options.min_change_relative:.0%}, alpha {result.options.alpha:g} "
        f"{result.options.correction})\n\n"
    )
    out.write(
        f"{'status':<10} {'metric':<9} {'base':>7} {'current':>8} {'change':>9} {'rel':>6}  name\n"
    )
    for c in _top_changes(result, ROWS):
        where = f"  {escape.text(c.location)}" if c.location else ""
        out.write(
            f"{c.status:<10} {c.metric:<9} {pct(c.base_share):>7} {pct(c.current_share):>8} "
            f"{signed_pp(c):>9} {relative_text(c):>6}  {escape.text(c.name)}{where}\n"
        )


def render_gate_text(result: GateResult, out: IO[str]) -> None:
    out.write(("PASS" if result.passed else "FAIL") + ": " + gate_headline(result) + "\n")
    for c in result.regressions:
        out.write(f"  regressed: {describe(c)}\n")
    for b in result.budgets:
        out.write(f"  budget {'ok' if b.passed else 'EXCEEDED'}: {escape.text(b.message)}\n")
    out.write("\n")
    render_diff_text(result.diff, out)


def gate_headline(result: GateResult) -> str:
    # A function whose self and inclusive shares both grew is one regression, not two.
    r = len({(c.metric == "endpoint", c.name, c.file) for c in result.regressions})
    b = len(result.failed_budgets)
    if result.passed:
        return f"no hot path regressed; {len(result.budgets)} budget(s) within limits"
    return f"{r} regressed function(s)/endpoint(s), {b} budget(s) exceeded"


# -- markdown -----------------------------------------------------------------------------


def _md_rows(changes: Iterable[Change]) -> list[str]:
    rows = [
        "| | function / endpoint | where | metric | base | current | change | relative "
        "| p (adj.) |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    icon = {"regressed": "🔴", "new": "🔴", "improved": "🔵", "vanished": "🔵", "unchanged": ""}
    for c in changes:
        rows.append(
            f"| {icon[c.status]} | {md_escape(c.name)} | {md_escape(c.location)} | {c.metric} "
            f"| {pct(c.base_share)} | {pct(c.current_share)} | {signed_pp(c)} "
            f"| {relative_text(c)} | {p_text(c.p_adjusted)} |"
        )
    return rows


def diff_markdown_lines(result: DiffResult) -> list[str]:
    o = result.options
    lines = [
        f"Base: {result.base.samples:,.0f} samples, current: {result.current.samples:,.0f} "
        f"samples. A change counts when it moves a share by at least {o.min_change_pp:g} pp "
        f"and {o.min_change_relative:.0%} and is significant (alpha {o.alpha:g}, {o.correction}"
        f" correction, dispersion {o.dispersion:g}).",
        "",
    ]
    lines += [f"> {md_escape(n)}" for n in result.notes]
    lines += _md_rows(_top_changes(result, ROWS))
    return lines


def render_diff_markdown(result: DiffResult, out: IO[str]) -> None:
    out.write("## hotpath diff\n\n" + "\n".join(diff_markdown_lines(result)) + "\n")


def render_gate_markdown(result: GateResult, out: IO[str]) -> None:
    verdict = "✅ passed" if result.passed else "❌ failed"
    lines = [f"## hotpath gate: {verdict}", "", gate_headline(result) + ".", ""]
    if result.regressions:
        lines += ["### Regressions", ""]
        lines += [f"- {md_escape(describe(c))}" for c in result.regressions]
        lines.append("")
    if result.budgets:
        lines += ["### Budgets", "", "| | budget | share | limit |", "|---|---|---:|---:|"]
        for b in result.budgets:
            lines.append(
                f"| {'✅' if b.passed else '❌'} | {b.budget.kind} {md_escape(b.budget.target)} "
                f"| {pct(b.share)} | {pct(b.budget.max_share)} |"
            )
        lines.append("")
    lines += ["### Changes", "", *diff_markdown_lines(result.diff)]
    out.write("\n".join(lines) + "\n")


# -- json ---------------------------------------------------------------------------------


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def change_dict(c: Change) -> dict[str, Any]:
    rel = c.relative
    return {
        "metric": c.metric,
        "name": c.name,
        "file": c.file,
        "line": c.line,
        "status": c.status,
        "base_share": c.base_share,
        "current_share": c.current_share,
        "delta_pp": c.delta_pp,
        "relative": None if rel is None else _finite(rel),
        "base_samples": c.base_samples,
        "current_samples": c.current_samples,
        "z": _finite(c.z),
        "p_value": c.p_value,
        "p_adjusted": c.p_adjusted,
        "significant": c.significant,
        "exceeds_threshold": c.exceeds_threshold,
        "through": c.through or None,
    }


def _side_dict(s: Side) -> dict[str, Any]:
    return {"sources": list(s.sources), "unit": s.unit, "total": s.total, "samples": s.samples}


def diff_to_dict(result: DiffResult) -> dict[str, Any]:
    o = result.options
    return {
        "schema": DIFF_SCHEMA,
        "base": _side_dict(result.base),
        "current": _side_dict(result.current),
        "options": {
            "min_change_pp": o.min_change_pp,
            "min_change_relative": o.min_change_relative,
            "alpha": o.alpha,
            "correction": o.correction,
            "dispersion": o.dispersion,
            "ignore": list(o.ignore),
            "source_root": o.source_root,
        },
        "notes": list(result.notes),
        "regressions": [change_dict(c) for c in result.regressions],
        "improvements": [change_dict(c) for c in result.improvements],
        "functions": [change_dict(c) for c in result.functions],
        "endpoints": [change_dict(c) for c in result.endpoints],
    }


def budget_dict(b: BudgetCheck) -> dict[str, Any]:
    return {
        "target": b.budget.target,
        "kind": b.budget.kind,
        "max_share": b.budget.max_share,
        "share": b.share,
        "passed": b.passed,
        "matched": list(b.matched),
        "message": b.message,
    }


def gate_to_dict(result: GateResult) -> dict[str, Any]:
    return {
        "schema": GATE_SCHEMA,
        "passed": result.passed,
        "exit_code": result.exit_code,
        "budgets": [budget_dict(b) for b in result.budgets],
        "diff": diff_to_dict(result.diff),
    }


def render_diff_json(result: DiffResult, out: IO[str]) -> None:
    out.write(escape.json_dumps(diff_to_dict(result), indent=1))
    out.write("\n")


def render_gate_json(result: GateResult, out: IO[str]) -> None:
    out.write(escape.json_dumps(gate_to_dict(result), indent=1))
    out.write("\n")

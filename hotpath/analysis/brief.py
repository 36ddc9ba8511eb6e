"""Extraction briefs: plain words a tech lead can paste into a design doc.

For a recommended candidate: the boundary function and its signature (read with :mod:`ast`
from the source when it lies under the source root), who calls it, what crosses the
boundary, the suggested Rust shape (an Axum route or a PyO3 ``#[pyfunction]``) and the
expected gain.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from hotpath.analysis.callgraph import ROOT, CallGraph
from hotpath.analysis.nativeness import LeafJudge
from hotpath.analysis.results import Candidate

if TYPE_CHECKING:
    from hotpath.analysis.evidence import Measured
    from hotpath.analysis.options import ObservedBoundary, ObservedParam

_RUST_TYPES = {
    "str": "String",
    "int": "i64",
    "float": "f64",
    "bool": "bool",
    "bytes": "Vec<u8>",
    "None": "()",
}


def rust_type(annotation: str | None) -> str:
    """A Rust type for a Python annotation (``list[str]`` -> ``Vec<String>``)."""
    if not annotation:
        return "PyObject"
    a = annotation.replace(" ", "")
    if a in _RUST_TYPES:
        return _RUST_TYPES[a]
    m = re.fullmatch(r"(list|List|Sequence|set|Set)\[(.+)\]", a)
    if m:
        return f"Vec<{rust_type(m.group(2))}>"
    m = re.fullmatch(r"(dict|Dict|Mapping)\[([^,]+),(.+)\]", a)
    if m:
        return f"HashMap<{rust_type(m.group(2))}, {rust_type(m.group(3))}>"
    m = re.fullmatch(r"(tuple|Tuple)\[(.+)\]", a)
    if m:
        return "(" + ", ".join(rust_type(p) for p in _split_top(m.group(2))) + ")"
    m = re.fullmatch(r"(.+)\|None|Optional\[(.+)\]", a)
    if m:
        return f"Option<{rust_type(m.group(1) or m.group(2))}>"
    return "PyObject"


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "["
        depth -= ch == "]"
        cur += ch
    return [*parts, cur] if cur else parts


def signature_of(
    judge: LeafJudge, file: str, name: str, line: int | None
) -> ast.FunctionDef | None:
    """The ``def`` of a function from source under the root (None when not readable)."""
    parsed = judge.source(file)
    if parsed is None:
        return None
    tree = parsed[1]
    short = name.rsplit(".", 1)[-1]
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == short]
    if line is not None:
        near = [n for n in found if n.lineno <= line <= (n.end_lineno or n.lineno)]
        found = near or found
    return found[0] if found else None


def write_brief(
    c: Candidate,
    m: Measured,
    cg: CallGraph,
    judge: LeafJudge,
    boundary: ObservedBoundary | None = None,
    hop_cost_s: float = 1e-4,
) -> str:
    """The brief of one recommended candidate (plain text, several short paragraphs);
    ``boundary``, from a capture, adds the observed signature, sizes and rates."""
    lines = [f"Extract {c.target} ({c.kind}) as a Rust {_shape_name(c.recommendation)}."]
    key = m.key
    params: list[tuple[str, str | None]] = []
    returns: str | None = None
    if key is not None:
        fn = cg.functions.get(key)
        line = None if fn is None else (fn.first_line or fn.min_line)
        node = signature_of(judge, key.file, key.name, line)
        if node is not None:
            params = [
                (a.arg, ast.unparse(a.annotation) if a.annotation else None)
                for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                if a.arg not in ("self", "cls")
            ]
            returns = ast.unparse(node.returns) if node.returns else None
            sig = f"def {node.name}({ast.unparse(node.args)})"
            lines.append(
                f"Boundary: {sig}{' -> ' + returns if returns else ''}  [{key.file}:{node.lineno}]"
            )
        else:
            lines.append(
                f"Boundary: {key.name} in {key.file or '?'} (source not under --source-root)"
            )
        callers = sorted(str(k) for k in cg.callers(key) if k != ROOT)
        if callers:
            shown = ", ".join(callers[:5]) + (
                f" and {len(callers) - 5} more" if len(callers) > 5 else ""
            )
            lines.append(f"Callers ({len(callers)}): {shown}.")
        inside = sorted(k.name for k in m.region if k != key and k in cg.functions)
        if inside:
            lines.append(f"Moves with it (reached only through it): {', '.join(inside[:8])}.")
    if params or returns:
        crossing = ", ".join(f"{n}: {a or 'unannotated'}" for n, a in params)
        lines.append(
            f"Crosses the boundary: in ({crossing or 'nothing'}); out {returns or 'unannotated'}."
        )
    if boundary is not None:
        lines.extend(
            observed_lines(boundary, c.recommendation, key.name if key else c.target, hop_cost_s)
        )
        rust: tuple[list[tuple[str, str]], str] | None = (
            [(p.name, observed_rust(p, True)) for p in boundary.params],
            observed_rust(boundary.result, False),
        )
    else:
        rust = None
    lines.append(
        "Suggested shape: " + _shape(c, key.name if key else c.target, params, returns, rust)
    )
    lo, hi = c.saving_share
    gain = f"Expected gain: {lo:.1%}-{hi:.1%} of the process CPU"
    if c.speedup:
        gain += f" (process speed-up {c.speedup[0]:.2f}x-{c.speedup[1]:.2f}x)"
    if c.cores_saved:
        gain += f", {c.cores_saved[0]:.2f}-{c.cores_saved[1]:.2f} cores"
    if c.money_per_month:
        gain += f", {c.money_per_month[0]:,.0f}-{c.money_per_month[1]:,.0f} per month"
    lines.append(gain + ".")
    return "\n".join(lines)


def _shape_name(recommendation: str) -> str:
    return "microservice (Axum)" if recommendation == "microservice" else "extension (PyO3)"


def _snake(name: str) -> str:
    short = re.sub(r"[^0-9A-Za-z_]", "_", name.rsplit(".", 1)[-1]).strip("_") or "call"
    return short.lower()


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in _snake(name).split("_") if p) or "Call"


def _shape(
    c: Candidate,
    name: str,
    params: list[tuple[str, str | None]],
    returns: str | None,
    rust: tuple[list[tuple[str, str]], str] | None = None,
) -> str:
    """The Rust shape; ``rust``: (argument, Rust type) pairs and result observed by a capture."""
    fn = _snake(name)
    typed = rust[0] if rust else [(p, rust_type(a)) for p, a in params]
    args = ", ".join(f"{p}: {t}" for p, t in typed)
    ret = rust[1] if rust else rust_type(returns)
    if c.recommendation == "microservice":
        typ = _camel(name)
        owned = [
            (p, "String" if t == "&str" else "Vec<u8>" if t == "&[u8]" else t) for p, t in typed
        ]
        fields = "; ".join(f"{p}: {t}" for p, t in owned) or "..."
        return (
            f"POST /{fn} on an Axum router; struct {typ}Request {{ {fields} }} as JSON in, "
            f"{typ}Response {{ result: {ret} }} out; the Python caller sends one request per call."
        )
    return f"#[pyfunction] fn {fn}({args}) -> PyResult<{ret}>, in a PyO3 module built with maturin."


# -- the boundary a capture observed ------------------------------------------------------------
def _top_type(p: ObservedParam) -> str | None:
    """The Python type seen on most recorded calls (``str | None`` when None came too)."""
    kinds = [t for t, _n in p.types]
    if not kinds:
        return None
    if "None" in kinds and len(kinds) == 2:
        other = kinds[0] if kinds[1] == "None" else kinds[1]
        return f"{other} | None"
    return kinds[0]


def observed_rust(p: ObservedParam, argument: bool) -> str:
    """The Rust type of an observed argument or result: ``&str`` for a PyO3 string argument,
    ``usize`` for integers never seen negative."""
    top = _top_type(p)
    if top == "int" and p.min_int is not None and p.min_int >= 0:
        return "usize"
    rust = rust_type(top)
    if argument and rust == "String":
        return "&str"
    if argument and rust == "Vec<u8>":
        return "&[u8]"
    return rust


def _sizes(p: ObservedParam) -> str:
    kinds = ", ".join(f"{t} {n}" if len(p.types) > 1 else t for t, n in p.types[:3])
    if p.sizes is None:
        return f"{p.name}: {kinds}"
    lo, med, hi = p.sizes
    if lo == hi:
        return f"{p.name}: {kinds}, length {lo}"
    return f"{p.name}: {kinds}, length {lo}-{hi} (median {med})"


def observed_lines(
    b: ObservedBoundary, recommendation: str, name: str, hop_cost_s: float
) -> list[str]:
    """The brief's paragraph on the observed boundary."""
    fn = _snake(name)
    args = ", ".join(f"{p.name}: {observed_rust(p, True)}" for p in b.params)
    ret = observed_rust(b.result, False)
    out = [
        f"Observed signature ({b.records:,} of {b.calls:,} calls recorded): "
        f"fn {fn}({args}) -> {ret}",
        "Observed at the boundary: " + "; ".join(_sizes(p) for p in [*b.params, b.result]) + ".",
    ]
    if b.raised:
        out.append("Raised: " + ", ".join(f"{t} ({n})" for t, n in b.raised[:3]) + ".")
    rate = []
    if b.calls_per_request is not None:
        rate.append(f"{b.calls_per_request:,.3g} calls per request")
    if b.call_rate is not None:
        rate.append(f"{b.call_rate:,.0f} calls/s while captured")
    if b.cpu_per_call_s is not None:
        rate.append(f"{b.cpu_per_call_s * 1e3:.3g} ms CPU per call (median)")
    if rate:
        out.append("Traffic: " + ", ".join(rate) + ".")
    if recommendation == "microservice":
        per_call = b.bytes_in + b.bytes_out
        said = (
            f"As a service, each call sends ~{b.bytes_in:,} B and receives ~{b.bytes_out:,} B "
            f"of JSON and pays a round trip (~{hop_cost_s * 1e3:.1f} ms)"
        )
        if b.call_rate:
            said += (
                f"; at {b.call_rate:,.0f} calls/s that is {per_call * b.call_rate / 1e3:,.1f} "
                f"kB/s and {b.call_rate * hop_cost_s:,.2f} s of round trips per second"
            )
        if b.cpu_per_call_s:
            said += f" (the hop is {hop_cost_s / b.cpu_per_call_s:.0%} of the call's CPU)"
        out.append(said + ".")
    return out

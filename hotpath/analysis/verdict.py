"""The advisor's verdict on one measured candidate, in the order it is reached.

1. :func:`estimate`: the numbers (share and its Wilson interval, the interpreted-Python
   fraction, isolation, Amdahl's saving interval);
2. :data:`BLOCKING_RULES`: each rule that says "leave it in Python", with its reason;
3. :func:`recommend`: the shape when nothing blocks (replace a library, an extension, a
   microservice), with its reason;
4. :func:`cost`: cores and money saved; :func:`confidence` from the sample count.

Each reason starts with a short key (``I/O-bound``, ``replace markdown``) followed by a colon
and the details: the terminal table shows the key, the details go below it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hotpath.analysis.evidence import Measured
from hotpath.analysis.options import AdvisorOptions

HOURS_PER_MONTH = 730.0
LIBRARY_SHARE = 0.5
"""A candidate whose time is at least this much in one library is a library path."""

RUST_DROP_INS: dict[str, str] = {
    "markdown": "pyromark or markdown-it-pyrs",
    "markdown_it": "markdown-it-pyrs",
    "mistune": "pyromark",
    "yaml": "yaml-rs (or PyYAML's libyaml CSafeLoader, C)",
    "ruamel": "yaml-rs",
    "pylev": "jellyfish or rapidfuzz",
    "Levenshtein": "jellyfish or rapidfuzz",
    "textdistance": "jellyfish or rapidfuzz",
    "fuzzywuzzy": "rapidfuzz",
    "thefuzz": "rapidfuzz",
    "jsonschema": "jsonschema-rs",
    "bleach": "nh3",
    "html5lib": "nh3 (sanitising) or html5ever bindings",
    "json": "orjson",
    "simplejson": "orjson",
    "ujson": "orjson",
    "toml": "rtoml",
    "tomli": "rtoml",
    "dateutil": "whenever",
    "pyjwt": "jwt bindings such as jwt-rs",
}
"""Pure-Python libraries and Rust-backed drop-ins on PyPI that a team would reach for."""


def wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n."""
    if n <= 0:
        return (0.0, 0.0)
    p = min(max(k / n, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Estimate:
    """A candidate's numbers before any rule is applied."""

    share: float
    share_interval: tuple[float, float]
    seen: float | None
    """Samples under it (None: exact call statistics)."""
    pure: float
    isolation: float | None
    layer: float
    evidenced: bool
    """Most of its weight ends in a leaf judged on evidence (not assumed interpreted)."""
    unread: bool
    """Most of its weight was judged only by .py file names, the source not read."""
    saving: tuple[float, float]
    library: tuple[str, float, str] | None
    """The one library holding most of its time: (name, that share, the app function that
    calls into it)."""
    k: tuple[float, float] | None = None
    """The per-call speed-up measured by replay, (low, high), when one was used."""
    measured: str | None = None
    """What the replay found (used or not) for this candidate's function."""


@dataclass(frozen=True)
class Speedup:
    """What rewriting one candidate makes faster, and by how much."""

    k: float
    """The speed-up (the extraction plan applies this value)."""
    whole: bool = False
    """True: the candidate's whole call gets k times faster (a replacement measured on its
    real calls); False: its interpreted part, or a library's whole call (see estimate)."""
    spread: tuple[float, float] = (0.0, 0.0)
    """The measured k's interval (whole only)."""
    said: str | None = None
    """What a replay of the candidate's function found, used or not."""


def speedup_for(m: Measured, options: AdvisorOptions) -> Speedup:
    """The Rust speed-up for one candidate: a replay's measured per-call speed-up of its
    function (``analyze --replay``) when every replayed call was equal, else the assumed
    ``rust_speedup``. The one place it is decided: the saving (:func:`estimate`) and the
    extraction plan (:mod:`hotpath.analysis.plan`) both ask here."""
    replayed = (
        options.measured_for(m.key.name, m.key.file)
        if m.kind == "function" and m.key is not None
        else None
    )
    if replayed is not None and replayed.all_equal and replayed.median > 1:
        # A slowest round below 1x puts no saving at the low end.
        spread = (max(replayed.low, 1.0), replayed.high)
        return Speedup(replayed.median, True, spread, f"measured by replay: {replayed.summary}")
    not_used = None if replayed is None else f"replay not used ({replayed.summary})"
    return Speedup(options.rust_speedup, said=not_used)


def gain_of(k: float) -> float:
    """The fraction of a region's faster part that a k-times speed-up removes: 1 - 1/k."""
    return 1 - 1 / k if k > 0 else 0.0


def estimate(m: Measured, total: float, n: float | None, options: AdvisorOptions) -> Estimate:
    """Share, fractions and the Amdahl saving interval of one candidate.

    saving = on-CPU share x pure-Python fraction x (1 - 1/k): the share is already on-CPU
    (idle samples are not in the CPU view), so the CPU-bound fraction is not multiplied in
    again. The interpreted weight is a binomial count of samples: its Wilson interval."""
    t = m.tally
    z = options.z
    share = min(1.0, m.weight / total)  # pyinstrument's float sums can overshoot by 1e-3
    seen = share * n if n else None
    share_iv = wilson(seen, n, z) if n and seen is not None else (share, share)
    pure = t.python / t.total if t.total else 0.0
    isolation = max(0.0, 1 - t.outside / t.total) if t.total else None
    layer = t.layer / t.total if t.total else 0.0
    speedup = speedup_for(m, options)
    gain = gain_of(options.rust_speedup)
    library = None
    if t.libraries and t.total:
        name, w = max(t.libraries.items(), key=lambda kv: (kv[1], kv[0]))
        if w >= LIBRARY_SHARE * t.total:
            owners = {o: v for (lib, o), v in t.owners.items() if lib == name}
            owner = max(owners, key=lambda o: (owners[o], o)) if owners else m.target
            library = (name, w / t.total, owner)
    # What gets k times faster: a library's whole call when a drop-in replaces it (its C
    # parts too, which the measured per-call speed-up of the drop-in covers), otherwise the
    # interpreted part only.
    faster = share * (library[1] if library is not None else pure)
    lo, hi = wilson(faster * n, n, z) if n else (faster, faster)
    # Without evidence for most of the region (no native frames, no readable source line,
    # no .py file), "interpreted" is an assumption: the saving is only an upper bound.
    evidenced = t.total > 0 and t.judged >= 0.5 * t.total
    if not evidenced:
        lo = 0.0
    unread = t.total > 0 and t.unread >= 0.5 * t.total
    saving = (lo * gain, hi * gain)
    k: tuple[float, float] | None = None
    if speedup.whole:
        # The replacement stands in for the whole call (its C parts too): the whole share
        # gets k times faster, k within the spread the replay measured.
        k = speedup.spread
        slo, shi = share_iv
        saving = (slo * gain_of(k[0]), shi * gain_of(k[1]))
    said = speedup.said
    return Estimate(
        share,
        share_iv,
        seen,
        pure,
        isolation,
        layer,
        evidenced,
        unread,
        saving,
        library,
        k,
        said,
    )


Rule = Callable[[Measured, Estimate, AdvisorOptions, list[str]], str | None]


def too_small(m: Measured, e: Estimate, o: AdvisorOptions, _b: list[str]) -> str | None:
    if e.seen is not None and e.seen < o.min_samples:
        return f"too small: seen in only {e.seen:.0f} samples, not a finding"
    if e.share_interval[0] < o.min_share:
        lo, hi = e.share_interval
        return (
            f"too small: {e.share:.1%} of the CPU (interval {lo:.1%}-{hi:.1%}), "
            f"below the {o.min_share:.0%} worth a rewrite"
        )
    return None


def already_native(m: Measured, e: Estimate, o: AdvisorOptions, _b: list[str]) -> str | None:
    # Read off frames and source lines, so it comes before I/O-bound: time off the CPU in C
    # may be I/O or a wait for a core (SQLite and json calls on a loaded server).
    t = m.tally
    io, db, native = t.share("io"), t.share("db"), t.share("native")
    if db + native < 0.5 or io >= 0.5:
        return None
    if db >= native:
        return (
            f"already native: {db + native:.0%} of its time is in database calls "
            "that run in the database engine's C code"
        )
    return (
        f"already native: {db + native:.0%} of its time is in C extensions and builtins "
        "(json, zlib, regex, ...)"
    )


def io_bound(m: Measured, e: Estimate, o: AdvisorOptions, _b: list[str]) -> str | None:
    w = m.waits
    if m.cpu_bound is not None and m.cpu_bound < 0.5 and w is not None:
        leaves = f" ({', '.join(w.blocking_leaves)})" if w.blocking_leaves else ""
        return (
            f"I/O-bound: {w.blocked:.0%} of its wall time waits for I/O or a lock{leaves} "
            f"against {w.on_cpu:.0%} on CPU; waiting does not get faster in Rust"
        )
    io = m.tally.share("io")
    if io >= 0.5:
        return f"I/O-bound: {io:.0%} of its time is in file, socket or sleep calls"
    return None


def entangled(m: Measured, e: Estimate, o: AdvisorOptions, _b: list[str]) -> str | None:
    t = m.tally
    if e.library is not None:
        # A drop-in replaces the library call whole: the library's internals that are also
        # reached from elsewhere (re, xml.etree, its own helpers) and its classes are not
        # called back into, and no object of its layer crosses the boundary.
        return None
    if e.isolation is not None and e.isolation < 0.5:
        return (
            f"too entangled: {1 - e.isolation:.0%} of its time is in code outside its region "
            "(shared callees, framework, ORM) that a rewrite would have to call back into"
        )
    if e.layer >= 0.5 and len(t.layer_classes) >= 2:
        ranked = sorted(t.layer_classes.items(), key=lambda cw: -cw[1])
        names = ", ".join(c for c, _w in ranked[:4])
        return (
            f"too entangled: {e.layer:.0%} of its time is in methods of {len(t.layer_classes)} "
            f"classes ({names}): an object layer such as an ORM whose objects would have to "
            "cross the boundary"
        )
    return None


def dispatcher(m: Measured, e: Estimate, o: AdvisorOptions, branches: list[str]) -> str | None:
    if len(branches) < 3 or (e.isolation is not None and e.isolation < 0.5):
        return None
    if e.library is not None:
        return None  # the split is inside the library, which is replaced whole
    if e.layer >= 0.5 and len(m.tally.layer_classes) >= 2:
        return None  # already too entangled, said once
    return (
        f"too entangled: a dispatcher, its time splits over {len(branches)} unrelated paths "
        f"({', '.join(branches[:4])}); extract those paths, not the dispatcher"
    )


def unknown_code(m: Measured, e: Estimate, o: AdvisorOptions, blocking: list[str]) -> str | None:
    if e.evidenced or blocking:
        return None
    return (
        "not enough evidence: most of its samples end in code with no file to judge "
        "(generated code, no native frames), so whether its time is interpreted Python is "
        "unknown (record with py-spy --native, or pass the source root)"
    )


BLOCKING_RULES: tuple[Rule, ...] = (
    too_small,
    already_native,
    io_bound,
    entangled,
    dispatcher,
    unknown_code,
)
"""In the order their reasons are listed; ``unknown_code`` only when nothing else blocks."""


def blocking_reasons(
    m: Measured, e: Estimate, options: AdvisorOptions, branches: list[str]
) -> list[str]:
    out: list[str] = []
    for rule in BLOCKING_RULES:
        reason = rule(m, e, options, branches if rule is dispatcher else out)
        if reason is not None:
            out.append(reason)
    return out


def granularity(m: Measured, options: AdvisorOptions) -> tuple[str | None, str]:
    """("fine" | "coarse" | None, how that was decided)."""
    threshold = 10 * options.hop_cost_s
    if m.per_call_s is not None:
        what = "per request" if m.kind == "endpoint" else "per call"
        detail = f"{m.per_call_s * 1e3:.3g} ms CPU {what}"
        return ("fine" if m.per_call_s < threshold else "coarse"), detail
    if m.kind == "endpoint":
        return "coarse", "a whole request, already behind a network hop"
    t = m.tally
    if t.call_sites and t.call_sites_known >= 0.5 * t.call_sites:
        loops = t.call_sites_in_loops / t.call_sites_known
        if loops >= 0.5:
            return "fine", f"{loops:.0%} of its sampled call sites are inside loops"
        return (
            "coarse",
            f"called once per caller call ({1 - loops:.0%} of call sites outside loops)",
        )
    return None, "no call counts, call sites not in readable source"


def recommend(
    m: Measured, e: Estimate, options: AdvisorOptions, shape: tuple[str | None, str]
) -> tuple[str, str]:
    """(recommendation, its reason) for a candidate nothing blocks."""
    grain, detail = shape
    if e.library is not None:
        name, frac, owner = e.library
        drop_in = RUST_DROP_INS.get(name)
        alt = f" such as {drop_in}" if drop_in else ""
        return "extension", (
            f"replace {name}: {frac:.0%} of its time runs in the library {name}, called from "
            f"{owner}; replace {name} with a Rust-backed drop-in{alt}, or move {owner}, the "
            "app function that owns the call, to Rust"
        )
    if grain == "fine":
        return "extension", (
            f"too fine-grained for a network hop: {detail}; an in-process extension (PyO3) "
            "avoids the hop"
        )
    if grain == "coarse":
        return "microservice", (
            f"coarse-grained: {detail}; a network hop (~{options.hop_cost_s * 1e3:.1f} ms) is "
            "small against it (an in-process extension fits as well)"
        )
    return "extension", (
        f"granularity unknown: {detail}; an in-process extension is the safe shape"
    )


def unread_source(m: Measured) -> str | None:
    """A caveat when most of a recommended candidate was judged without reading its lines."""
    t = m.tally
    if not t.total or t.unread < 0.5 * t.total:
        return None
    return (
        f"source not read: {t.unread / t.total:.0%} of its samples end in .py files whose "
        "source was not found, taken as interpreted Python; a call into C on those lines (a "
        "database query, json) would not be seen (pass --source-root)"
    )


def where_time_goes(m: Measured) -> str | None:
    """The off-CPU split in words, for the details of a recommended candidate."""
    w = m.waits
    if w is None or w.on_cpu >= 0.9:
        return None
    return (
        f"off CPU: {w.on_cpu:.0%} of its wall time on CPU, {w.runnable:.0%} waiting for a core "
        f"or the GIL (its leaves run Python or C compute: a rewrite shortens that wait too), "
        f"{w.blocked:.0%} waiting for I/O or a lock"
    )


def cost(
    saving: tuple[float, float], cores: float | None, options: AdvisorOptions
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """(cores saved, money per month saved) for a saving interval."""
    if not cores:
        return None, None
    cores_saved = (saving[0] * cores, saving[1] * cores)
    if options.core_hour_price is None:
        return cores_saved, None
    per_core = options.core_hour_price * HOURS_PER_MONTH
    return cores_saved, (cores_saved[0] * per_core, cores_saved[1] * per_core)


def confidence(e: Estimate, blocked: bool, options: AdvisorOptions) -> str:
    if e.seen is None:
        return "exact"
    if (blocked and e.seen < options.min_samples) or not e.evidenced:
        return "low"
    if e.unread:
        return "low"
    if e.seen >= 100 and e.share_interval[0] >= options.min_share:
        return "high"
    return "medium"

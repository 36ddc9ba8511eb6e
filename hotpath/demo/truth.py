"""Machine-readable ground truth about the sample monolith, for tests and docs.

Each endpoint has a known character, chosen so that a correct advisor must tell them apart.
The CPU each endpoint really uses is not stated here: the monolith measures it itself
(``GET /__stats``, ``--stats-out``) because it depends on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["microservice", "extension", "leave"]
Character = Literal["pure-python", "sqlite", "native", "tiny-helper", "orm", "trivial"]

MODULE = "hotpath.demo"
APP_FILE = "hotpath/demo/app.py"
KERNEL_FILE = "hotpath/demo/kernel.py"
ORM_FILE = "hotpath/demo/orm.py"


@dataclass(frozen=True)
class EndpointTruth:
    """What one endpoint is, and what the advisor is expected to say about it."""

    name: str
    """Endpoint label as the monolith's stats report it, e.g. ``GET /kernel``."""
    route: str
    view: str
    """Qualified name of the view function (module ``hotpath.demo.app``)."""
    character: Character
    verdict: Verdict
    also_acceptable: tuple[Verdict, ...]
    reason: str
    key_functions: tuple[str, ...]
    """Qualified names of the functions where the endpoint's own cost sits."""


KERNEL_FUNCTION = "rank_candidates"
"""Entry of the pure-Python kernel region (one call per request, milliseconds each)."""
KERNEL_INNER = "edit_distance"
"""The kernel's inner loop (called once per candidate, inside the kernel's region)."""
TINY_HELPER = "normalize_tag"
"""The tiny hot helper: microseconds per call, thousands of calls per request."""
ORM_LAYER: tuple[str, ...] = (
    "QuerySet.__iter__",
    "QuerySet.filter",
    "QuerySet.order_by",
    "QuerySet.compile",
    "QuerySet._clone",
    "Model.from_row",
    "Model.__init__",
    "Model.to_dict",
    "IntField.to_python",
    "FloatField.to_python",
    "TextField.to_python",
)
"""The generic mini-ORM functions ``GET /orders`` spends its time in."""
FRAMEWORK_FUNCTIONS: tuple[str, ...] = ("Router.__call__", "Router.dispatch")
"""The plain-WSGI "framework": every request passes through these; never a candidate."""

ENDPOINTS: tuple[EndpointTruth, ...] = (
    EndpointTruth(
        "GET /kernel",
        "/kernel",
        "kernel_view",
        "pure-python",
        "microservice",
        ("extension",),
        "pure-Python CPU, the largest share; one coarse call per request (milliseconds) with "
        "plain data in and out and no callbacks into Python, so a network hop (~0.1 ms) costs "
        "little against the call: a microservice fits, an in-process extension fits as well",
        (KERNEL_FUNCTION, KERNEL_INNER),
    ),
    EndpointTruth(
        "GET /report",
        "/report",
        "report_view",
        "sqlite",
        "leave",
        (),
        "time is inside SQLite's C code (joins, aggregates): already native",
        ("report_view",),
    ),
    EndpointTruth(
        "GET /export",
        "/export",
        "export_view",
        "native",
        "leave",
        (),
        "time is in json and zlib C code: already native",
        ("export_view",),
    ),
    EndpointTruth(
        "GET /tags",
        "/tags",
        "tags_view",
        "tiny-helper",
        "extension",
        (),
        "a pure-Python helper of microseconds per call, called thousands of times per request: "
        "too fine-grained for a network hop, ideal for an in-process extension",
        (TINY_HELPER,),
    ),
    EndpointTruth(
        "GET /orders",
        "/orders",
        "orders_view",
        "orm",
        "leave",
        (),
        "the view is thin; its time is spread over a generic ORM layer shared by the app: "
        "too entangled to lift out",
        ORM_LAYER,
    ),
    EndpointTruth(
        "GET /health",
        "/health",
        "health_view",
        "trivial",
        "leave",
        (),
        "no measurable cost",
        ("health_view",),
    ),
)

BY_NAME: dict[str, EndpointTruth] = {e.name: e for e in ENDPOINTS}

MIXES: dict[str, dict[str, int]] = {
    # Relative request frequencies. Under "default" the kernel takes the largest CPU share
    # (about 35-45%) and every other endpoint but health at least 5%.
    "default": {
        "/kernel": 2,
        "/report": 2,
        "/export": 2,
        "/tags": 2,
        "/orders": 2,
        "/health": 2,
    },
    "kernel-only": {"/kernel": 1},
    "no-kernel": {"/report": 1, "/export": 1, "/tags": 1, "/orders": 1, "/health": 1},
}


def schedule(mix: str) -> list[str]:
    """One round of a mix as a list of paths, interleaved (deterministic)."""
    weights = MIXES[mix]
    rounds = max(weights.values())
    return [p for r in range(rounds) for p, w in weights.items() if r < w]

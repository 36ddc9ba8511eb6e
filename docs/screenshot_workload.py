"""A small stand-in for a web monolith's request handlers, profiled for docs/report.png.

Pure-Python pricing loops, string templating, JSON (native) and regex parsing, called
from a request dispatcher for a fixed time.
"""

from __future__ import annotations

import json
import re
import sys
import time

QUERY = re.compile(r"(\w+)=([^&]*)")


def parse_query(qs: str) -> dict[str, str]:
    return dict(QUERY.findall(qs))


def apply_discounts(prices: list[float]) -> float:
    total = 0.0
    for i, p in enumerate(prices):
        if i % 3 == 0:
            p *= 0.9
        total += round(p * 1.2, 2)
    return total


def price_cart(n: int) -> float:
    prices = [float(i % 97) + 0.99 for i in range(n)]
    return apply_discounts(prices)


def render_invoice(lines: int) -> str:
    rows = [f"<tr><td>item {i}</td><td>{i * 1.5:.2f}</td></tr>" for i in range(lines)]
    return "<table>" + "".join(rows) + "</table>"


def serialize(payload: dict[str, object]) -> str:
    return json.dumps(payload, sort_keys=True)


def handle_checkout(qs: str) -> str:
    params = parse_query(qs)
    total = price_cart(int(params.get("items", "400")))
    return render_invoice(60) + serialize({"total": total, "params": params})


def handle_catalog(qs: str) -> str:
    params = parse_query(qs)
    items = [{"id": i, "name": f"product {i}", "tags": ["a", "b"]} for i in range(150)]
    return serialize({"items": items, "page": params.get("page", "1")})


def handle_health(_qs: str) -> str:
    return "ok"


ROUTES = {"/checkout": handle_checkout, "/catalog": handle_catalog, "/health": handle_health}


def dispatch(path: str, qs: str) -> str:
    return ROUTES[path](qs)


def main(seconds: float) -> None:
    end = time.monotonic() + seconds
    paths = ["/checkout", "/checkout", "/catalog", "/health"]
    i = 0
    while time.monotonic() < end:
        dispatch(paths[i % len(paths)], "items=400&page=2&sort=price")
        i += 1


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)

"""The plain-Python floor: what an interpreter reaches on folded stacks without cleverness.

Reads lines, splits off the count after the last space, and adds self, inclusive (once per
stack) and caller→callee edge weights per function (the frame text without its line number).
Run as ``python -m benchmarks.floor FILE...``; prints a JSON summary that the benchmark also
uses as an independent check of hotpath's totals.
"""

from __future__ import annotations

import json
import sys


def function_of(frame: bytes) -> bytes:
    """``name (file:LINE)`` -> ``name (file``: one key per function, whatever the line."""
    head, sep, tail = frame.rpartition(b":")
    return head if sep and tail[:-1].isdigit() else frame


def floor(paths: list[str]) -> dict[str, object]:
    self_w: dict[bytes, int] = {}
    incl: dict[bytes, int] = {}
    edges: dict[tuple[bytes, bytes], int] = {}
    fn_of: dict[bytes, bytes] = {}
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                stack, _, count = line.rstrip(b"\n").rpartition(b" ")
                w = int(count)
                total += w
                if not stack:
                    continue
                fns = []
                for fr in stack.split(b";"):
                    fn = fn_of.get(fr)
                    if fn is None:
                        fn = fn_of[fr] = function_of(fr)
                    fns.append(fn)
                leaf = fns[-1]
                self_w[leaf] = self_w.get(leaf, 0) + w
                for fn in set(fns):
                    incl[fn] = incl.get(fn, 0) + w
                seen = set()
                prev = b"<root>"
                for fn in fns:
                    edge = (prev, fn)
                    if edge not in seen:
                        seen.add(edge)
                        edges[edge] = edges.get(edge, 0) + w
                    prev = fn
    top = max(incl.items(), key=lambda kv: (kv[1], kv[0]), default=(b"", 0))
    return {
        "total": total,
        "functions": len(incl),
        "edges": len(edges),
        "top_inclusive": top[1],
        "max_self": max(self_w.values(), default=0),
    }


if __name__ == "__main__":
    json.dump(floor(sys.argv[1:]), sys.stdout)
    sys.stdout.write("\n")

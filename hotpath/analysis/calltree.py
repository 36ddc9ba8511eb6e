"""A merged, pruned call tree (root → leaf, one node per function per path) for flame graphs.

The tree is a view built from the flat profile on demand. Lines of one function merge into
one node; recursion stays visible as nested nodes (a flame graph shows depth). Nodes whose
weight is below ``min_share`` of the total are collapsed, per parent, into one node that says
how many frames it hides, so a report of a huge profile stays small: with ``min_share`` = s
at most 1/s nodes survive at each depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hotpath.analysis.classify import Kind, make_classifier
from hotpath.model import FunctionKey, Profile

NodeKind = Literal["app", "library", "stdlib", "native", "root", "hidden"]
DEFAULT_MIN_SHARE = 0.0005
"""Half a per mille: at most 2,000 nodes per depth, a few MB of HTML at worst."""


@dataclass(frozen=True, slots=True)
class CallTreeNode:
    """One node of the call tree. ``hidden`` > 0 marks a "N smaller frames hidden" node."""

    name: str
    file: str
    kind: NodeKind
    total: float
    self: float
    children: tuple[CallTreeNode, ...] = ()
    hidden: int = 0

    def count(self) -> int:
        """Number of nodes in this subtree (this one included)."""
        n, todo = 0, [self]
        while todo:
            node = todo.pop()
            n += 1
            todo.extend(node.children)
        return n


def build_calltree(
    profile: Profile, min_share: float = DEFAULT_MIN_SHARE, source_root: str | None = None
) -> CallTreeNode:
    """Merge the profile's stacks into a call tree, pruning nodes below ``min_share``.

    The root is a synthetic ``all`` node whose total is the profile's total weight (stacks
    with no frames add to its self weight).
    """
    fn_ids: dict[FunctionKey, int] = {}
    keys: list[FunctionKey] = []
    fn_of: list[int] = []
    for fr in profile.frames:
        k = fr.function
        idx = fn_ids.get(k)
        if idx is None:
            idx = fn_ids[k] = len(keys)
            keys.append(k)
        fn_of.append(idx)
    # Flat arrays instead of a node object per path: a 100 MB profile has ~350k paths, and
    # as many small objects cost seconds in allocation and garbage collection.
    # Keys are plain ints (parent * width + function), not tuples: the garbage collector
    # does not track ints, and tracking 350k tuples doubled the build time.
    width = len(keys) + 1
    child_of: dict[int, int] = {}
    totals = [0.0]
    selfs = [0.0]
    fns = [-1]
    parents = [-1]
    for (stack, _lid), w in profile.samples.items():
        totals[0] += w
        node = 0
        for fid in stack:
            fn = fn_of[fid]
            key = node * width + fn
            c = child_of.get(key)
            if c is None:
                c = child_of[key] = len(totals)
                totals.append(0.0)
                selfs.append(0.0)
                fns.append(fn)
                parents.append(node)
            totals[c] += w
            node = c
        selfs[node] += w
    classify = make_classifier(source_root).kind_of()
    threshold = totals[0] * min_share
    kinds: dict[int, Kind] = {}

    def make(node: int, kids: tuple[CallTreeNode, ...]) -> CallTreeNode:
        fn = fns[node]
        if fn < 0:
            return CallTreeNode("all", "", "root", totals[node], selfs[node], kids)
        key = keys[fn]
        kind = kinds.get(fn)
        if kind is None:
            kind = kinds[fn] = classify(key.name, key.file)
        return CallTreeNode(key.name, key.file, kind, totals[node], selfs[node], kids)

    def kept(c: int) -> bool:
        return totals[c] >= threshold and totals[c] > 0

    # A kept node's parent is kept (a parent weighs at least as much as its child), so the
    # hidden nodes whose parent is kept are exactly the roots of the hidden subtrees.
    n = len(totals)
    size = [1] * n  # nodes in each subtree; a child's id is always above its parent's
    for c in range(n - 1, 0, -1):
        size[parents[c]] += size[c]
    kept_children: dict[int, list[int]] = {}
    hidden_total: dict[int, float] = {}
    hidden_count: dict[int, int] = {}
    for c in range(1, n):
        parent = parents[c]
        if kept(c):
            kept_children.setdefault(parent, []).append(c)
        elif parent == 0 or kept(parent):
            hidden_total[parent] = hidden_total.get(parent, 0.0) + totals[c]
            hidden_count[parent] = hidden_count.get(parent, 0) + size[c]

    # Iterative post-order: recursive profiles can be deeper than Python's recursion limit.
    done: dict[int, CallTreeNode] = {}
    todo: list[tuple[int, bool]] = [(0, False)]
    while todo:
        node, expanded = todo.pop()
        order = sorted(kept_children.get(node, ()), key=lambda c: (-totals[c], fns[c]))
        if not expanded:
            todo.append((node, True))
            todo.extend((c, False) for c in order)
            continue
        out = [done.pop(c) for c in order]
        count = hidden_count.get(node, 0)
        if count:
            label = f"{count} smaller frame{'s' if count != 1 else ''} hidden"
            out.append(CallTreeNode(label, "", "hidden", hidden_total[node], 0.0, (), count))
        done[node] = make(node, tuple(out))
    return done[0]

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


class _Mutable:
    __slots__ = ("children", "self", "total")

    def __init__(self) -> None:
        self.total = 0.0
        self.self = 0.0
        self.children: dict[int, _Mutable] = {}


def _size(node: _Mutable) -> int:
    n, todo = 0, [node]
    while todo:
        cur = todo.pop()
        n += 1
        todo.extend(cur.children.values())
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
    root = _Mutable()
    for (stack, _lid), w in profile.samples.items():
        root.total += w
        node = root
        for fid in stack:
            fn = fn_of[fid]
            child = node.children.get(fn)
            if child is None:
                child = node.children[fn] = _Mutable()
            child.total += w
            node = child
        node.self += w
    classify = make_classifier(source_root).kind_of()
    threshold = root.total * min_share
    kinds: dict[int, Kind] = {}

    def leaf_of(fn: int, node: _Mutable, children: tuple[CallTreeNode, ...]) -> CallTreeNode:
        if fn < 0:
            return CallTreeNode("all", "", "root", node.total, node.self, children)
        key = keys[fn]
        kind = kinds.get(fn)
        if kind is None:
            kind = kinds[fn] = classify(key.name, key.file)
        return CallTreeNode(key.name, key.file, kind, node.total, node.self, children)

    # Iterative post-order: recursive profiles can be deeper than Python's recursion limit.
    done: dict[int, CallTreeNode] = {}
    todo: list[tuple[int, _Mutable, bool]] = [(-1, root, False)]
    while todo:
        fn, node, expanded = todo.pop()
        order = sorted(node.children.items(), key=lambda kv: (-kv[1].total, kv[0]))
        if not expanded:
            todo.append((fn, node, True))
            todo.extend(
                (cfn, child, False)
                for cfn, child in order
                if child.total >= threshold and child.total > 0
            )
            continue
        kept: list[CallTreeNode] = []
        hidden_total = 0.0
        hidden_count = 0
        for _cfn, child in order:
            if child.total >= threshold and child.total > 0:
                kept.append(done.pop(id(child)))
            else:
                hidden_total += child.total
                hidden_count += _size(child)
        if hidden_count:
            label = f"{hidden_count} smaller frame{'s' if hidden_count != 1 else ''} hidden"
            kept.append(CallTreeNode(label, "", "hidden", hidden_total, 0.0, (), hidden_count))
        done[id(node)] = leaf_of(fn, node, tuple(kept))
    return done[id(root)]

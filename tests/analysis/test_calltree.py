"""The merged, pruned call tree behind the flame graph."""

from __future__ import annotations

from hotpath.analysis.calltree import CallTreeNode, build_calltree
from hotpath.model import Frame, Profile


def _child(node: CallTreeNode, name: str) -> CallTreeNode:
    return next(c for c in node.children if c.name == name)


def test_calltree_merges_lines_of_a_function_and_keeps_totals() -> None:
    p = Profile()
    p.add_frames([Frame("main", "a.py", 1), Frame("f", "a.py", 10)], 3)
    p.add_frames([Frame("main", "a.py", 2), Frame("f", "a.py", 11)], 2)
    p.add_frames([Frame("main", "a.py", 2)], 1)
    p.add_frames([], 4)  # samples with no stack count in the root only
    root = build_calltree(p, min_share=0.0)
    assert (root.name, root.total, root.self) == ("all", 10, 4)
    main = _child(root, "main")
    assert (main.total, main.self, len(main.children)) == (6, 1, 1)
    assert _child(main, "f").total == 5
    assert root.count() == 3


def test_calltree_keeps_recursion_as_depth() -> None:
    p = Profile()
    p.add_frames([Frame("r", "a.py", 1), Frame("r", "a.py", 2), Frame("r", "a.py", 3)], 5)
    root = build_calltree(p, min_share=0.0)
    depth, node = 0, root
    while node.children:
        node = node.children[0]
        depth += 1
    assert depth == 3 and node.self == 5


def test_calltree_prunes_small_nodes_into_one_hidden_node_per_parent() -> None:
    p = Profile()
    p.add_frames([Frame("main", "a.py"), Frame("big", "a.py")], 980)
    for i in range(20):
        p.add_frames([Frame("main", "a.py"), Frame(f"s{i}", "a.py"), Frame("x", "b.py")], 1)
    root = build_calltree(p, min_share=0.01)
    main = _child(root, "main")
    hidden = [c for c in main.children if c.kind == "hidden"]
    assert len(hidden) == 1
    assert hidden[0].hidden == 40 and hidden[0].total == 20
    assert hidden[0].name == "40 smaller frames hidden"
    assert sum(c.total for c in main.children) == main.total == 1000


def test_calltree_deep_stack_does_not_hit_recursion_limit() -> None:
    p = Profile()
    p.add_frames([Frame(f"f{i}", "a.py") for i in range(5000)], 1)
    root = build_calltree(p)
    assert root.count() == 5001


def test_calltree_classifies_kinds() -> None:
    p = Profile()
    p.add_frames([Frame("main", "app/x.py"), Frame("{built-in method sorted}", "")], 1)
    root = build_calltree(p, min_share=0.0)
    main = _child(root, "main")
    assert (root.kind, main.kind, main.children[0].kind) == ("root", "app", "native")

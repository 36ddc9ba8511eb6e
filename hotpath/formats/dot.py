"""Graphviz DOT: written from the analysis (:mod:`hotpath.report.dot`), never read.

The registry lists it so ``convert -o graph.dot`` and ``--to dot`` resolve, and so a DOT
file given as input gets a clear error instead of being misread as folded stacks.
"""

from __future__ import annotations

from hotpath.formats.spec import FormatSpec

SPEC = FormatSpec(
    name="dot",
    description="Graphviz DOT call graph of the analysis (write only; render with `dot -Tsvg`)",
    extensions=(".dot", ".gv"),
    sniff=lambda head: False,
    read=None,  # the registry says "hotpath writes dot files but cannot read them back"
)

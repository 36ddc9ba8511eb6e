"""Graphviz DOT: written from the analysis (:mod:`hotpath.report.dot`), never read.

The registry lists it so ``convert -o graph.dot`` and ``--to dot`` resolve, and so a DOT
file given as input gets a clear error instead of being misread as folded stacks.
"""

from __future__ import annotations

from typing import BinaryIO

from hotpath.errors import ProfileParseError
from hotpath.formats.spec import FormatSpec
from hotpath.model import Profile


def _read(stream: BinaryIO, path: str) -> Profile:
    raise ProfileParseError(path, "hotpath writes DOT call graphs but cannot read them back")


SPEC = FormatSpec(
    name="dot",
    description="Graphviz DOT call graph of the analysis (write only; render with `dot -Tsvg`)",
    extensions=(".dot", ".gv"),
    sniff=lambda head: False,
    read=_read,
)

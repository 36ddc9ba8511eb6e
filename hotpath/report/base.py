"""The renderer contract shared by every report module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from hotpath.analysis.results import Analysis

RenderFn = Callable[[Analysis, IO[Any]], None]


@dataclass(frozen=True)
class Renderer:
    """A report format: its name (``--format``), file extension, and render function."""

    name: str
    extension: str
    render: RenderFn
    binary: bool = False

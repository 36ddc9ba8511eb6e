"""Renderers: each takes an :class:`~hotpath.analysis.results.Analysis` and a stream.

Every renderer declares its name, file extension and whether it writes binary; the CLI's
``--format`` choices come from :data:`REGISTRY`. A renderer's module is imported when it is
first looked up: ``analyze --format json`` need not import rich and the HTML page (40 ms).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import ClassVar

from hotpath.report.base import Renderer

__all__ = ["REGISTRY", "Renderer"]


class _Registry(Mapping[str, Renderer]):
    _modules: ClassVar[dict[str, str]] = {
        "text": "hotpath.report.text",
        "json": "hotpath.report.json",
        "markdown": "hotpath.report.markdown",
        "html": "hotpath.report.html",
    }

    def __getitem__(self, name: str) -> Renderer:
        renderer: Renderer = importlib.import_module(self._modules[name]).RENDERER
        return renderer

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


REGISTRY: Mapping[str, Renderer] = _Registry()

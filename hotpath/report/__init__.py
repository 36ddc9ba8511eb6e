"""Renderers: each takes an :class:`~hotpath.analysis.summary.Analysis` and a stream.

Every renderer declares its name, file extension and whether it writes binary; the CLI's
``--format`` choices come from :data:`REGISTRY`.
"""

from __future__ import annotations

from hotpath.report.base import Renderer

__all__ = ["REGISTRY", "Renderer"]


def _registry() -> dict[str, Renderer]:
    from hotpath.report import html, markdown, text
    from hotpath.report import json as json_report

    renderers = [text.RENDERER, json_report.RENDERER, markdown.RENDERER, html.RENDERER]
    return {r.name: r for r in renderers}


REGISTRY: dict[str, Renderer] = _registry()

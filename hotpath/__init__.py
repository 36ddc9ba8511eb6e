"""hotpath: find the hot paths of a Python web monolith and what to rewrite in Rust.

The public API: read profiles into the one :class:`Profile` model, analyse them, render.

The package root is a face, not a hub: ``import hotpath.middleware`` runs in every web
worker and must not pay for the readers and the analysis, so the names below are imported
on first use (module ``__getattr__``); only the version and the error classes load eagerly.
"""

from __future__ import annotations

import typing as _typing

from hotpath._lazy import lazy_attributes as _lazy_attributes
from hotpath._version import __version__
from hotpath.errors import (
    CollectionError,
    ConfigError,
    HotpathError,
    LimitExceeded,
    MergeError,
    ProfileParseError,
    UsageError,
)

if _typing.TYPE_CHECKING:  # for type checkers; at run time __getattr__ imports these
    from hotpath.analysis.callgraph import CallGraph, build_callgraph
    from hotpath.analysis.options import AnalyzeOptions
    from hotpath.analysis.pipeline import analyze
    from hotpath.analysis.results import Analysis
    from hotpath.formats import read_profile, read_profiles, write_profile
    from hotpath.model import Frame, FunctionKey, Metadata, Profile, merge

_LAZY = {
    "Analysis": "hotpath.analysis.results",
    "AnalyzeOptions": "hotpath.analysis.options",
    "CallGraph": "hotpath.analysis.callgraph",
    "build_callgraph": "hotpath.analysis.callgraph",
    "analyze": "hotpath.analysis.pipeline",
    "read_profile": "hotpath.formats",
    "read_profiles": "hotpath.formats",
    "write_profile": "hotpath.formats",
    "Frame": "hotpath.model",
    "FunctionKey": "hotpath.model",
    "Metadata": "hotpath.model",
    "Profile": "hotpath.model",
    "merge": "hotpath.model",
}

__all__ = [
    "Analysis",
    "AnalyzeOptions",
    "CallGraph",
    "CollectionError",
    "ConfigError",
    "Frame",
    "FunctionKey",
    "HotpathError",
    "LimitExceeded",
    "MergeError",
    "Metadata",
    "Profile",
    "ProfileParseError",
    "UsageError",
    "__version__",
    "analyze",
    "build_callgraph",
    "merge",
    "read_profile",
    "read_profiles",
    "write_profile",
]


if not _typing.TYPE_CHECKING:  # type checkers see the imports above instead
    __getattr__, __dir__ = _lazy_attributes(__name__, _LAZY, __all__)

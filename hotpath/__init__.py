"""hotpath: find the hot paths of a Python web monolith and what to rewrite in Rust.

The public API: read profiles into the one :class:`Profile` model, analyse them, render.
"""

from __future__ import annotations

__version__ = "0.1.0"

from hotpath.analysis.callgraph import CallGraph, build_callgraph
from hotpath.analysis.options import AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.analysis.results import Analysis
from hotpath.errors import (
    CollectionError,
    ConfigError,
    HotpathError,
    LimitExceeded,
    MergeError,
    ProfileParseError,
    UsageError,
)
from hotpath.formats import read_profile, read_profiles, write_profile
from hotpath.model import Frame, FunctionKey, Metadata, Profile, merge

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

"""Options given as an object and/or keywords, as the middleware and the capture take them."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, TypeVar

from hotpath.errors import ConfigError

T = TypeVar("T")


def with_overrides(cls: type[T], base: T | None, overrides: dict[str, Any], what: str) -> T:
    """``base`` (default ``cls()``) with the keyword ``overrides`` applied; a name ``cls``
    has no field for is a :class:`ConfigError` naming ``what`` ("capture", ...)."""
    start = base if base is not None else cls()
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown {what} option(s): {', '.join(unknown)}")
    return replace(start, **overrides) if overrides else start  # type: ignore[type-var]

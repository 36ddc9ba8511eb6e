"""Loading and dumping the JSON documents of JSON-based profile formats.

Every JSON reader goes through :func:`load_json`, so a streaming parser for huge files can
replace it in one place. orjson is used when installed (several times faster on big files),
the standard library otherwise; both raise the same :class:`json.JSONDecodeError`.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from hotpath.errors import ProfileParseError

try:  # pragma: no branch - which one depends on the environment
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency, json is the fallback
    _orjson = None  # type: ignore[assignment]


def load_json(stream: BinaryIO, path: str) -> Any:
    """Parse the whole stream as JSON; bad JSON raises ProfileParseError with its line."""
    data = stream.read()
    try:
        if _orjson is not None:
            return _orjson.loads(data)
        return json.loads(data)
    except json.JSONDecodeError as exc:
        reason = exc.msg
        if exc.doc and exc.pos >= len(exc.doc) - 1:
            reason += " (the file looks truncated)"
        raise ProfileParseError(path, f"invalid JSON: {reason}", exc.lineno) from exc
    except (ValueError, RecursionError) as exc:  # bad UTF-8 (json), nesting too deep
        raise ProfileParseError(path, f"invalid JSON: {exc}") from exc


def dump_json(doc: Any) -> bytes:
    """Compact UTF-8 JSON of ``doc``."""
    if _orjson is not None:
        return _orjson.dumps(doc)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

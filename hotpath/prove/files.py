"""Reading capture files (``hotpath capture``) and replay results (``hotpath replay``).

Both are JSON documents checked field by field where they are read: a file that is not what
it claims fails with :class:`~hotpath.errors.ProfileParseError` naming the file, the line
(a capture holds one record per line) and the problem. Nothing in a file is imported or run.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from hotpath.errors import ProfileParseError
from hotpath.prove.capture import FORMAT, VERSION

REPLAY_FORMAT = "hotpath-replay"
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Record:
    """One recorded call: argument nodes, result node or exception type, times."""

    n: int
    args: list[Any]
    kwargs: dict[str, Any]
    exact: bool
    result: Any
    result_exact: bool
    raised: str | None
    wall_s: float
    cpu_s: float
    line: int


@dataclass
class CaptureFile:
    """One or more capture files of the same function, merged."""

    function: str
    file: str
    line: int | None
    params: list[str]
    calls: int
    requests: int | None
    elapsed_s: float
    records: list[Record] = field(default_factory=list)
    star: str | None = None
    """The name of the ``*args`` parameter, if any (``params``: the positional ones)."""
    paths: list[str] = field(default_factory=list)

    @property
    def calls_per_request(self) -> float | None:
        return self.calls / self.requests if self.requests else None

    @property
    def call_rate(self) -> float | None:
        """Calls per second while capturing (processes added up)."""
        return self.calls / self.elapsed_s if self.elapsed_s > 0 else None


def _load(path: str) -> Any:
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ProfileParseError(
                path, f"file of {size} bytes is over the {MAX_FILE_BYTES} limit"
            )
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ProfileParseError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ProfileParseError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise ProfileParseError(path, f"invalid JSON: {exc}") from None


def _number(
    doc: dict[str, Any], key: str, path: str, line: int | None = None, optional: bool = False
) -> float:
    v = doc.get(key)
    if v is None and optional:
        return 0.0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise ProfileParseError(
            path, f"{key} must be a non-negative number, not {str(v)[:40]!r}", line
        )
    if v > 2**63:
        raise ProfileParseError(path, f"{key} is out of range", line)
    return float(v)


def read_capture(path: str) -> CaptureFile:
    """One capture file, checked."""
    doc = _load(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ProfileParseError(path, f'not a hotpath capture file (no "format": "{FORMAT}")', 1)
    if doc.get("version") != VERSION:
        raise ProfileParseError(
            path, f"capture version {str(doc.get('version'))[:20]!r} is not {VERSION}", 1
        )
    function = doc.get("function")
    code = doc.get("code")
    params = doc.get("params")
    if not isinstance(function, str) or ":" not in function:
        raise ProfileParseError(path, "function must be module:qualname", 1)
    if not isinstance(code, dict) or not isinstance(code.get("file"), str):
        raise ProfileParseError(path, "code must name the function's file", 1)
    line = code.get("line")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 0):
        raise ProfileParseError(path, "code.line must be a line number", 1)
    if not isinstance(params, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) for p in params
    ):
        raise ProfileParseError(path, "params must be a list of {name, kind}", 1)
    requests = doc.get("requests")
    if requests is not None:
        requests = int(_number(doc, "requests", path, 1))
    records_doc = doc.get("records")
    if not isinstance(records_doc, list):
        raise ProfileParseError(path, "records must be a list", 1)
    records = [_record(r, path, i + 2) for i, r in enumerate(records_doc)]
    return CaptureFile(
        function=function,
        file=code["file"],
        line=line,
        params=[
            p["name"]
            for p in params
            if p.get("kind") in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
        ],
        star=next((p["name"] for p in params if p.get("kind") == "VAR_POSITIONAL"), None),
        calls=int(_number(doc, "calls", path, 1)),
        requests=requests,
        elapsed_s=_number(doc, "elapsed_s", path, 1),
        records=records,
        paths=[path],
    )


def _record(r: Any, path: str, line: int) -> Record:
    if not isinstance(r, dict):
        raise ProfileParseError(path, "a record must be an object", line)
    args, kwargs = r.get("args"), r.get("kwargs")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ProfileParseError(path, "a record needs args (a list) and kwargs (an object)", line)
    raised = r.get("raised")
    if raised is not None and not isinstance(raised, str):
        raise ProfileParseError(path, "raised must be an exception type name", line)
    if raised is None and "result" not in r:
        raise ProfileParseError(path, "a record needs a result or raised", line)
    n = r.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ProfileParseError(path, "n must be the call's number", line)
    return Record(
        n=n,
        args=args,
        kwargs=kwargs,
        exact=r.get("exact") is True,
        result=r.get("result"),
        result_exact=r.get("result_exact") is True,
        raised=raised,
        wall_s=_number(r, "wall_s", path, line),
        cpu_s=_number(r, "cpu_s", path, line),
        line=line,
    )


def read_captures(paths: list[str]) -> CaptureFile:
    """Capture files of one function (one per process, say), merged into one."""
    if not paths:
        raise ProfileParseError(None, "no capture file given")
    merged = read_capture(paths[0])
    for path in paths[1:]:
        c = read_capture(path)
        if c.function != merged.function:
            raise ProfileParseError(
                path, f"captures {c.function}, not {merged.function} like {merged.paths[0]}"
            )
        merged.records.extend(c.records)
        merged.calls += c.calls
        merged.elapsed_s = max(merged.elapsed_s, c.elapsed_s)  # processes ran side by side
        if c.requests is not None:
            merged.requests = (merged.requests or 0) + c.requests
        merged.paths.append(path)
    return merged


def read_replay(path: str) -> dict[str, Any]:
    """A replay result (``hotpath replay -o``), checked; the fields the advisor reads."""
    doc = _load(path)
    if not isinstance(doc, dict) or doc.get("format") != REPLAY_FORMAT:
        raise ProfileParseError(
            path, f'not a hotpath replay result (no "format": "{REPLAY_FORMAT}")', 1
        )
    for key in ("function", "file", "summary", "replacement"):
        if not isinstance(doc.get(key), str):
            raise ProfileParseError(path, f"{key} must be a string", 1)
    speed = doc.get("speedup")
    if speed is not None:
        if not isinstance(speed, dict):
            raise ProfileParseError(path, "speedup must be an object", 1)
        for key in ("median", "low", "high"):
            v = _number(speed, key, path, 1)
            if v <= 0:
                raise ProfileParseError(path, f"speedup.{key} must be positive", 1)
    if not isinstance(doc.get("all_equal"), bool):
        raise ProfileParseError(path, "all_equal must be true or false", 1)
    return doc

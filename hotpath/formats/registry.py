"""The registry of formats, content-based detection, and reading an open stream.

The file's extension is only a tie-breaker: the content decides.
"""

from __future__ import annotations

import io
import zlib
from typing import BinaryIO

from hotpath.errors import ProfileParseError, UsageError
from hotpath.formats import (
    austin,
    callgrind,
    chrome,
    dot,
    flamegraph_svg,
    folded,
    hotpath_file,
    pprof,
    pstats,
    pyinstrument,
    pyinstrument_tree,
    scalene,
    speedscope,
)
from hotpath.formats.spec import FormatSpec
from hotpath.formats.unreadable import identify as identify_unreadable
from hotpath.model import Profile, Source

SNIFF_BYTES = 64 * 1024


REGISTRY: dict[str, FormatSpec] = {
    s.name: s
    for s in (
        hotpath_file.SPEC,
        pprof.SPEC,
        folded.SPEC,
        speedscope.SPEC,
        pyinstrument.SPEC,
        pstats.SPEC,
        dot.SPEC,
        flamegraph_svg.SPEC,
        pyinstrument_tree.HTML_SPEC,
        pyinstrument_tree.JSON_SPEC,
        chrome.SPEC,
        callgrind.SPEC,
        austin.TEXT_SPEC,
        austin.MOJO_SPEC,
        scalene.SPEC,
    )
}

# Detection order: the most specific sniffers first; folded accepts almost any text.
_DETECTION_ORDER = [n for n in REGISTRY if n != "folded"] + ["folded"]


def format_names() -> list[str]:
    return list(REGISTRY)


def readable_format_names() -> list[str]:
    return [n for n, s in REGISTRY.items() if s.read is not None]


def writable_format_names() -> list[str]:
    return [n for n, s in REGISTRY.items() if s.write is not None]


def detect(head: bytes, path: str = "") -> FormatSpec:
    """Pick the format of a file from its first bytes (and its name, to break ties)."""
    matches = [REGISTRY[n] for n in _DETECTION_ORDER[:-1] if REGISTRY[n].sniff(head)]
    if not matches:
        # Files hotpath knows it does not read say what they are, before the folded fallback.
        known = identify_unreadable(head)
        if known is not None:
            raise ProfileParseError(path or None, known.message)
        if REGISTRY["folded"].sniff(head):
            matches = [REGISTRY["folded"]]
    if not matches and _looks_like_plain_text(head):
        # Text that is not JSON: read it as folded stacks, whose reader names the bad line.
        return REGISTRY["folded"]
    if not matches:
        raise ProfileParseError(
            path or None,
            "not a profile format hotpath knows (expected one of: "
            + ", ".join(format_names())
            + ")",
        )
    if len(matches) > 1:
        lowered = path.lower()
        for spec in matches:
            if any(lowered.endswith(ext) for ext in spec.extensions):
                return spec
    return matches[0]


def _looks_like_plain_text(head: bytes) -> bool:
    if b"\x00" in head or head.lstrip()[:1] in (b"{", b"["):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 4
    return True


def _peek(stream: BinaryIO, path: str) -> bytes:
    try:
        if isinstance(stream, io.BufferedReader):
            return stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        pos = stream.tell()
        head = stream.read(SNIFF_BYTES)
        stream.seek(pos)
        return head
    except (OSError, EOFError, zlib.error) as exc:
        raise ProfileParseError(path, f"cannot read: {exc}") from exc


def spec_of_stream(stream: BinaryIO, display: str, fmt: str | None = None) -> FormatSpec:
    """The format of an open stream: ``fmt`` when given, else detected from its first bytes."""
    if fmt is not None and fmt not in REGISTRY:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(format_names())}")
    if fmt is not None:
        return REGISTRY[fmt]
    head = _peek(stream, display)
    if not head.strip():
        raise ProfileParseError(display, "file is empty")
    return detect(head, display)


def read_stream(
    stream: BinaryIO, display: str, fmt: str | None = None
) -> tuple[Profile, FormatSpec]:
    """Read a profile from an open (already gunzipped) binary stream."""
    spec = spec_of_stream(stream, display, fmt)
    if spec.read is None:
        raise ProfileParseError(
            display, f"hotpath writes {spec.name} files but cannot read them back"
        )
    try:
        profile = spec.read(stream, display)
    except (OSError, EOFError, zlib.error) as exc:
        # Truncated or corrupt gzip streams surface here, mid-read.
        raise ProfileParseError(display, f"cannot read: {exc}") from exc
    if not profile.meta.sources:
        profile.meta.sources.append(Source(display, spec.name))
    return profile, spec

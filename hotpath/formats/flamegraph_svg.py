"""Flame graph SVGs: py-spy's default output (``py-spy record -o profile.svg``, drawn by
inferno) and flamegraph.pl's.

Each frame of the graph is ``<g><title>NAME (N samples, P%)</title><rect x= y= width= .../>``;
the root is ``all``. The stacks are rebuilt from the geometry: a rect's depth is its row (its
``y``, counted from the ``all`` row, whichever way the graph grows), its parent the rect one row
closer to the root whose horizontal extent contains it. inferno also writes the exact integer
position and width in samples (``fg:x``, ``fg:w``), used when present; flamegraph.pl's pixel
positions are floats and are matched with a tolerance. A frame's self count is its own count
minus its children's. NAME is parsed like a folded frame (``name (file:line)``), and py-spy's
``thread (TID): NAME`` / ``process PID:"cmdline"`` root frames become labels.

Frames narrower than the drawing's minimum width (inferno: 0.1 pixel) are not in the file at
all; their samples are then self time of their parent.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from hotpath.errors import LimitExceeded, ProfileParseError
from hotpath.formats.folded import _label_of_root, parse_frame
from hotpath.formats.spec import FormatSpec
from hotpath.model import Labels, Metadata, Profile

_CHUNK = 1 << 20
_MAX_PENDING = 16 * 1024**2
"""Longest run of text with no complete frame in it (bounds memory on hostile input)."""
_FRAME_RE = re.compile(r"<title>([^<]*)</title>\s*<rect\b([^>]*)>", re.S)
_ATTR_RE = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')
_NUMBER_RE = re.compile(r"\d[\d,]*(?:\.\d+)?\Z")
_GRAPH_TITLE_RE = re.compile(r'<text id="title"[^>]*>([^<]*)</text>')
_MAX_COUNT = float(2**63)


@dataclass(slots=True)
class _Rect:
    name: str
    count: float
    x: float
    width: float
    y: float


def _number(text: str, what: str, path: str) -> float:
    try:
        value = float(text.rstrip("%").replace(",", ""))
    except ValueError:
        raise ProfileParseError(
            path, f"flame graph frame: {what} {text[:40]!r} is not a number"
        ) from None
    if not (0 <= value < _MAX_COUNT):
        raise ProfileParseError(path, f"flame graph frame: {what} {text[:40]!r} is out of range")
    return value


def _rects(stream: BinaryIO, path: str, meta: Metadata) -> Iterator[_Rect]:
    """The frames of the SVG, read in blocks (the file is never held whole)."""
    buf = ""
    data = b""
    first = True
    while True:
        raw = stream.read(_CHUNK)
        data += raw
        try:
            text = data.decode("utf-8")
            data = b""
        except UnicodeDecodeError as exc:
            if raw and exc.start >= len(data) - 3:  # a character split across two blocks
                text, data = data[: exc.start].decode("utf-8"), data[exc.start :]
            else:
                raise ProfileParseError(path, "flame graph SVG is not UTF-8 text") from exc
        buf += text
        if first:  # the graph's title (py-spy: its command line) precedes the frames
            first = False
            m = _GRAPH_TITLE_RE.search(buf)
            if m:
                meta.attrs["title"] = html.unescape(m.group(1))[:1000]
        end = 0
        for m in _FRAME_RE.finditer(buf):
            end = m.end()
            yield _rect(m.group(1), m.group(2), path)
        buf = buf[end:]
        if not raw:
            return
        if len(buf) > _MAX_PENDING:
            raise LimitExceeded(path, "flame graph SVG: more than 16 MiB without a frame")


def _title(title: str, path: str) -> tuple[str, float]:
    """(frame name, count) of ``NAME (N samples, P%)``; parsed from the right, in linear time
    (a regular expression over hostile titles could backtrack for minutes)."""
    text = html.unescape(title)
    at = text.rfind(" (")
    tail = text[at + 2 : -2] if at > 0 and text.endswith("%)") else ""
    count_text, _, percent = tail.rpartition(", ")
    number, _, unit = count_text.partition(" ")
    if not (number and unit and percent) or _NUMBER_RE.match(number) is None:
        raise ProfileParseError(
            path, f"flame graph frame {text[:80]!r} is not 'NAME (N samples, P%)'"
        )
    return text[:at], _number(number, "sample count", path)


def _rect(title: str, attr_text: str, path: str) -> _Rect:
    name, count = _title(title, path)
    attrs = dict(_ATTR_RE.findall(attr_text))
    try:
        if "fg:x" in attrs and "fg:w" in attrs:
            x, width = attrs["fg:x"], attrs["fg:w"]
        else:
            x, width = attrs["x"], attrs["width"]
        y = attrs["y"]
    except KeyError as exc:
        raise ProfileParseError(path, f"flame graph frame rect lacks {exc.args[0]!r}") from None
    return _Rect(
        name,
        count,
        _number(x, "x", path),
        _number(width, "width", path),
        _number(y, "y", path),
    )


def read(stream: BinaryIO, path: str) -> Profile:
    """Rebuild the stacks of a flame graph SVG; weights are the titles' sample counts."""
    profile = Profile(Metadata(unit="samples"))
    meta = profile.meta
    rects = list(_rects(stream, path, meta))
    roots = [r for r in rects if r.name == "all"]
    if not rects:
        raise ProfileParseError(path, "no flame graph frames (<title>/<rect> pairs) found")
    if len(roots) != 1:
        raise ProfileParseError(path, f"expected one 'all' root frame, found {len(roots)}")
    root = roots[0]
    rows = sorted({r.y for r in rects})
    if root.y == rows[-1]:
        rows.reverse()  # a flame graph grows upwards: the root is the lowest row
    elif root.y != rows[0]:
        raise ProfileParseError(path, "the 'all' frame is not in the first or the last row")
    depth_of = {y: d for d, y in enumerate(rows)}
    by_depth: list[list[int]] = [[] for _ in rows]
    for i, r in enumerate(rects):
        by_depth[depth_of[r.y]].append(i)
    if by_depth[0] != [rects.index(root)]:
        raise ProfileParseError(path, "frames other than 'all' share the root row")
    # inferno's fg:* are exact integers; pixel or percent positions need a tolerance.
    scale = max(root.width, 1e-300)
    eps = scale * 1e-6
    parent: dict[int, int] = {}
    children_count: dict[int, float] = {}
    for d in range(1, len(by_depth)):
        above = sorted(by_depth[d - 1], key=lambda i: rects[i].x)
        starts = [rects[i].x for i in above]
        for i in by_depth[d]:
            r = rects[i]
            k = bisect.bisect_right(starts, r.x + eps) - 1
            if k < 0 or r.x + r.width > rects[above[k]].x + rects[above[k]].width + eps:
                raise ProfileParseError(
                    path, f"flame graph frame {r.name[:80]!r} lies outside every frame below it"
                )
            parent[i] = above[k]
            children_count[above[k]] = children_count.get(above[k], 0.0) + r.count
    stacks: dict[int, tuple[tuple[int, ...], Labels]] = {}
    root_i = by_depth[0][0]
    stacks[root_i] = ((), ())
    for d in range(1, len(by_depth)):
        for i in by_depth[d]:
            stack, labels = stacks[parent[i]]
            name = rects[i].name
            lab = _label_of_root(name) if not stack else None
            if lab is not None:
                stacks[i] = (stack, tuple(sorted({*labels, *lab})))
            else:
                stacks[i] = ((*stack, profile.intern_frame(parse_frame(name))), labels)
    for i, (stack, labels) in stacks.items():
        own = rects[i].count - children_count.get(i, 0.0)
        if own > 1e-9 * max(rects[i].count, 1.0):
            profile.add(stack, own, profile.intern_labels(labels))
    if not profile.samples:
        raise ProfileParseError(path, "flame graph has no samples")
    meta.sample_count = int(root.count)
    return profile


def sniff(head: bytes) -> bool:
    if b"<svg" not in head:
        return False
    return b"jonhoo/inferno" in head or b"Flame graph stack visualization" in head


SPEC = FormatSpec(
    name="flamegraph-svg",
    description="flame graph SVG (py-spy's default output, inferno, flamegraph.pl)",
    extensions=(".svg",),
    sniff=sniff,
    read=read,
)

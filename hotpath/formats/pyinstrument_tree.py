"""pyinstrument's rendered outputs that embed its frame tree: ``-r html`` and ``-r json``.

- **HTML** (pyinstrument 5.x): the page embeds ``const sessionData = {"session": {...},
  "frame_tree": {...}}``. The tree is unprocessed: every node has the session's identifier
  (``name\\0file\\0firstline``), its inclusive ``time`` and ``attributes`` (``c<Class>``,
  ``l<line>`` … → seconds). pyinstrument 4.x pages embed the JSON renderer's tree instead;
  both are read.
- **JSON** (``-r json``, the JSON renderer): ``{"start_time", "duration", "sample_count",
  "cpu_time", "root_frame": {"function", "file_path", "line_no", "time", "class_name",
  "children", ...}}``. pyinstrument runs its default processors before writing it (importlib
  frames and frames under 1% are removed, their time staying with their caller): the file
  holds that view, not every frame of the session.

Each node's self time (its time minus its children's; pyinstrument's ``[self]`` nodes are
folded back into their parent) becomes one stack, root first, read through the session
reader's identifier handling (:mod:`hotpath.formats.pyinstrument`), so a function read from
any pyinstrument output is the same frame: def line as ``first_line``; a method named
``Class.method`` when the tree names one class for it (one node called on several runtime
classes keeps its bare name).
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from hotpath.errors import ProfileParseError
from hotpath.formats.jsondoc import load_json
from hotpath.formats.pyinstrument import _number, _Reader
from hotpath.formats.spec import FormatSpec
from hotpath.model import Profile

_MARKER = "const sessionData = "
_SELF = "[self]"
_ROOT = "[root]"
_MAX_DEPTH = 10_000
"""Deepest tree accepted (a deeper one is hostile: real stacks stop near Python's limit)."""


def _node_identifier(node: dict[str, Any], shape: str, where: str, r: _Reader) -> str:
    """The session identifier of a tree node (``shape`` is 'session' or 'renderer')."""
    if shape == "session":
        ident = node.get("identifier")
        attrs = node.get("attributes") or {}
        if not isinstance(ident, str) or not isinstance(attrs, dict):
            r.fail(f"{where}: a frame needs a string 'identifier' and an 'attributes' object")
        classes = [k[1:] for k in attrs if isinstance(k, str) and k.startswith("c") and k[1:]]
        return f"{ident}\x01c{classes[0]}" if len(classes) == 1 else ident
    function, file, line = node.get("function"), node.get("file_path"), node.get("line_no")
    cls = node.get("class_name")
    if not isinstance(function, str) or not isinstance(file, str):
        r.fail(f"{where}: a frame needs string 'function' and 'file_path'")
    if function.startswith("[") and function.endswith("]"):
        return function
    if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < 2**31:
        r.fail(f"{where}: line_no {str(line)[:20]!r} is not a line number")
    ident = f"{function}\x00{file}\x00{line}"
    return f"{ident}\x01c{cls}" if isinstance(cls, str) and cls else ident


def _walk(root: object, shape: str, r: _Reader) -> None:
    """Add every node's self time as a stack (iteratively: trees can be deep)."""
    add = r.profile.add
    todo: list[tuple[object, list[str], str]] = [(root, [], "tree")]
    while todo:
        node, parents, where = todo.pop()
        if not isinstance(node, dict):
            r.fail(f"{where}: a frame must be an object")
        if len(parents) > _MAX_DEPTH:
            r.fail(f"{where}: the frame tree is deeper than {_MAX_DEPTH}")
        seconds = _number(node.get("time"))
        if seconds is None or seconds < 0:
            r.fail(f"{where}: time {str(node.get('time'))[:40]!r} is not a non-negative number")
        children = node.get("children", [])
        children = [] if children is None else children
        if not isinstance(children, list):
            r.fail(f"{where}: 'children' must be a list")
        ident = _node_identifier(node, shape, where, r)
        path = parents if ident in (_SELF, _ROOT) else [*parents, ident]
        own = seconds
        for i, child in enumerate(children):
            if isinstance(child, dict):
                own -= _number(child.get("time")) or 0.0
            todo.append((child, path, f"{where}.children[{i}]"))
        # pyinstrument prints times rounded to 1 µs: a parent whose children took all its
        # time can seem to keep up to 1 µs per child for itself.
        if own > 1e-6 * (len(children) + 1) and path:
            stack, lid = r.record(path, where)
            add(stack, own, lid)


def _read_tree(doc: object, path: str, html: bool) -> Profile:
    r = _Reader(path)
    if not isinstance(doc, dict):
        r.fail("not a pyinstrument render: the JSON is not an object")
    if "frame_tree" in doc:  # pyinstrument 5.x HTML
        session = doc.get("session")
        tree, shape = doc["frame_tree"], "session"
    elif "root_frame" in doc:  # the JSON renderer, and pyinstrument 4.x HTML
        session, tree, shape = doc, doc["root_frame"], "renderer"
    else:
        r.fail(f"not a pyinstrument {'HTML page' if html else 'JSON render'}: no frame tree")
    if tree is None:
        r.fail("the profile is empty (no frames)")
    _walk(tree, shape, r)
    if not r.profile.samples:
        r.fail("no samples (every frame has zero time)")
    meta = r.profile.meta
    if isinstance(session, dict):
        meta.duration_s = _number(session.get("duration"))
        count = session.get("sample_count")
        if isinstance(count, int) and not isinstance(count, bool) and 0 <= count < 2**63:
            meta.sample_count = count
        meta.interval_s = _number(session.get("min_interval"))
        for key in ("start_time", "cpu_time"):
            value = _number(session.get(key))
            if value is not None:
                meta.attrs[key] = repr(value)
        if isinstance(session.get("target_description"), str):
            meta.attrs["target"] = session["target_description"]
    meta.tools["pyinstrument"] = "unknown"
    return r.profile


def read_html(stream: BinaryIO, path: str) -> Profile:
    text = stream.read().decode("utf-8", "replace")
    at = text.find(_MARKER)
    if at < 0:
        raise ProfileParseError(
            path, "an HTML page without pyinstrument's 'const sessionData = {...}'"
        )
    try:
        doc, _end = json.JSONDecoder().raw_decode(text, at + len(_MARKER))
    except json.JSONDecodeError as exc:
        line = text.count("\n", 0, exc.pos) + 1
        raise ProfileParseError(path, f"invalid sessionData JSON: {exc.msg}", line) from exc
    except RecursionError as exc:
        raise ProfileParseError(path, "invalid sessionData JSON: nested too deeply") from exc
    return _read_tree(doc, path, html=True)


def read_json(stream: BinaryIO, path: str) -> Profile:
    return _read_tree(load_json(stream, path), path, html=False)


def sniff_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    if not (text.startswith(b"<!doctype html") or text.startswith(b"<html")):
        return False
    return b"pyinstrumentHTMLRenderer" in head or _MARKER.encode() in head


def sniff_json(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"root_frame"' in text and b'"sample_count"' in text


HTML_SPEC = FormatSpec(
    name="pyinstrument-html",
    description="pyinstrument's HTML page (-r html): the embedded session's frame tree",
    extensions=(".html", ".htm"),
    sniff=sniff_html,
    read=read_html,
)

JSON_SPEC = FormatSpec(
    name="pyinstrument-json",
    description="pyinstrument's JSON render (-r json): its processed frame tree",
    extensions=(".json",),
    sniff=sniff_json,
    read=read_json,
)

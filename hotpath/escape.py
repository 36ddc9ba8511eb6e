"""Untrusted text (function names, file paths, labels) made inert for each output format.

A profile is written by the program it profiles, so every name in it is untrusted: a name
may hold a newline followed by ``::error ...`` (a GitHub workflow command once it starts an
output line), ESC sequences (clear the terminal, set its title), characters XML forbids,
``@mentions`` and URLs (live in a Markdown comment), or ``;`` and newlines (a forged stack
in a folded file). Every writer passes names through the function for its format here:

=================  =====================================================================
:func:`text`       terminals and plain text: control, line-breaking and bidi characters
                   shown as ``\\xNN`` / ``\\uNNNN``, so a name stays on its line and
                   cannot move the cursor or reorder what follows
:func:`markdown`   a Markdown cell or sentence: :func:`text`, then no markup, no HTML,
                   no mention, no autolink
:func:`html_text`  HTML text and attribute values
:func:`json_text`  JSON documents: C1 controls, DEL and U+2028/9 as ``\\uNNNN`` too
:func:`xml_text`   XML text and attributes (JUnit): only characters XML 1.0 allows
:func:`annotation_data` / :func:`annotation_property`  GitHub workflow commands
:func:`folded_frame`  one frame of a collapsed stack (no ``;``, no line break)
:func:`dot_string`    a double-quoted DOT string
=================  =====================================================================

The visible forms are lossless enough to tell two hostile names apart and never
reintroduce the character they replace.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

__all__ = [
    "annotation_data",
    "annotation_property",
    "dot_string",
    "folded_frame",
    "html_text",
    "json_dumps",
    "lines",
    "markdown",
    "text",
    "xml_text",
]

# C0 controls, DEL, C1 controls (U+009B is a one-character CSI on some terminals), the Unicode
# line and paragraph separators, and the bidi embedding/override/isolate controls (text that
# reads differently from what it is: "Trojan source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 forbids beyond the C0 controls handled above: surrogates and U+FFFE/U+FFFF.
_XML_BAD = re.compile("[\ud800-\udfff\ufffe\uffff]")


_COLONS = re.compile(":(?=:)")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: object) -> str:
    """A name for a terminal or a text line: every control, line-breaking and bidi
    character becomes ``\\xNN`` / ``\\uNNNN``, so nothing starts a new line, moves the cursor
    or talks to the terminal; and ``::`` gets an invisible word joiner (U+2060) between its
    colons, because a table that wraps a long name may start a line anywhere in it, and a
    line starting with ``::`` is a GitHub workflow command."""
    return _COLONS.sub(":\u2060", _UNSAFE.sub(_visible, str(value)))


# Markdown: characters that start inline markup, tables, HTML, entities or headings.
_MD_MARKUP = re.compile(r"([\\`*_\[\]|~!$#])")
# GitHub turns these into links without any markup: URLs with a scheme, www. hosts, e-mail
# addresses and @mentions (users and teams). A word joiner (U+2060) after the first
# character breaks the recognition and shows nothing.
_AUTOLINK = re.compile(r"(?i)(:/)(/)|(w)(ww\.)|(@)(?=[\w\-])")
_JOINER = "\u2060"


def markdown(value: object) -> str:
    """Text for a Markdown table cell or sentence (GitHub-flavoured): no line break, no
    markup, no HTML, no entity, no mention, no autolink; it reads as the original text."""
    s = text(value)
    # Entities for < and >: a backslash does not stop an HTML tag on every forge.
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_MARKUP.sub(r"\\\1", s)

    def breaker(m: re.Match[str]) -> str:
        if m.group(1) is not None:  # scheme:// (the joiner goes between the slashes)
            return m.group(1) + _JOINER + m.group(2)
        if m.group(3) is not None:  # www.
            return m.group(3) + _JOINER + m.group(4)
        return "@" + _JOINER

    return _AUTOLINK.sub(breaker, s)


def lines(value: str) -> str:
    """Multi-line text whose line breaks are the writer's own but whose content may hold
    names (an extraction brief): each line through :func:`text`."""
    return "\n".join(text(line) for line in str(value).split("\n"))


def html_text(value: object) -> str:
    """Text for HTML element content or a quoted attribute value."""
    return html.escape(text(value), quote=True)


def xml_text(value: object) -> str:
    """Text for an XML 1.0 element or attribute (a JUnit report): :func:`text` plus the
    characters XML cannot hold at all. The XML writer still escapes ``<&"``."""
    return _XML_BAD.sub(_visible, text(value))


# JSON escapes C0 controls itself; with ensure_ascii=False it writes C1 controls, DEL and
# U+2028/U+2029 raw, which reach a terminal through ``jq -r`` or ``cat``.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text(document: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) with the characters
    JSON leaves raw but terminals act on written as ``\\uNNNN`` (same value once parsed)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def json_dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` (UTF-8 kept readable) through :func:`json_text`."""
    kwargs.setdefault("ensure_ascii", False)
    return json_text(json.dumps(obj, **kwargs))


def annotation_data(value: object) -> str:
    """The message of a GitHub workflow command (``::error ...::MESSAGE``)."""
    s = str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text(s)  # line breaks are GitHub's own %0A; other controls shown as \xNN


def annotation_property(value: object) -> str:
    """A property value of a GitHub workflow command (``file=``, ``title=``)."""
    return annotation_data(value).replace(":", "%3A").replace(",", "%2C")


def folded_frame(value: str) -> str:
    """A name or path inside one frame of a collapsed stack: ``;`` would split the stack
    (it becomes ``:``) and a line break would start a forged one."""
    return text(value).replace(";", ":")


def dot_string(value: str) -> str:
    """Text inside a double-quoted DOT string; a line break becomes DOT's ``\\n``."""
    s = str(value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [text(part).replace("\\", "\\\\").replace('"', '\\"') for part in s.split("\n")]
    return "\\n".join(lines)

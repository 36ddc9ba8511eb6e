"""One name per function, whichever tool recorded it.

A function is its code: (file, first line of its def, name). Readers keep what the format
says; :func:`name_functions` then gives every function its display name, once for all
formats:

- With the source on this machine (see :mod:`hotpath.formats.source`): the qualified name
  of the definition at the recorded def line (cProfile's ``__init__`` and pyinstrument's
  run-time ``If.find_all`` become ``Parser.__init__`` and ``Node.find_all``), or, where
  only the sampled line is known (py-spy), of the innermost definition of that name
  around the line, whose def line the frame then gets.
- Without the source: the recorded name; where pyinstrument named one def after several
  run-time classes, its bare name.
- Two functions that still share a name in one file (two ``<lambda>`` in one scope, a
  property's getter and setter, or ``__init__`` of two classes without the source) are told
  apart by their def line: ``<lambda>:12``. Without the source, every ``<lambda>``,
  ``<listcomp>``, ``<genexpr>`` ... with a known def line is (a file has many).

So py-spy, cProfile and pyinstrument profiles of one program name its functions the same
way when the source is there. Set ``HOTPATH_NO_SOURCE=1`` to skip reading source files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hotpath.formats.source import SourceIndex
from hotpath.model import EdgeStats, Frame, FunctionKey, FunctionStats, Profile

_ANONYMOUS = re.compile(r"<(lambda|listcomp|setcomp|dictcomp|genexpr)>\Z")


def bare_name(name: str, first_line: int | None = None) -> str:
    """A function's own name: the last part of a dotted name, without a ``:LINE`` suffix
    equal to ``first_line`` (the suffix :func:`name_functions` adds)."""
    if first_line is not None:
        suffix = f":{first_line}"
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.rsplit(".", 1)[-1] if not name.startswith("{") else name


def _strip_suffix(name: str, first_line: int | None) -> str:
    if first_line is not None and name.endswith(f":{first_line}"):
        return name[: -len(f":{first_line}")]
    return name


_Resolved = tuple[str, int | None, bool]
"""(name, first line, whether the source decided the name)."""


class _Namer:
    def __init__(self, index: SourceIndex | None) -> None:
        self.index = index
        self.memo: dict[tuple[str, str, int | None, int | None], _Resolved] = {}

    def resolve(self, name: str, file: str, first_line: int | None, line: int | None) -> _Resolved:
        """(name, first line, whether the source decided the name)."""
        key = (name, file, first_line, line)
        got = self.memo.get(key)
        if got is None:
            got = self._resolve(name, file, first_line, line)
            self.memo[key] = got
        return got

    def _resolve(self, name: str, file: str, first_line: int | None, line: int | None) -> _Resolved:
        base = _strip_suffix(name, first_line)
        if name == "<module>":  # a module's code object always starts at line 1
            return name, 1, False
        defs = self.index.defs(file) if self.index is not None and file else None
        if defs is None or name.startswith(("{", "[")):
            return base, first_line, False
        own = bare_name(base)
        if first_line is not None:
            d = defs.at_first_line(first_line, own)
        elif line is not None:
            d = defs.enclosing(line, own)
        else:
            d = None
        if d is None:  # the file on disk is not the one profiled (or never had it)
            return base, first_line, False
        if base.endswith("." + d.qualname):  # already module-qualified: json.dumps
            return base, d.first_line, True
        qual = f"{d.qualname}:{d.first_line}" if defs.is_ambiguous(d.qualname) else d.qualname
        return qual, d.first_line, True


def _no_source_names(
    entries: Iterable[tuple[str, str, int | None, bool]],
) -> dict[tuple[str, str, int | None], str]:
    """Names of functions the source did not decide: (name, file, first line) -> name.

    One def named after several run-time classes gets its bare name; one name in one file
    with several def lines gets ``:LINE`` suffixes, and so does every anonymous code object
    (``<lambda>``, ``<listcomp>``, ``<genexpr>`` ...) whose def line is known: a file has
    many of them, and a name that depended on which of them were sampled would differ
    between two profiles of the same code.
    """
    by_def: dict[tuple[str, int, str], set[str]] = {}
    undecided: set[tuple[str, str, int]] = set()
    for name, file, first, decided in entries:
        if decided or first is None:  # no def line: the recorded name is all there is
            continue
        undecided.add((name, file, first))
        by_def.setdefault((file, first, bare_name(name)), set()).add(name)
    out: dict[tuple[str, str, int | None], str] = {}
    lines_of: dict[tuple[str, str], set[int]] = {}
    for name, file, first in undecided:
        shown = name
        if len(by_def[(file, first, bare_name(name))]) > 1:
            shown = bare_name(name)
        lines_of.setdefault((shown, file), set()).add(first)
        out[(name, file, first)] = shown
    for key, shown in out.items():
        if len(lines_of[(shown, key[1])]) > 1 or _ANONYMOUS.match(bare_name(shown)):
            out[key] = f"{shown}:{key[2]}"
    return out


def name_functions(profile: Profile, index: SourceIndex | None = None) -> Profile:
    """Give every frame and call statistic of ``profile`` its function's name (in place;
    returns the profile). ``index`` caches source lookups across profiles."""
    index = index if index is not None else SourceIndex()
    namer = _Namer(index)
    stats = profile.function_stats
    files = {f.file for f in profile.frames} | {k.file for k in stats}
    with_source = {file for file in files if file and index.defs(file) is not None}

    def resolve(name: str, file: str, first: int | None, line: int | None) -> _Resolved:
        # The common case on big profiles (no source, no suffix) stays a tuple, no lookup.
        if file in with_source or name == "<module>" or (first is not None and ":" in name):
            return namer.resolve(name, file, first, line)
        return (name, first, False)

    resolved = [resolve(f.name, f.file, f.first_line, f.line) for f in profile.frames]
    stat_resolved = {
        key: resolve(key.name, key.file, st.first_line, None) for key, st in stats.items()
    }
    entries = [(r[0], f.file, r[1], r[2]) for f, r in zip(profile.frames, resolved, strict=True)]
    entries += [(r[0], k.file, r[1], r[2]) for k, r in stat_resolved.items()]
    fallback = _no_source_names(entries)

    def final(name: str, file: str, first: int | None, decided: bool) -> str:
        return name if decided else fallback.get((name, file, first), name)

    new_frames = []
    for f, r in zip(profile.frames, resolved, strict=True):
        name = final(r[0], f.file, r[1], r[2])
        same = name == f.name and r[1] == f.first_line
        new_frames.append(f if same else Frame(name, f.file, f.line, r[1]))
    if new_frames != profile.frames:
        profile.replace_frames(new_frames)
    if stats:
        renamed = {
            key: FunctionKey(final(r[0], key.file, r[1], r[2]), key.file)
            for key, r in stat_resolved.items()
        }
        new_stats: dict[FunctionKey, FunctionStats] = {}
        for key, st in stats.items():
            nk = renamed[key]
            prev = new_stats.get(nk)
            new_stats[nk] = st if prev is None else prev + st
        new_edges: dict[tuple[FunctionKey, FunctionKey], EdgeStats] = {}
        for (a, b), e in profile.call_edges.items():
            ek = (renamed.get(a, a), renamed.get(b, b))
            eprev = new_edges.get(ek)
            new_edges[ek] = e if eprev is None else eprev + e
        profile.function_stats = new_stats
        profile.call_edges = new_edges
    return profile

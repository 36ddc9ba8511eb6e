"""The identity corpus (fixtures/identity/, recorded by fixtures/identity/record.py with the
real tools): hotpath's numbers equal each tool's own, function by function.

References: ``pstats.Stats`` for cProfile, yappi and pyinstrument's ``-r pstats``;
pyinstrument's own JSON renderer with no processors for the session; a plain counter of
the file's own lines and samples for py-spy raw and speedscope. Functions are matched by
what the tools record (file, def line, own name) or, for py-spy, (file, sampled line).
"""

from __future__ import annotations

import gzip
import json
import pstats
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotpath.analysis.callgraph import build_callgraph
from hotpath.formats import read_profile
from hotpath.formats.identity import bare_name
from hotpath.formats.pstats import function_key
from hotpath.model import Profile
from tests.formats.conftest import ROOT, count_stacks, totals_by_code

CORPUS = ROOT / "fixtures" / "identity"
PSTATS = ["cprofile.pstats", "yappi.pstats", "pyinstrument.pstats"]


@pytest.fixture(autouse=True)
def _script_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    # py-spy raw names the script `workload.py` (relative to its directory).
    monkeypatch.setenv("HOTPATH_SOURCE_PATH", str(CORPUS))


def _code(func: tuple[str, int, str]) -> tuple[str, int, str]:
    return (func[0], func[1], bare_name(function_key(func).name))


@pytest.mark.parametrize("name", PSTATS)
def test_corpus_pstats_equal_pstats_stats(name: str) -> None:
    path = CORPUS / name
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    want = {
        _code(func): (tt, ct, max(nc, 0), max(cc, 0))
        for func, (cc, nc, tt, ct, _callers) in stats.items()
    }
    prof = read_profile(path)
    got = {}
    for k, s in prof.function_stats.items():
        code = (k.file, s.first_line or 0, bare_name(k.name, s.first_line))
        assert code not in got, f"two functions read as one: {code}"
        got[code] = (s.self, s.inclusive, s.calls, s.primitive_calls)
    assert len(prof.function_stats) == len(stats)
    assert got.keys() == want.keys()
    for code, values in want.items():
        assert got[code] == pytest.approx(values, rel=1e-12), code
    edges = sum(len(v[4]) for v in stats.values())
    assert len(prof.call_edges) == edges
    if name == "pyinstrument.pstats":
        assert "unknown" in prof.meta.attrs["calls"]  # pyinstrument writes -1 call counts


def _session(tmp_path: Path) -> Any:
    from pyinstrument.session import Session

    path = tmp_path / "s.pyisession"
    path.write_bytes(gzip.decompress((CORPUS / "pyinstrument.pyisession.gz").read_bytes()))
    return Session.load(path)


def _json_tree_stacks(node: dict[str, Any], path: list[Any]) -> Iterator[tuple[list[Any], float]]:
    """(stack of (name, file, def line), self seconds) from pyinstrument's JSON frame tree."""
    if node["function"] == "[self]":
        yield path, node["time"]
        return
    if node["file_path"] == "<thread>":  # hotpath keeps the thread as a label
        for child in node["children"]:
            yield from _json_tree_stacks(child, path)
        return
    here = [*path, (bare_name(node["function"]), node["file_path"], node["line_no"] or None)]
    children = node["children"]
    if not children:  # a leaf's time is its own; elsewhere a [self] child holds it
        yield here, node["time"]
    for child in children:
        yield from _json_tree_stacks(child, here)


def test_corpus_pyinstrument_equals_its_json_renderer(tmp_path: Path) -> None:
    from pyinstrument.renderers import JSONRenderer

    renderer = JSONRenderer()
    renderer.processors = []  # the session as recorded, nothing hidden or merged
    # The renderer's own frame JSON of the whole tree: render() would trim the stem above
    # pyinstrument's main(), which hotpath keeps.
    root = renderer.preprocess(_session(tmp_path).root_frame(trim_stem=False))
    tree = json.loads(renderer.render_frame(root))
    want_self, want_incl, want_total = count_stacks(_json_tree_stacks(tree, []))
    prof = read_profile(CORPUS / "pyinstrument.pyisession.gz")
    got_self, got_incl = totals_by_code(prof)
    # The renderer writes each frame's time rounded to the microsecond; a function sums at
    # most a few hundred frames: 0.1 ms bounds that (pyinstrument samples every 1 ms).
    tol = 1e-4
    assert prof.total == pytest.approx(want_total, abs=tol)
    assert got_self.keys() == {k for k, v in want_self.items() if v > 1e-9}
    assert got_self == pytest.approx({k: v for k, v in want_self.items() if v > 1e-9}, abs=tol)
    assert got_incl == pytest.approx(want_incl, abs=tol)
    assert len(got_incl) > 100


def _raw_lines() -> Iterator[tuple[list[str], int]]:
    for line in (CORPUS / "pyspy.raw.txt").read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        yield (stack.split(";") if stack else []), int(count)


def _file_line(frame_text: str) -> tuple[str, int]:
    inner = frame_text[frame_text.rindex(" (") + 2 : -1]
    file, _, line = inner.rpartition(":")
    return file, int(line)


def _leaf_counts(prof: Profile) -> dict[tuple[str, int | None], float]:
    out: dict[tuple[str, int | None], float] = {}
    for frames, _labels, w in prof.iter_samples():
        if frames:
            key = (frames[-1].file, frames[-1].line)
            out[key] = out.get(key, 0) + w
    return out


def test_corpus_pyspy_raw_equals_a_plain_count() -> None:
    """Samples per sampled line (the leaf's file:line) and in total, as the file says."""
    want: dict[tuple[str, int | None], float] = {}
    total = 0
    for frames, count in _raw_lines():
        total += count
        if frames:
            key = _file_line(frames[-1])
            want[key] = want.get(key, 0) + count
    prof = read_profile(CORPUS / "pyspy.raw.txt")
    assert prof.total == total
    assert _leaf_counts(prof) == want
    # Functions: every frame of a function is its enclosing def, by the source.
    cg = build_callgraph(prof)
    areas = [(k.name, f.first_line) for k, f in cg.functions.items() if k.name.endswith("area")]
    assert areas == [("Shape.area", 33)]


def test_corpus_pyspy_speedscope_equals_a_plain_count() -> None:
    doc = json.loads((CORPUS / "pyspy.speedscope.json").read_text())
    frames = doc["shared"]["frames"]
    want: dict[tuple[str, int | None], float] = {}
    total = 0.0
    for p in doc["profiles"]:
        for sample, weight in zip(p["samples"], p["weights"], strict=True):
            total += weight
            if sample:
                leaf = frames[sample[-1]]
                key = (leaf["file"], leaf.get("line"))
                want[key] = want.get(key, 0) + weight
    prof = read_profile(CORPUS / "pyspy.speedscope.json")
    assert prof.total == pytest.approx(total, rel=1e-12)
    assert _leaf_counts(prof) == pytest.approx(want, rel=1e-12)


def test_corpus_every_tool_names_the_workload_alike() -> None:
    """The committed recordings, read on any checkout (paths found by their tails)."""
    own = {
        name: {
            (k.name, f.first_line)
            for k, f in build_callgraph(read_profile(CORPUS / name)).functions.items()
            if k.file.endswith("workload.py")
        }
        for name in [*PSTATS, "pyinstrument.pyisession.gz", "pyspy.raw.txt"]
    }
    exact = own["cprofile.pstats"]
    for name, functions in own.items():
        assert functions <= exact, (name, functions - exact)
        assert ("Shape.area", 33) in functions, name

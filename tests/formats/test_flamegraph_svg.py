"""py-spy's flame graph SVG (and flamegraph.pl's): stacks rebuilt from the drawing, checked
against every rectangle of the real file and against py-spy's raw output of the same seconds."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.errors import ProfileParseError
from hotpath.formats import detect, read_bytes, read_profile
from hotpath.formats.folded import format_frame
from hotpath.model import Profile
from tests.formats.readers_helpers import (
    READERS,
    per_function,
    read_raw,
    sampling_tolerance,
    shares,
)

SVG = READERS / "pyspy.svg"
RAW = READERS / "pyspy.svg.raw.txt"
NS = "{http://www.w3.org/2000/svg}"
FG = "{http://github.com/jonhoo/inferno}"


def _svg_rects() -> list[tuple[str, int, int, int, int]]:
    """(name, count, fg:x, fg:w, y) of every frame, parsed with the XML library."""
    root = ET.parse(SVG).getroot()
    out = []
    for g in root.iter(f"{NS}g"):
        title = g.find(f"{NS}title")
        rect = g.find(f"{NS}rect")
        if title is None or rect is None or title.text is None:
            continue
        name, _, rest = title.text.rpartition(" (")
        count = int(rest.split(" ", 1)[0].replace(",", ""))
        out.append((name, count, int(rect.get(f"{FG}x", "")), int(rect.get(f"{FG}w", "")),
                    int(float(rect.get("y", "")))))  # fmt: skip
    return out


def test_svg_every_rect_count_equals_samples_under_its_path() -> None:
    rects = _svg_rects()
    root_y = next(r[4] for r in rects if r[0] == "all")
    profile = read_raw("flamegraph-svg", SVG)
    stacks = [([format_frame(f) for f in frames], w) for frames, _l, w in profile.iter_samples()]
    checked = 0
    for name, count, x, _w, y in rects:
        if name == "all":
            assert count == profile.total == profile.meta.sample_count
            continue
        # Its path: at each row between the root and it, the rect whose span holds x.
        path = []
        for row in range(root_y + 16, y + 1, 16):
            path.append(next(r[0] for r in rects if r[4] == row and r[2] <= x < r[2] + r[3]))
        assert path[-1] == name
        under = sum(w for s, w in stacks if s[: len(path)] == path)
        assert under == count, (path, under, count)
        checked += 1
    assert checked >= 20


def test_svg_agrees_with_raw_recording_of_the_same_seconds() -> None:
    # Two py-spy processes sampled one workload at once (fixtures/readers/record.py): the
    # files differ by chance (binomial) and by the few samples each missed. Committed
    # recording: 198 vs 199 samples, the largest share difference 2.6 points (loop); two
    # re-recordings: 4.8 and 3.0 points.
    svg = read_raw("flamegraph-svg", SVG)
    raw = read_profile(RAW)
    assert svg.total == pytest.approx(raw.total, rel=0.03)
    s_svg = shares(per_function(svg)[1], svg.total)
    s_raw = shares(per_function(raw)[1], raw.total)
    big = {n for n, s in s_raw.items() if s >= 0.05}
    assert {"loop", "fib", "main"} <= big
    for name in big:
        tolerance = sampling_tolerance(s_raw[name], raw.total)
        assert s_svg.get(name, 0.0) == pytest.approx(s_raw[name], abs=tolerance), name


def test_svg_frames_keep_file_and_sampled_line() -> None:
    profile = read_raw("flamegraph-svg", SVG)
    loops = {(f.file, f.line) for f in profile.frames if f.name == "loop"}
    assert loops and all(file == "workload.py" and line for file, line in loops)
    self_w, _ = per_function(profile)
    assert self_w[("loop", "workload.py")] > self_w[("fib", "workload.py")]


def test_svg_detected_by_content_not_as_folded(tmp_path: Path) -> None:
    data = SVG.read_bytes()
    assert detect(data[:65536]).name == "flamegraph-svg"
    renamed = tmp_path / "profile.txt"
    renamed.write_bytes(data)
    assert read_profile(renamed).meta.sources[0].format == "flamegraph-svg"


_PL_SVG = """<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="1200" height="100" xmlns="http://www.w3.org/2000/svg">
<!-- Flame graph stack visualization. See https://github.com/brendangregg/FlameGraph -->
<g><title>all (1,000 samples, 100%)</title><rect x="10.0" y="69.0" width="1180.0" /></g>
<g><title>main (1,000 samples, 100.00%)</title><rect x="10.0" y="53.0" width="1180.0" /></g>
<g><title>hot (750 samples, 75.00%)</title><rect x="10.0" y="37.0" width="885.0" /></g>
<g><title>cold (200 samples, 20.00%)</title><rect x="895.0" y="37.0" width="236.0" /></g>
<g><title>leaf (200 samples, 20.00%)</title><rect x="895.0" y="21.0" width="236.0" /></g>
</svg>
"""


def test_flamegraph_pl_svg_upward_pixels() -> None:
    p = read_bytes(_PL_SVG.encode(), "pl.svg")
    got = {tuple(f.name for f in frames): w for frames, _l, w in p.iter_samples()}
    assert got == {("main",): 50, ("main", "hot"): 750, ("main", "cold", "leaf"): 200}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("x=\"895.0\" y=\"21.0\"", "x=\"1100.0\" y=\"21.0\""), "lies outside every frame"),
        (("cold (200 samples, 20.00%)", "cold (lots)"), "is not 'NAME (N samples"),
        (("<title>all (1,000", "<title>root (1,000"), "one 'all' root frame"),
    ],
)  # fmt: skip
def test_svg_bad_geometry_names_the_problem(change: tuple[str, str], message: str) -> None:
    bad = _PL_SVG.replace(*change)
    assert bad != _PL_SVG
    with pytest.raises(ProfileParseError, match=re.escape(message)) as err:
        read_bytes(bad.encode(), "bad.svg")
    assert str(err.value).startswith("bad.svg: ")


def test_cli_analyze_svg(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(SVG)])
    assert result.exit_code == 0, result.stderr
    assert "loop" in result.stdout


def test_svg_thread_root_frames_become_labels() -> None:
    seed = Path(__file__).parents[2] / "fuzz" / "corpus" / "flamegraph-svg" / "seed1.svg"
    p = read_bytes(seed.read_bytes(), "threads.svg")
    assert p.label_values("thread") == {"MainThread"} and p.label_values("tid") == {"12"}
    assert "thread (12): MainThread" not in {f.name for f in p.frames}
    assert {f.name for f in p.frames} == {"main", "work", "<lambda>"}
    assert p.meta.attrs["title"] == "py-spy record -o x.svg"


@pytest.mark.parametrize("name", ["flamegraph-pl.svg", "flamegraph-pl.inverted.svg"])
def test_flamegraph_pl_svg_equals_the_raw_file_it_drew(name: str) -> None:
    # flamegraph.pl drew pyspy.svg.raw.txt (fixtures/readers/record.py --flamegraph-pl):
    # pixel positions, upwards, and as an icicle graph (--inverted).
    svg = read_raw("flamegraph-svg", READERS / name)
    raw = read_profile(RAW)

    def stacks(p: Profile) -> dict[tuple[str, ...], float]:
        out: dict[tuple[str, ...], float] = {}
        for frames, _labels, w in p.iter_samples():
            key = tuple(format_frame(f) for f in frames)
            out[key] = out.get(key, 0.0) + w
        return out

    assert stacks(svg) == stacks(raw)
    assert svg.meta.sample_count == raw.total == 199

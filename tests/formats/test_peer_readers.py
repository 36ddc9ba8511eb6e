"""hotpath's speedscope and folded exports read by speedscope's own importers (its source,
bundled in tests/js/speedscope/, run under Node.js): the totals speedscope shows are the
profile's, one measure at a time, and every frame's self weight is hotpath's."""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hotpath.formats import read_profile
from hotpath.formats.folded import format_frame
from hotpath.model import CPU, WALL, Profile, measure_view
from hotpath.report.exports import ExportOptions, export
from tests.capability import require
from tests.formats.conftest import ROOT, UNIT
from tests.formats.test_exports import recorded

JS = Path(__file__).parents[1] / "js" / "speedscope_totals.js"
CORPUS = ROOT / "fixtures" / "identity"


def _speedscope_reads(kind: str, data: bytes, tmp_path: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    require(node is not None, "speedscope's importers need Node.js (apt-get install nodejs)")
    assert node is not None
    path = tmp_path / f"export.{kind}"
    path.write_bytes(data)
    proc = subprocess.run(
        [node, str(JS), kind, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out: list[dict[str, Any]] = json.loads(proc.stdout)
    return out


def _export(p: Profile, fmt: str, measure: str) -> bytes:
    buf = io.BytesIO()
    export(p, buf, fmt, ExportOptions(measure=measure))
    return buf.getvalue()


def _self_by_frame(
    p: Profile, key: Any, factor: float = 1.0, empty: str | None = None
) -> dict[str, float]:
    """Self weight per leaf frame; samples with no stack under ``empty`` (None: left out)."""
    out: dict[str, float] = {}
    for frames, _labels, w in p.iter_samples():
        k = key(frames[-1]) if frames else empty
        if k is not None:
            out[k] = out.get(k, 0.0) + w * factor
    return out


@functools.cache
def _profile(name: str) -> Profile:
    if name == "recorded cpu+wall":
        return recorded()
    path = {
        "py-spy raw": CORPUS / "pyspy.raw.txt",
        "py-spy speedscope": CORPUS / "pyspy.speedscope.json",
        "pyinstrument session": UNIT / "pyinstrument.pyisession",
    }[name]
    return read_profile(path)


CASES = [
    ("recorded cpu+wall", CPU),
    ("recorded cpu+wall", WALL),
    ("py-spy raw", CPU),
    ("py-spy speedscope", CPU),
    ("pyinstrument session", WALL),
]


@pytest.mark.parametrize(("name", "measure"), CASES)
def test_speedscope_importer_reads_hotpath_speedscope(
    tmp_path: Path, name: str, measure: str
) -> None:
    profile = _profile(name)
    view = measure_view(profile, measure)
    got = _speedscope_reads("speedscope", _export(profile, "speedscope", measure), tmp_path)
    assert sum(p["total"] for p in got) == pytest.approx(view.total, rel=1e-9)
    assert len(got) == len({lid for (_s, lid) in view.samples})  # one per label set
    unit = {"seconds": "seconds", "samples": "none"}[view.meta.unit]
    assert {p["unit"] for p in got} == {unit}
    shown: dict[str, float] = {}
    for p in got:
        for k, v in p["self"].items():
            shown[k] = shown.get(k, 0.0) + v
    want = _self_by_frame(view, lambda f: f"{f.name} ({f.file})" if f.file else f.name)
    assert {k: v for k, v in shown.items() if v} == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(("name", "measure"), CASES)
def test_speedscope_importer_reads_hotpath_folded(tmp_path: Path, name: str, measure: str) -> None:
    profile = _profile(name)
    view = measure_view(profile, measure)
    factor = 1e6 if view.meta.unit == "seconds" else 1.0  # written as whole microseconds
    data = _export(profile, "folded", measure)
    got = _speedscope_reads("folded", data, tmp_path)
    lines = data.decode().splitlines()
    assert len(got) == 1 and lines
    # Every line is one the importer takes (it silently skips the others).
    assert got[0]["total"] == sum(int(ln.rsplit(" ", 1)[1]) for ln in lines)
    assert got[0]["total"] == pytest.approx(view.total * factor, abs=1)
    # py-spy's samples with no stack (start-up, exit) are written as py-spy writes them,
    # ` COUNT`: speedscope shows them as a frame with an empty name.
    want = _self_by_frame(view, format_frame, factor, empty="")
    shown = {k: v for k, v in got[0]["self"].items() if v}
    assert shown.keys() <= want.keys()
    # Per-line rounding to whole microseconds moves at most one unit per line.
    assert shown == pytest.approx({k: v for k, v in want.items() if k in shown}, abs=len(lines))

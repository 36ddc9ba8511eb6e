"""Scalene's JSON: per-line Python/native/system CPU mapped to functions, compared with
scalene's own per-function rows of the same file."""

from __future__ import annotations

import json

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import detect, read_bytes
from tests.formats.readers_helpers import READERS, WORKLOAD, read_raw

SCALENE = READERS / "scalene.json"
KINDS = (
    ("python", "n_cpu_percent_python"),
    ("native", "n_cpu_percent_c"),
    ("system", "n_sys_percent"),
)


def _by_function_and_kind() -> dict[tuple[str, str], float]:
    p = read_raw("scalene", SCALENE)
    out: dict[tuple[str, str], float] = {}
    for frames, labels, w in p.iter_samples():
        key = (frames[-1].name, dict(labels)["kind"])
        out[key] = out.get(key, 0.0) + w
    return out


def test_scalene_lines_add_up_to_scalenes_function_rows() -> None:
    doc = json.loads(SCALENE.read_text())
    elapsed = doc["elapsed_time_sec"]
    got = _by_function_and_kind()
    rows = doc["files"][WORKLOAD]["functions"]
    compared = 0
    for row in rows:
        if row["line"] == "main":
            # Scalene's own row for main holds time none of main's lines shows (4.1% Python
            # on the row, 0% on its lines); hotpath follows the lines.
            continue
        for kind, key in KINDS:
            seconds = got.get((row["line"], kind), 0.0)
            assert seconds == pytest.approx(row[key] * elapsed / 100, abs=1e-9), (row["line"], kind)
            compared += 1
    assert compared >= 12 and {r["line"] for r in rows} >= {"fib", "loop", "Shape.area_sum"}


def test_scalene_frames_and_lambdas() -> None:
    p = read_raw("scalene", SCALENE)
    loop = next(f for f in p.frames if f.name == "loop")
    assert (loop.file, loop.first_line) == (WORKLOAD, 19)
    # The lambdas are not in scalene's function list: they keep their line.
    assert {"<line 51>", "<line 52>"} <= {f.name for f in p.frames}
    assert p.label_values("kind") == {"python", "native", "system"}
    assert p.meta.unit == "seconds" and p.meta.duration_s == pytest.approx(
        json.loads(SCALENE.read_text())["elapsed_time_sec"]
    )


def test_scalene_detected_although_its_lines_start_late() -> None:
    data = SCALENE.read_bytes()
    # Keys are sorted: the call stacks come first, the per-line data after 64 KiB.
    assert data.find(b'"elapsed_time_sec"') > 65536
    assert detect(data[:65536]).name == "scalene"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"elapsed_time_sec": 1, "alloc_samples": 0}', "no 'files' object"),
        ('{"elapsed_time_sec": -1, "alloc_samples": 0, "files": {}}', "elapsed_time_sec"),
        ('{"elapsed_time_sec": 1, "alloc_samples": 0, "files": {"a.py": {"lines": '
         '[{"lineno": 3, "n_cpu_percent_python": 500}]}}}', "is not 0-100"),
        ('{"elapsed_time_sec": 1, "alloc_samples": 0, "files": {"a.py": {"lines": []}}}',
         "no CPU time"),
    ],
)  # fmt: skip
def test_scalene_bad_documents_are_one_line_errors(doc: str, message: str) -> None:
    with pytest.raises(ProfileParseError, match=message) as err:
        read_bytes(doc.encode(), "s.json", "scalene")
    assert str(err.value).startswith("s.json: ")

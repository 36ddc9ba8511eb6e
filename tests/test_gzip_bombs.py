"""Gzip bombs of the formats read whole into memory: refused while inflating, in memory that
follows the size of the file, not what it inflates to (docs/reliability.md, section 2).

The bombs inflate to HOTPATH_BOMB_MIB MiB (default 160, just past the floor below which any
ratio is allowed). The full-size case, a 1.5 GiB bomb, runs on demand:
``HOTPATH_BOMB_MIB=1536 .venv/bin/python -m pytest tests/test_gzip_bombs.py``. Without the
ratio limit these readers peaked at 2.5 GB (hotpath), 2.8 GB (pyinstrument), 4.2 GB
(speedscope) on a 300 MiB bomb.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from hotpath.formats.opening import INFLATION_FLOOR
from hotpath.formats.pprof_proto import profile_pb2
from tests.test_limits import _peak_rss_mib

MIB = int(os.environ.get("HOTPATH_BOMB_MIB", "160"))

_PARTS = {
    "hotpath": (
        b'{"format":"hotpath.profile/1","meta":{},"frames":[',
        b'["a","b",1,null],' * 4096,
        b'["a","b",1,null]]}',
    ),
    "pyinstrument": (
        b'{"start_time":0,"frame_records":[',
        b'[["MainThread\\u0000<thread>\\u00001","f\\u0000x.py\\u00001"],0.5],' * 2048,
        b'[["f\\u0000x.py\\u00001"],0.5]]}',
    ),
    "speedscope": (
        b'{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[',
        b'{"name":"aaaaaaaaaaaaaaaa"},' * 4096,
        b'{"name":"a"}]},"profiles":[]}',
    ),
}


def _bomb(path: Path, fmt: str) -> Path:
    if fmt == "pprof":
        msg = profile_pb2.Profile()
        msg.string_table.extend(["", "samples", "count"])
        msg.sample_type.add(type=1, unit=2)
        chunk = "x" * 1024
        msg.string_table.extend([chunk] * (MIB * 1024))
        path.write_bytes(gzip.compress(msg.SerializeToString(), 6))
        return path
    head, body, tail = _PARTS[fmt]
    with gzip.open(path, "wb", compresslevel=6) as f:
        f.write(head)
        for _ in range(MIB * 1024**2 // len(body) + 1):
            f.write(body)
        f.write(tail)
    return path


@pytest.mark.parametrize("fmt", ["hotpath", "pyinstrument", "speedscope", "pprof"])
def test_gzip_bomb_of_a_whole_document_format_is_refused_in_bounded_memory(
    tmp_path: Path, fmt: str
) -> None:
    assert MIB * 1024**2 > INFLATION_FLOOR
    path = _bomb(tmp_path / f"bomb-{fmt}.gz", fmt)
    assert path.stat().st_size * 256 < MIB * 1024**2  # a bomb: inflates > 256 times
    code, rss, stderr = _peak_rss_mib(["analyze", str(path)], tmp_path)
    assert code == 2, stderr
    assert stderr.startswith(f"hotpath: error: {path}: inflates more than 256 times")
    assert "--max-decompressed-mb" in stderr and stderr.count("\n") == 1
    # Held to 128 MiB of inflated text, the readers stay near 0.15 GiB; unbounded, a 160 MiB
    # bomb took 1.3-2.2 GiB.
    assert rss < 500, f"peak RSS {rss} MiB"


def test_an_explicit_limit_replaces_the_ratio_limit(tmp_path: Path) -> None:
    """--max-decompressed-mb is the user's word: the file is read up to that size."""
    path = _bomb(tmp_path / "bomb.gz", "hotpath")
    code, _rss, stderr = _peak_rss_mib(
        ["analyze", str(path), "--max-decompressed-mb", "140"], tmp_path
    )
    assert code == 2
    assert "decompresses to more than 140 MiB" in stderr

"""Contract tests over every registered format, detection of every real fixture, and the CLI
on bad input (exit 2, one line on stderr, no traceback) and on conversions."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.errors import ProfileParseError
from hotpath.formats import REGISTRY, detect, read_profile, write_profile
from hotpath.model import Frame, Metadata, Profile
from tests.formats.conftest import ROOT, SPEEDSCOPE_REF, UNIT

WRITABLE = [name for name, spec in REGISTRY.items() if spec.write is not None]
# Formats that can be written and read back (DOT is a drawing of the call graph: write only,
# tested in tests/report).
ROUND_TRIP = [name for name in WRITABLE if name != "dot"]
FIXTURE_FORMATS = {
    "pyspy.speedscope.json": "speedscope",
    "pyinstrument.speedscope.json": "speedscope",
    "pyinstrument.pyisession": "pyinstrument",
    "cprofile.pstats": "pstats",
    "profile.pstats": "pstats",
    "pyspy.raw.txt": "folded",
}


def _small_profile() -> Profile:
    p = Profile(Metadata(unit="samples"))
    main_ = Frame("main", "app.py", 3, 1)
    p.add_frames([main_, Frame("work", "app.py", 9, 8)], 5, {"thread": "MainThread"})
    p.add_frames([main_, Frame("<script>alert(1)</script>", "x y.py", 2)], 2)
    p.add_frames([main_], 1, {"thread": "MainThread"})
    return p


def _totals_by_stack(profile: Profile) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for frames, _labels, w in profile.iter_samples():
        key = tuple(f.name for f in frames)
        out[key] = out.get(key, 0.0) + w
    return out


@pytest.mark.parametrize("name", list(REGISTRY))
def test_format_empty_file_raises_parse_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(ProfileParseError) as err:
        read_profile(path, fmt=name)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("name", list(REGISTRY))
@pytest.mark.parametrize(
    "data",
    [b"\x00\xff\xfe garbage \x01\x02" * 50, b'{"something": "else"}', b"{", b"[1, 2, 3]"],
)
def test_format_bad_input_raises_parse_error(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / "bad.input"
    path.write_bytes(data)
    with pytest.raises(ProfileParseError) as err:
        read_profile(path, fmt=name)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_format_round_trips_small_profile(tmp_path: Path, name: str) -> None:
    original = _small_profile()
    buf = io.BytesIO()
    write_profile(original, buf, name)
    path = tmp_path / f"out{REGISTRY[name].extensions[0]}"
    path.write_bytes(buf.getvalue())
    again = read_profile(path)  # detected from content
    assert again.meta.sources[0].format == name
    assert _totals_by_stack(again) == _totals_by_stack(original)


@pytest.mark.parametrize(("fixture", "fmt"), sorted(FIXTURE_FORMATS.items()))
def test_detect_real_fixtures_and_gzip(tmp_path: Path, fixture: str, fmt: str) -> None:
    src = UNIT / fixture
    assert detect(src.read_bytes()[:65536], "").name == fmt  # content alone decides
    plain = read_profile(src)
    gz = tmp_path / "renamed.bin"
    with open(src, "rb") as f, gzip.open(gz, "wb") as out:
        shutil.copyfileobj(f, out)
    zipped = read_profile(gz)
    assert zipped.meta.sources[0].format == fmt
    assert zipped.total == pytest.approx(plain.total)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    cases: dict[str, bytes] = {
        "truncated.json": (UNIT / "pyspy.speedscope.json").read_bytes()[:700],
        "other.json": b'{"traceEvents": [], "displayTimeUnit": "ms"}',
        "garbage.bin": bytes(range(256)) * 8,
        "truncated.pstats": (UNIT / "cprofile.pstats").read_bytes()[:500],
        "truncated.pyisession": (UNIT / "pyinstrument.pyisession").read_bytes()[:900],
        "empty.json": b"",
        "index.speedscope.json": json.dumps(
            {
                "$schema": "https://www.speedscope.app/file-format-schema.json",
                "shared": {"frames": [{"name": "a"}]},
                "profiles": [
                    {
                        "type": "sampled",
                        "name": "t",
                        "unit": "none",
                        "startValue": 0,
                        "endValue": 1,
                        "samples": [[0, 3]],
                        "weights": [1],
                    }
                ],
            }
        ).encode(),
    }
    out = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    return out


def test_cli_bad_input_one_line_exit_2(tmp_path: Path) -> None:
    for name, path in _bad_inputs(tmp_path).items():
        for cmd in (["analyze"], ["convert", "-o", str(tmp_path / "o.folded")]):
            code, _out, err = _run(*cmd, str(path))
            assert code == 2, (name, err)
            assert err.count("\n") == 1 and str(path) in err, (name, err)
            assert "Traceback" not in err
    code, _out, err = _run("analyze", str(tmp_path / "truncated.json"))
    assert ":1: invalid JSON" in err  # the line is named where there is one


def test_cli_convert_speedscope_to_folded_keeps_weights(tmp_path: Path) -> None:
    out = tmp_path / "out.folded"
    code, _o, err = _run("convert", str(UNIT / "pyspy.speedscope.json"), "-o", str(out))
    assert code == 0, err
    original = read_profile(UNIT / "pyspy.speedscope.json")
    folded = read_profile(out)
    assert folded.meta.sources[0].format == "folded"
    # Seconds are written as whole microseconds (folded counts are integers).
    assert "microseconds" in err
    want = {k: v * 1e6 for k, v in _totals_by_stack(original).items()}
    assert _totals_by_stack(folded) == pytest.approx(want, abs=1)


def test_cli_convert_session_to_speedscope(tmp_path: Path) -> None:
    out = tmp_path / "out.speedscope.json"
    code, _o, err = _run("convert", str(UNIT / "pyinstrument.pyisession"), "-o", str(out))
    assert code == 0, err
    again = read_profile(out)
    original = read_profile(UNIT / "pyinstrument.pyisession")
    assert _totals_by_stack(again) == _totals_by_stack(original)
    code, _o, err = _run(
        "convert", str(SPEEDSCOPE_REF / "two-sampled.speedscope.json"), "-o", "-", "--to", "folded"
    )
    assert code == 0 and "a;b;c 10" in _o


def test_cli_convert_pstats_refused(tmp_path: Path) -> None:
    code, _o, err = _run("convert", str(UNIT / "cprofile.pstats"), "-o", str(tmp_path / "x.json"))
    assert code == 2
    assert "no stacks" in err and err.count("\n") == 1


SAMPLE_FORMATS = {
    "pyspy.speedscope.json": "speedscope",
    "pyinstrument.pyisession.gz": "pyinstrument",
    "cprofile.pstats": "pstats",
    "pyspy.raw.txt": "folded",
}


@pytest.mark.parametrize(("fixture", "fmt"), sorted(SAMPLE_FORMATS.items()))
def test_detect_sample_monolith_fixtures(fixture: str, fmt: str) -> None:
    """The sample monolith's recordings (fixtures/sample) read as their format."""
    path = ROOT / "fixtures" / "sample" / fixture
    profile = read_profile(path)
    assert profile.meta.sources[0].format == fmt
    assert profile.total > 0
    assert any("demo" in f.file for f in profile.frames) or any(
        "demo" in k.file for k in profile.function_stats
    )


def test_folded_round_trip_real_pyspy_raw(tmp_path: Path) -> None:
    src = UNIT / "pyspy.raw.txt"
    original = read_profile(src)
    plain_total = sum(int(line.rpartition(" ")[2]) for line in src.read_text().splitlines())
    assert original.total == plain_total
    buf = io.BytesIO()
    write_profile(original, buf, "folded")
    out = tmp_path / "again.folded"
    out.write_bytes(buf.getvalue())
    again = read_profile(out)
    assert _totals_by_stack(again) == _totals_by_stack(original)
    assert again.label_sets[1:] and set(again.label_sets) == set(original.label_sets)


def test_json_fallback_without_orjson(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hotpath.formats import jsondoc

    fast = read_profile(UNIT / "pyspy.speedscope.json")
    monkeypatch.setattr(jsondoc, "_orjson", None)
    slow = read_profile(UNIT / "pyspy.speedscope.json")
    assert _totals_by_stack(slow) == _totals_by_stack(fast)
    cut = tmp_path / "cut.json"
    cut.write_text('{"$schema": "https://www.speedscope.app/file-format-schema.json",\n "sh')
    with pytest.raises(ProfileParseError) as err:
        read_profile(cut)
    assert err.value.line == 2
    buf = io.BytesIO()
    write_profile(fast, buf, "speedscope")
    assert json.loads(buf.getvalue())["profiles"]

"""pprof output read back three ways: the protobuf generated classes, hotpath's own reader,
and an independent decoder (the npm package pprof-format)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.errors import ProfileParseError, UsageError
from hotpath.formats import detect, read_bytes, read_profile
from hotpath.formats.pprof import write
from hotpath.formats.pprof_proto import profile_pb2 as pb
from hotpath.model import FunctionKey, FunctionStats, Metadata, Profile
from tests.capability import require

JS_DIR = Path(__file__).parents[1] / "js"


def _sample_profile() -> Profile:
    p = Profile(Metadata(interval_s=0.01, duration_s=2.5))
    main = ("main", "app/main.py", 1)
    rows = [
        ([main, ("handle", "app/views.py", 10), ("compute", "app/calc.py", 3)], 50, "w1", "GET /a"),
        ([main, ("handle", "app/views.py", 12), ("compute", "app/calc.py", 4)], 25, "w2", "GET /a"),
        (
            [main, ("handle", "app/views.py", 10), ("<script>x</script>", "a b.py", 7)],
            20,
            "w1",
            "GET /b",
        ),
        ([main], 4, "w2", "GET /b"),
        ([], 1, "w1", "GET /b"),
    ]
    from hotpath.model import Frame

    for frames, w, thread, ep in rows:
        p.add_frames(
            [Frame(n, f, ln) for n, f, ln in frames], w, {"thread": thread, "endpoint": ep}
        )
    p.meta.sample_count = 100
    return p


def _bytes(p: Profile) -> bytes:
    buf = io.BytesIO()
    write(p, buf)
    return buf.getvalue()


def _leaf_self(p: Profile) -> Counter[str]:
    out: Counter[str] = Counter()
    for frames, _labels, w in p.iter_samples():
        out[frames[-1].name if frames else ""] += w
    return out


def test_pprof_is_gzip_and_decodes_with_generated_classes() -> None:
    p = _sample_profile()
    data = _bytes(p)
    assert data[:2] == b"\x1f\x8b"
    msg = pb.Profile()
    msg.ParseFromString(gzip.decompress(data))
    st = list(msg.string_table)
    assert st[0] == ""
    assert [(st[t.type], st[t.unit]) for t in msg.sample_type] == [
        ("samples", "count"),
        ("cpu", "nanoseconds"),
    ]
    assert sum(s.value[0] for s in msg.sample) == p.total == 100
    assert sum(s.value[1] for s in msg.sample) == 100 * 10_000_000
    assert msg.period == 10_000_000 and msg.duration_nanos == 2_500_000_000
    labels = Counter()
    for s in msg.sample:
        for lb in s.label:
            labels[(st[lb.key], st[lb.str])] += s.value[0]
    assert labels[("endpoint", "GET /a")] == 75 and labels[("thread", "w1")] == 71


def test_pprof_roundtrip_keeps_stacks_labels_and_meta() -> None:
    p = _sample_profile()
    back = read_bytes(_bytes(p), "x.pb.gz")
    assert back.meta.unit == "samples" and back.total == p.total
    assert back.meta.interval_s == pytest.approx(0.01)
    assert back.meta.duration_s == pytest.approx(2.5)
    assert back.meta.sample_count == 100

    def norm(prof: Profile) -> Counter[tuple[object, ...]]:
        c: Counter[tuple[object, ...]] = Counter()
        for frames, labels, w in prof.iter_samples():
            c[(tuple((f.name, f.file, f.line) for f in frames), labels)] += w
        return c

    assert norm(back) == norm(p)


def test_pprof_seconds_profile_roundtrips_in_nanoseconds() -> None:
    p = Profile(Metadata(unit="seconds"))
    from hotpath.model import Frame

    p.add_frames([Frame("a", "x.py", 1), Frame("b", "x.py", 5)], 0.125)
    p.add_frames([Frame("a", "x.py", 1)], 1.5)
    back = read_bytes(_bytes(p), "s.pprof")
    assert back.meta.unit == "seconds"
    assert back.total == pytest.approx(1.625)


def test_pprof_output_is_deterministic_and_detected_by_content() -> None:
    a, b = _bytes(_sample_profile()), _bytes(_sample_profile())
    assert a == b
    assert detect(gzip.decompress(a)[:4096], "no-extension").name == "pprof"


def test_pprof_refuses_call_statistics_only() -> None:
    p = Profile(Metadata(unit="seconds"))
    p.function_stats[FunctionKey("f", "a.py")] = FunctionStats(1.0, 1.0, 3, 3)
    with pytest.raises(UsageError, match="call statistics"):
        _bytes(p)


@pytest.mark.parametrize(
    "payload",
    [b"\x0a\x04\x08\x01\x10", gzip.compress(b"\x0a\x04\x08\x01\x10\x02\x12\x05\x0a\x01")],
)
def test_pprof_corrupt_input_names_the_file(payload: bytes) -> None:
    with pytest.raises(ProfileParseError, match=r"^bad\.pb\.gz"):
        read_bytes(payload, "bad.pb.gz", "pprof")


def test_cli_convert_to_pprof_and_analyze_it(tmp_path: Path) -> None:
    src = tmp_path / "p.folded"
    src.write_text("main (app.py:1);work (app.py:9) 3\nmain (app.py:2) 1\n")
    out = tmp_path / "p.pb.gz"
    res = CliRunner().invoke(main, ["convert", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    prof = read_profile(out)
    assert prof.total == 4
    res = CliRunner().invoke(main, ["analyze", str(out), "-f", "json"])
    assert res.exit_code == 0, res.output
    funcs = {f["name"]: f for f in json.loads(res.output)["functions"]}
    assert funcs["work"]["self"] == 3 and funcs["main"]["inclusive"] == 4


def _pprof_format_dir() -> Path:
    """pprof-format installed (once per package.json version) into a cache directory."""
    missing = [t for t in ("node", "npm") if shutil.which(t) is None]
    require(not missing, f"the independent pprof decoder needs {', '.join(missing)}")
    spec = (JS_DIR / "package.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache / "hotpath-tests" / f"js-{hashlib.sha256(spec).hexdigest()[:12]}"
    if not (target / "node_modules" / "pprof-format").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_bytes(spec)
        proc = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=300,
        )
        require(proc.returncode == 0, f"npm install pprof-format failed: {proc.stderr[-500:]}")
    return target


def pprof_format_totals(path: Path) -> dict[str, Any]:
    """What npm's pprof-format (an independent decoder) reads from the file at ``path``."""
    modules = _pprof_format_dir()
    proc = subprocess.run(
        ["node", str(JS_DIR / "pprof_totals.js"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(modules / "node_modules")},
        check=True,
    )
    got: dict[str, Any] = json.loads(proc.stdout)
    return got


def test_pprof_independent_decoder_sees_identical_totals(tmp_path: Path) -> None:
    p = _sample_profile()
    path = tmp_path / "p.pb.gz"
    path.write_bytes(_bytes(p))
    got = pprof_format_totals(path)
    assert got["types"] == ["samples/count", "cpu/nanoseconds"]
    assert got["totals"] == {"samples/count": 100, "cpu/nanoseconds": 1_000_000_000}
    assert got["samples"] == len(p.samples)
    assert got["period"] == 10_000_000 and got["durationNanos"] == 2_500_000_000
    assert got["leafSelf"] == dict(_leaf_self(p))
    assert got["labels"] == {
        "endpoint=GET /a": 75,
        "endpoint=GET /b": 25,
        "thread=w1": 71,
        "thread=w2": 29,
    }


def test_pprof_string_index_out_of_range_is_a_parse_error() -> None:
    msg = pb.Profile()
    msg.sample_type.add(type=7, unit=8)  # the string table is empty
    with pytest.raises(ProfileParseError, match="refers to string 7"):
        read_bytes(msg.SerializeToString(), "bad.pprof", "pprof")

"""The observed boundary: types, sizes and rates from a capture, in the brief's words."""

from __future__ import annotations

from pathlib import Path

from hotpath.analysis.brief import observed_lines
from hotpath.prove.capture import capture
from hotpath.prove.evidence import observe
from hotpath.prove.files import read_capture
from tests.prove import textlib


def test_boundary_observed_from_a_capture(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    with capture("tests.prove.textlib:distance", out, max_overhead=1000.0) as cap:
        for i in range(21):
            textlib.distance("x" * (10 + i), "y" * 5)
        for _ in range(4):
            cap.note_request()
    b = observe(read_capture(str(out)))
    a, bb = b.params
    assert (a.name, a.types, a.sizes) == ("a", (("str", 21),), (10, 20, 30))
    assert bb.sizes == (5, 5, 5) and b.result.min_int == 10
    assert b.calls == 21 and b.calls_per_request == 5.25 and b.call_rate and b.call_rate > 0
    assert b.bytes_in == len('{"a":"' + "x" * 20 + '","b":"yyyyy"}') and b.bytes_out == 2
    lines = observed_lines(b, "microservice", "distance", 1e-4)
    text = "\n".join(lines)
    assert "fn distance(a: &str, b: &str) -> usize" in lines[0]
    assert "a: str, length 10-30 (median 20); b: str, length 5; return: int." in text
    assert "5.25 calls per request" in text
    assert "each call sends ~40 B and receives ~2 B of JSON" in text and "kB/s" in text
    ext = "\n".join(observed_lines(b, "extension", "distance", 1e-4))
    assert "round trip" not in ext


def test_boundary_mixed_and_optional_types(tmp_path: Path) -> None:
    out = tmp_path / "e.json"
    with capture("tests.prove.textlib:echo", out, max_overhead=1000.0):
        textlib.echo(None, -3)
        textlib.echo("s", 4)
        textlib.echo("t", 5)
    b = observe(read_capture(str(out)))
    first, second = b.params  # *args items, named after the star parameter
    assert first.name == "args[0]" and dict(first.types) == {"str": 2, "None": 1}
    assert "args[0]: Option<&str>" not in observed_lines(b, "extension", "echo", 1e-4)[0]
    assert "args[0]: Option<String>" in observed_lines(b, "extension", "echo", 1e-4)[0]
    assert second.min_int == -3
    assert "args[1]: i64" in observed_lines(b, "extension", "echo", 1e-4)[0]

"""Exports never add CPU and wall time: a profile recorded with both (the collectors' shape:
every stack as ``measure=cpu`` and as ``measure=wall``, idle time in the wall part) is
written with the right total per measure, and read back by the peers' own parsing rules."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.analysis.pipeline import analyze
from hotpath.cli import main
from hotpath.formats import read_bytes, read_profile
from hotpath.formats.pprof_proto import profile_pb2 as pb
from hotpath.model import (
    ACTIVE,
    CPU,
    ENDPOINT,
    IDLE,
    MEASURE,
    PID,
    STATE,
    WALL,
    Frame,
    Metadata,
    Profile,
    cpu_view,
    wall_view,
)
from hotpath.report.exports import ExportOptions, export
from tests.formats.conftest import UNIT

SPEEDSCOPE_COLLAPSED = re.compile(r"^(.*) (\d+)$")
"""speedscope's collapsed-stack importer keeps only lines matching this."""
FLAMEGRAPH_PL = re.compile(r"^(.*)\s+?(\d+(?:\.\d*)?)$")
"""flamegraph.pl's line rule (``my ($stack, $samples) = (/^(.*)\\s+?(\\d+(?:\\.\\d*)?)$/)``);
lines that do not match are ignored, so a count like 4.8e-05 silently disappears."""

CPU_S = 2.60
"""CPU seconds in the recording below (the middleware profile of 2.60 s CPU)."""


def recorded() -> Profile:
    """The shape of a middleware/recorder profile: CPU weights and wall weights per stack."""
    p = Profile(Metadata(unit="seconds", interval_s=0.01, duration_s=10.0))
    view = [Frame("handle", "app/views.py", 10, 9), Frame("render", "app/tpl.py", 5, 4)]
    query = [Frame("handle", "app/views.py", 12, 9), Frame("query", "app/db.py", 3, 2)]
    wait = [Frame("Condition.wait", "threading.py", 320, 300)]
    base = {ENDPOINT: "GET /x", PID: "4242"}
    p.add_frames(view, 2.0, {**base, MEASURE: CPU})
    p.add_frames(query, 0.6, {**base, MEASURE: CPU})
    p.add_frames(view, 2.5, {**base, MEASURE: WALL, STATE: ACTIVE})
    p.add_frames(query, 1.53, {**base, MEASURE: WALL, STATE: ACTIVE})
    p.add_frames(wait, 1.0, {**base, MEASURE: WALL, STATE: IDLE})
    return p


def _export(p: Profile, fmt: str, measure: str = CPU) -> bytes:
    buf = io.BytesIO()
    export(p, buf, fmt, ExportOptions(measure=measure))
    return buf.getvalue()


def _folded_total(text: str, rule: re.Pattern[str]) -> tuple[int, int]:
    """(total of the lines the rule keeps, lines it drops)."""
    total, dropped = 0, 0
    for line in text.splitlines():
        m = rule.match(line)
        if m is None:
            dropped += 1
        else:
            total += int(float(m.group(2)))
    return total, dropped


@pytest.mark.parametrize(("measure", "want_s"), [(CPU, CPU_S), (WALL, 5.03)])
def test_export_folded_one_measure_integer_microseconds(measure: str, want_s: float) -> None:
    text = _export(recorded(), "folded", measure).decode()
    for rule in (SPEEDSCOPE_COLLAPSED, FLAMEGRAPH_PL):
        total, dropped = _folded_total(text, rule)
        assert dropped == 0
        assert total == round(want_s * 1e6)
    assert 'process 4242:""' not in text and "process" not in text
    assert ("Condition.wait" in text) == (measure == WALL)


def test_export_folded_tiny_weights_keep_the_total() -> None:
    p = Profile(Metadata(unit="seconds"))
    for i in range(1000):
        p.add_frames([Frame(f"f{i}", "a.py", 1)], 4.8e-07)  # each far below a microsecond
    text = _export(p, "folded").decode()
    assert _folded_total(text, FLAMEGRAPH_PL) == (round(4.8e-07 * 1000 * 1e6), 0)


def test_export_folded_samples_stay_counts() -> None:
    src = (UNIT / "pyspy.raw.txt").read_bytes()
    back = _export(read_bytes(src, "x.txt"), "folded").decode()
    want = sum(int(line.rsplit(" ", 1)[1]) for line in src.decode().splitlines() if line)
    assert _folded_total(back, SPEEDSCOPE_COLLAPSED) == (want, 0)


def test_export_folded_keeps_process_frames_with_a_command_line() -> None:
    p = Profile()
    p.add_frames([Frame("work", "w.py", 3)], 5, {PID: "7", "process": "python w.py"})
    assert _export(p, "folded").decode() == 'process 7:"python w.py";work (w.py:3) 5\n'


@pytest.mark.parametrize(("measure", "want_s"), [(CPU, CPU_S), (WALL, 5.03)])
def test_export_speedscope_one_measure(measure: str, want_s: float) -> None:
    back = read_bytes(_export(recorded(), "speedscope", measure), "x.speedscope.json")
    assert back.total == pytest.approx(want_s)


def test_export_pprof_cpu_and_wall_sample_types_never_summed() -> None:
    p = recorded()
    msg = pb.Profile()
    msg.ParseFromString(gzip.decompress(_export(p, "pprof")))
    st = list(msg.string_table)
    assert [(st[t.type], st[t.unit]) for t in msg.sample_type] == [
        ("cpu", "nanoseconds"),
        ("wall", "nanoseconds"),
    ]
    assert st[msg.default_sample_type] == "cpu"
    assert sum(s.value[0] for s in msg.sample) == round(CPU_S * 1e9)
    assert sum(s.value[1] for s in msg.sample) == round(5.03 * 1e9)
    # One sample per stack and label set, the measure a column rather than a label.
    assert len(msg.sample) == 3
    keys = {st[lb.key] for s in msg.sample for lb in s.label}
    assert keys == {ENDPOINT, PID, STATE}
    # hotpath reads the two columns back as the two measures.
    back = read_bytes(_export(p, "pprof"), "x.pb.gz")
    assert cpu_view(back).total == pytest.approx(CPU_S)
    assert wall_view(back).total == pytest.approx(5.03)


def test_export_pprof_idle_samples_are_wall_not_cpu() -> None:
    p = Profile(Metadata(interval_s=0.01))
    p.add_frames([Frame("work", "w.py", 3)], 70, {STATE: ACTIVE})
    p.add_frames([Frame("sleep", "w.py", 9)], 30, {STATE: IDLE})
    msg = pb.Profile()
    msg.ParseFromString(gzip.decompress(_export(p, "pprof")))
    st = list(msg.string_table)
    types = [f"{st[t.type]}/{st[t.unit]}" for t in msg.sample_type]
    assert types == ["samples/count", "cpu/nanoseconds", "wall/nanoseconds"]
    totals = [sum(s.value[i] for s in msg.sample) for i in range(3)]
    assert totals == [100, 70 * 10_000_000, 100 * 10_000_000]


def test_export_dot_shares_are_the_analysis_shares(tmp_path: Path) -> None:
    p = recorded()
    text = _export(p, "dot").decode()
    rows = {r.name: r for r in analyze(p).functions}
    labels = dict(re.findall(r'label="([^"\\]+)\\n[^"]*?\\n([\d.]+)%\\n', text))
    assert labels, text
    for name, pct in labels.items():
        assert float(pct) == pytest.approx(100 * rows[name].inclusive_share, abs=0.006), name
    assert float(labels["handle"]) == 100.0  # every CPU second is under handle
    assert "Condition.wait" not in text


def test_export_dot_pstats_never_over_100_percent() -> None:
    text = _export(read_profile(UNIT / "cprofile.pstats"), "dot").decode()
    shares = [float(x) for x in re.findall(r"([\d.]+)%", text)]
    assert shares and max(shares) <= 100.0


def test_cli_convert_pstats_to_hotpath_keeps_call_statistics(tmp_path: Path) -> None:
    out = tmp_path / "c.hotpath"
    res = CliRunner().invoke(main, ["convert", str(UNIT / "cprofile.pstats"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    original = read_profile(UNIT / "cprofile.pstats")
    back = read_profile(out)
    assert back.function_stats == original.function_stats
    assert back.call_edges == original.call_edges


def test_cli_convert_measure_wall_and_states_the_unit(tmp_path: Path) -> None:
    src = tmp_path / "r.hotpath"
    src.write_bytes(_export(recorded(), "hotpath"))
    out = tmp_path / "r.folded"
    res = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--measure", "wall"])
    assert res.exit_code == 0, res.output
    assert "WALL time, counts in microseconds" in res.output
    assert _folded_total(out.read_text(), SPEEDSCOPE_COLLAPSED) == (5_030_000, 0)


def test_export_pprof_independent_decoder_totals_per_measure(tmp_path: Path) -> None:
    """The npm package pprof-format (not hotpath's protobuf classes) decodes the file."""
    from tests.formats.test_pprof import pprof_format_totals

    path = tmp_path / "r.pb.gz"
    path.write_bytes(_export(recorded(), "pprof"))
    got = pprof_format_totals(path)
    assert got["types"] == ["cpu/nanoseconds", "wall/nanoseconds"]
    assert got["totals"] == {"cpu/nanoseconds": 2_600_000_000, "wall/nanoseconds": 5_030_000_000}
    assert got["labels"]["endpoint=GET /x"] == 2_600_000_000  # labels kept (cpu column)

"""`hotpath analyze` picks the report format from --format or the output's extension."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.cli import main
from tests.report.report_samples import sample_profile_path


@pytest.mark.parametrize(
    ("args", "name", "start"),
    [
        ([], "r.html", "<!DOCTYPE html>"),
        ([], "r.md", "## hotpath report"),
        (["-f", "markdown"], "r.txt", "## hotpath report"),
        (["-f", "html"], "out", "<!DOCTYPE html>"),
    ],
)
def test_cli_analyze_writes_report_format(
    tmp_path: Path, args: list[str], name: str, start: str
) -> None:
    out = tmp_path / name
    src = sample_profile_path(tmp_path)
    res = CliRunner().invoke(main, ["analyze", str(src), "-o", str(out), *args])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith(start)


def test_cli_analyze_text_to_a_pipe_has_no_colour(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["analyze", str(sample_profile_path(tmp_path))])
    assert res.exit_code == 0
    assert "compute" in res.output and "\x1b[" not in res.output


def test_cli_convert_dot_reader_refuses_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "g.dot"
    path.write_text("digraph x {}\n")
    # DOT is written, never read: --input-format does not offer it.
    res = CliRunner().invoke(main, ["analyze", str(path), "--input-format", "dot"])
    assert res.exit_code == 2
    assert "'dot' is not one of" in res.output
    from hotpath.errors import ProfileParseError
    from hotpath.formats import read_profile

    with pytest.raises(ProfileParseError, match="cannot read them back"):
        read_profile(path, "dot")

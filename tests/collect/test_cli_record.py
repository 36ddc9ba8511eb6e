"""The record/attach commands in process (click's CliRunner): usage and error paths."""

from __future__ import annotations

from click.testing import CliRunner

from hotpath.cli import main


def test_cli_record_without_command_is_usage_error() -> None:
    result = CliRunner().invoke(main, ["record"])
    assert result.exit_code == 2


def test_cli_attach_bad_rate_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(main, ["attach", "1", "--rate", "0"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "hotpath: error: --rate must be between 1 and 10000, not 0"
    ]


def test_cli_attach_missing_pid_exits_3() -> None:
    result = CliRunner().invoke(main, ["attach", "4000000", "-d", "1"])
    assert result.exit_code == 3
    assert "no such process" in result.output

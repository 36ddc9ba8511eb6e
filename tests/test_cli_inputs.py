"""Every command that reads profiles reads them the same way (hotpath.cli_common)."""

from __future__ import annotations

import gzip
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hotpath.cli import main
from hotpath.cli_common import InputOptions, read_inputs
from hotpath.formats import readable_format_names

READERS = ("analyze", "convert", "diff", "gate")

# Two "workers" of one service: folded stacks, one file each.
WORKER_A = b"main;serve;handle;score 30\nmain;serve;handle;render 10\n"
WORKER_B = b"main;serve;handle;score 26\nmain;serve;handle;render 14\nmain;idle 1\n"


def _params(name: str) -> dict[str, click.Parameter]:
    command = main.commands[name]
    return {p.name: p for p in command.params if p.name}


@pytest.mark.parametrize("name", READERS)
def test_cli_inputs_every_reading_command_has_the_same_input_options(name: str) -> None:
    params = _params(name)
    fmt = params["input_format"]
    assert isinstance(fmt.type, click.Choice)
    assert list(fmt.type.choices) == readable_format_names()
    assert "dot" not in fmt.type.choices  # written, never read
    assert "folded" in fmt.type.choices
    assert "max_decompressed_mb" in params


def test_cli_inputs_gate_refuses_unknown_input_format(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(WORKER_A)
    res = CliRunner().invoke(
        main, ["gate", str(tmp_path / "a.txt"), str(tmp_path / "a.txt"), "--input-format", "x"]
    )
    assert res.exit_code == 2
    assert "'x' is not one of" in res.output


def test_cli_inputs_gate_caps_decompressed_input(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.txt.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        for _ in range(3):
            f.write(b"a;b 1\n" * (1024**2 // 6 + 1))
    (tmp_path / "ok.txt").write_bytes(WORKER_A)
    args = ["gate", str(tmp_path / "ok.txt"), str(bomb), "--max-decompressed-mb", "1"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert "decompresses to more than 1 MiB" in res.output
    assert "Traceback" not in res.output


def test_cli_inputs_per_file_parts_merge_to_the_accumulated_profile(tmp_path: Path) -> None:
    side = tmp_path / "workers"
    side.mkdir()
    (side / "w1.txt").write_bytes(WORKER_A)
    (side / "w2.txt").write_bytes(WORKER_B)
    options = InputOptions(input_format="folded")
    ((together, none),) = read_inputs([[str(side)]], options)
    ((merged, parts),) = read_inputs([[str(side)]], options, per_file=True)
    assert none == [] and len(parts) == 2
    assert [p.total for p in parts] == [40, 41]
    assert together.total == merged.total == 81

    def by_names(profile: object) -> dict[tuple[str, ...], float]:
        from hotpath.model import Profile

        assert isinstance(profile, Profile)
        out: dict[tuple[str, ...], float] = {}
        for frames, _labels, w in profile.iter_samples():
            key = tuple(f.name for f in frames)
            out[key] = out.get(key, 0.0) + w
        return out

    assert by_names(together) == by_names(merged)
    assert sorted(s.path for s in together.meta.sources) == sorted(
        s.path for s in merged.meta.sources
    )


def test_cli_inputs_diff_reads_a_directory_of_workers_per_side(tmp_path: Path) -> None:
    for name in ("base", "current"):
        d = tmp_path / name
        d.mkdir()
        (d / "w1.txt").write_bytes(WORKER_A)
        (d / "w2.txt").write_bytes(WORKER_B)
    for flag in ("--estimate-dispersion", "--no-estimate-dispersion"):
        res = CliRunner().invoke(
            main,
            ["diff", str(tmp_path / "base"), str(tmp_path / "current"), flag, "-f", "json"],
        )
        assert res.exit_code == 0, res.output
        assert '"score"' in res.output

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotpath.analysis.gate import (
    Budget,
    GateConfig,
    check_budget,
    config_from_table,
    explain,
    load_config,
    override,
    parse_budget_option,
    parse_share,
    run_gate,
)
from hotpath.errors import ConfigError
from hotpath.model import Frame, Profile

PYPROJECT = """
[project]
name = "x"

[tool.hotpath]
source-root = "src"

[tool.hotpath.gate]
min-change-pp = 2.5
min-change-relative = 0.2
alpha = 0.01
correction = "bh"
dispersion = 3
ignore = ["*/site-packages/*"]

[tool.hotpath.budgets]
"myapp.search:score" = "12%"

[tool.hotpath.endpoint-budgets]
"GET /search" = 0.5
"""


def _profile() -> Profile:
    p = Profile()
    f = "myapp/search.py"
    p.add_frames([Frame("main", f, 1), Frame("score", f, 5)], 30, {"endpoint": "GET /search"})
    p.add_frames([Frame("main", f, 1), Frame("other", f, 9)], 70, {"endpoint": "GET /x"})
    # Recursion: counted once per stack.
    p.add_frames([Frame("score", f, 5), Frame("score", f, 5)], 0, None)
    return p


def test_load_config_reads_tool_hotpath(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    cfg = load_config(path)
    o = cfg.diff
    assert (o.min_change_pp, o.min_change_relative, o.alpha, o.correction, o.dispersion) == (
        2.5,
        0.2,
        0.01,
        "bh",
        3.0,
    )
    assert o.ignore == ("*/site-packages/*",)
    assert o.source_root == str(tmp_path / "src")
    assert Budget("myapp.search:score", "function", 0.12) in cfg.budgets
    assert Budget("GET /search", "endpoint", 0.5) in cfg.budgets


def test_load_config_without_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[project]\nname='x'\n")
    assert load_config(path) == GateConfig(config_file=str(path))


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"gate": {"alpha": "high"}}, "alpha must be a number"),
        ({"gate": {"nope": 1}}, "unknown key"),
        ({"gate": {"correction": "bonf"}}, "correction"),
        ({"gate": {"ignore": "x"}}, "list of strings"),
        ({"budgets": {"f": "120%"}}, "between 0% and 100%"),
        ({"budgets": {"f": "lots"}}, "expected a share"),
        ({"gate": {"dispersion": 0.5}}, "dispersion"),
    ],
)
def test_config_errors_name_the_key(table: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        config_from_table(table, "pyproject.toml")


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.hotpath\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)


def test_override_replaces_options_and_budgets() -> None:
    cfg = config_from_table({"budgets": {"a:f": "10%", "b:g": "5%"}})
    out = override(cfg, (Budget("a:f", "function", 0.2),), alpha=0.001, dispersion=None)
    assert out.diff.alpha == 0.001 and out.diff.dispersion == cfg.diff.dispersion
    assert sorted((b.target, b.max_share) for b in out.budgets) == [("a:f", 0.2), ("b:g", 0.05)]
    rows = dict(explain(out))
    assert rows["alpha"] == "0.001"


def test_parse_share_forms() -> None:
    assert parse_share("12%", "x") == pytest.approx(0.12)
    assert parse_share(" 7.5 %", "x") == pytest.approx(0.075)
    assert parse_share(0.3, "x") == 0.3
    with pytest.raises(ConfigError):
        parse_share(True, "x")
    assert parse_budget_option("myapp.search:score=12%", "function").target == (
        "myapp.search:score"
    )
    with pytest.raises(ConfigError):
        parse_budget_option("12%", "function")


def test_check_budget_counts_inclusive_share() -> None:
    p = _profile()
    check = check_budget(p, Budget("myapp.search:score", "function", 0.25))
    assert check.share == pytest.approx(0.30) and not check.passed
    assert "30.0% of CPU exceeds its budget of 25.0%" in check.message
    assert check.file == "myapp/search.py" and check.line == 5
    assert check_budget(p, Budget("myapp.search:score", "function", 0.30)).passed
    ep = check_budget(p, Budget("GET /x", "endpoint", 0.5))
    assert ep.share == pytest.approx(0.7) and not ep.passed
    missing = check_budget(p, Budget("nothere:f", "function", 0.1))
    assert missing.passed and "not in the current profile" in missing.message


def test_run_gate_fails_on_budget_only() -> None:
    p = _profile()
    cfg = GateConfig(budgets=(Budget("myapp.search:score", "function", 0.1),))
    result = run_gate(p, p, cfg)
    assert not result.regressions and result.exit_code == 1
    assert run_gate(p, p).exit_code == 0


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"gate": {"dispersion": float("nan")}}, "dispersion must be a finite number"),
        ({"gate": {"min-change-relative": float("nan")}}, "min-change-relative must be"),
        ({"gate": {"alpha": float("inf")}}, "alpha must be a finite number"),
        ({"budget": {"x:y": "1%"}}, "unknown key [tool.hotpath] 'budget'"),
        ({"endpoint-budget": {"GET /": "1%"}}, "did you mean 'endpoint-budgets'"),
        ({"budgets": {"x:y": "nan%"}}, "between 0% and 100%"),
    ],
)
def test_config_that_would_disable_the_gate_is_an_error(
    table: dict[str, object], needle: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        config_from_table(table)


def test_override_rejects_nan_from_the_command_line() -> None:
    with pytest.raises(ConfigError, match="dispersion must be a finite number"):
        override(GateConfig(), dispersion=float("nan"))

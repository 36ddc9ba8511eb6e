"""Every registered renderer renders an empty analysis and a full one, to text or bytes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from hotpath.analysis.pipeline import analyze
from hotpath.model import Frame, FunctionKey, FunctionStats, Metadata, Profile
from hotpath.report import REGISTRY
from tests.report.report_samples import base_analysis, full_analysis


def _stats_only() -> Profile:
    p = Profile(Metadata(unit="seconds"))
    p.function_stats[FunctionKey("f", "a.py")] = FunctionStats(1.0, 2.0, 3, 3)
    p.function_stats[FunctionKey("g", "a.py")] = FunctionStats(1.0, 1.0, 9, 9)
    return p


def _one_frame() -> Profile:
    p = Profile()
    p.add_frames([Frame("only", "a.py", 1)], 1)
    return p


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("case", ["empty", "one", "stats", "base", "full"])
def test_renderer_contract(name: str, case: str, tmp_path: Path) -> None:
    renderer = REGISTRY[name]
    analysis = {
        "empty": lambda: analyze(Profile()),
        "one": lambda: analyze(_one_frame()),
        "stats": lambda: analyze(_stats_only()),
        "base": lambda: base_analysis(tmp_path),
        "full": lambda: full_analysis(tmp_path),
    }[case]()
    out: io.BytesIO | io.StringIO = io.BytesIO() if renderer.binary else io.StringIO()
    renderer.render(analysis, out)
    value = out.getvalue()
    assert len(value) > 0
    assert renderer.extension.startswith(".")
    if case in ("base", "full"):
        text = value.decode() if isinstance(value, bytes) else value
        assert "compute" in text


def test_registry_names_its_renderers_and_imports_them_lazily(tmp_path: Path) -> None:
    assert all(REGISTRY[name].name == name for name in REGISTRY)
    folded = tmp_path / "p.folded"
    folded.write_text("main (app.py:1);work (app.py:5) 3\n")
    code = (
        "import sys\n"
        "from hotpath.cli import main\n"
        f"args = ['analyze', {str(folded)!r}, '-f', 'json', '-o', {str(tmp_path / 'o.j')!r}]\n"
        "main(args, standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('rich', 'hotpath.report.h',"
        " 'hotpath.report.t', 'hotpath.report.m', 'hotpath.report.j'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "['hotpath.report.json']", proc.stdout

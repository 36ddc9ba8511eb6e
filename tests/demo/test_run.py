"""``hotpath demo`` end to end: the installed command, the real monolith, real py-spy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.collect.support import hotpath_cmd, require_ptrace


def test_demo_prints_endpoints_and_writes_reports(tmp_path: Path) -> None:
    require_ptrace()
    out = subprocess.run(
        [*hotpath_cmd(), "demo", "--duration", "3", "--out-dir", str(tmp_path)],
        capture_output=True,
        timeout=120,
    )
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert "Endpoints" in text and "kernel_view" in text and "report_view" in text
    doc = json.loads((tmp_path / "hotpath-demo.json").read_text())
    assert doc["functions"], doc.keys()
    assert (tmp_path / "hotpath-demo.hotpath").stat().st_size > 0

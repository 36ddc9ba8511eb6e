"""The Graphviz DOT call graph: thresholds prune like gprof2dot, labels are escaped."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotpath.analysis.callgraph import build_callgraph
from hotpath.cli import main
from hotpath.errors import UsageError
from hotpath.model import Frame, Profile
from hotpath.report.dot import DotOptions, escape, render_dot
from tests.capability import require


def _profile() -> Profile:
    p = Profile()
    main_ = Frame("main", "app.py", 1)
    p.add_frames([main_, Frame("hot", "app.py", 5)], 90)
    p.add_frames([main_, Frame("hot", "app.py", 5), Frame("leaf", "lib.py", 2)], 6)
    p.add_frames([main_, Frame("cold", "app.py", 9)], 3)
    p.add_frames([main_, Frame('evil"\\\n}', "x.py", 1)], 1)
    return p


def _dot(p: Profile, opts: DotOptions | None = None) -> str:
    buf = io.BytesIO()
    render_dot(build_callgraph(p), buf, opts)
    return buf.getvalue().decode()


def _nodes(text: str) -> dict[str, str]:
    """node id -> first label line (unescaped enough to compare names)."""
    return {
        m.group(1): m.group(2).split("\\n")[0]
        for m in re.finditer(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"', text, re.M)
    }


def test_dot_node_threshold_drops_small_functions() -> None:
    text = _dot(_profile(), DotOptions(node_thres=5.0, edge_thres=0.0))
    assert set(_nodes(text).values()) == {"main", "hot", "leaf"}
    text = _dot(_profile(), DotOptions(node_thres=0.0, edge_thres=0.0))
    assert len(_nodes(text)) == 5


def test_dot_edge_threshold_and_shares_match_counts() -> None:
    text = _dot(_profile(), DotOptions(node_thres=0.0, edge_thres=5.0))
    edges = re.findall(r"^  (n\d+) -> (n\d+) \[label=\"([\d.]+)%\"", text, re.M)
    names = _nodes(text)
    assert {(names[a], names[b], float(s)) for a, b, s in edges} == {
        ("main", "hot", 96.0),
        ("hot", "leaf", 6.0),
    }
    assert 'label="main\\napp.py\\n100.00%\\n(0.00%)"' in text


def test_dot_escapes_quotes_backslashes_and_newlines() -> None:
    assert escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    text = _dot(_profile(), DotOptions(0.0, 0.0))
    # Every quoted string is well formed: the graph has balanced braces outside strings.
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert stripped.count("{") == stripped.count("}") == 1
    assert "\n}" not in text[: text.rindex("}")].replace("\\n}", "")


def test_dot_rejects_negative_thresholds() -> None:
    with pytest.raises(UsageError):
        _dot(_profile(), DotOptions(node_thres=-1))


def test_cli_convert_dot_passes_thresholds(tmp_path: Path) -> None:
    src = tmp_path / "p.folded"
    src.write_text("main (app.py:1);hot (app.py:5) 90\nmain (app.py:1);cold (app.py:9) 10\n")
    out = tmp_path / "g.dot"
    res = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--node-thres", "20"])
    assert res.exit_code == 0, res.output
    assert set(_nodes(out.read_text()).values()) == {"main", "hot"}


def test_dot_output_renders_in_graphviz(tmp_path: Path) -> None:
    """Graphviz itself parses the file, hostile names included, and draws every node."""
    import shutil
    import subprocess

    exe = shutil.which("dot")
    require(exe is not None, "Graphviz `dot` is not installed (apt-get install graphviz)")
    assert exe is not None
    text = _dot(_profile(), DotOptions(0.0, 0.0))
    proc = subprocess.run(
        [exe, "-Tsvg"], input=text.encode(), capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    svg = proc.stdout.decode()
    assert svg.count('class="node"') == 5
    assert svg.count('class="edge"') == 4
    assert "evil&quot;\\" in svg  # the quote and backslash survive as text

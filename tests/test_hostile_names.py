"""Every output format fed the same hostile function names, file paths and labels.

A profile is written by the program it profiles, so its names are untrusted. Whatever they
hold, no output may start a GitHub workflow command, talk to a terminal, break XML, make a
mention or link live in Markdown, run script in HTML, or forge a stack in a folded file.
The contract runs over every analyze renderer, every diff/gate report, the CI outputs and
every profile writer (hotpath.escape does the escaping, once per format).
"""

from __future__ import annotations

import gzip
import html.parser
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hotpath import escape
from hotpath.analysis.diff import diff_profiles
from hotpath.analysis.gate import GateConfig, run_gate
from hotpath.analysis.pipeline import analyze
from hotpath.cli import main
from hotpath.formats import REGISTRY as FORMATS
from hotpath.formats import read_bytes, write_profile
from hotpath.model import ENDPOINT, THREAD, THREAD_ID, Frame, Profile
from hotpath.report import REGISTRY as RENDERERS
from hotpath.report import ci
from hotpath.report import diff as rep
from hotpath.report.diff_html import render_diff_html
from hotpath.report.exports import export, export_formats

HOSTILE = [
    "evil\n::error file=x.py,line=1::forged",
    "  ::warning::indented forgery",
    "\x1b[2J\x1b]0;pwned\x07clear\x1b[1A\x1b[2K",
    "ctl\x00\x01\x0b\x0c\r\x7f\x9b31m\x85",
    "@octocat see https://evil.example/x, www.evil.example and a@b.example",
    "a;b;c\nforged;stack 99",
    "<script>alert(1)</script>&amp;\"'",
    "pipe|`tick`*star*_u_ [l](http://x) <!-- c --> # h",
    "\u202eoverride\u2066iso\u2028sep\u2029par",
    "bad\ufffe\uffffxml",
]
HOSTILE_FILE = "dir\n::error::file/evil;path\x1b[31m.py"
FORGED = re.compile(r"^\s*::")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _profile(weight_hostile: int) -> Profile:
    p = Profile()
    for i, name in enumerate(HOSTILE):
        labels = {ENDPOINT: f"GET /{name}", THREAD: f"worker\n{name}", THREAD_ID: str(100 + i)}
        p.add_frames(
            [Frame("main", "app.py", 1, 1), Frame(name, HOSTILE_FILE, 10 + i, 10 + i)],
            weight_hostile,
            labels,
        )
    p.add_frames([Frame("main", "app.py", 1, 1), Frame("steady", "app.py", 5, 5)], 2000)
    return p


BASE, CURRENT = _profile(20), _profile(200)


def _check_text(out: str, what: str, allow_commands: int = 0) -> None:
    """No control character, no line a GitHub runner would read as a command."""
    assert not CONTROL.search(out.replace("\r\n", "\n")), (what, CONTROL.findall(out)[:5])
    forged = [ln for ln in out.split("\n") if FORGED.match(ln)]
    assert len(forged) == allow_commands, (what, forged[:3])


def _check_markdown(out: str, what: str) -> None:
    _check_text(out, what)
    assert not re.search(r"(?<![\\\u2060])@[\w-]", out), what  # a live @mention
    assert not re.search(r"[a-z]://", out, re.I) and not re.search(r"www\.", out), what
    assert not re.search(r"(?<!\\)<[a-z!/]", out, re.I), what  # raw HTML
    lines = out.splitlines()
    header = 0
    for i, line in enumerate(lines):
        cells = len(re.findall(r"(?<!\\)\|", line))
        if line.startswith("|") and i + 1 < len(lines) and re.match(r"\|\s*:?-", lines[i + 1]):
            header = cells  # a table starts: the header row before the |---| row
        elif line.startswith("|"):  # a row: as many cells as its header
            assert cells == header, (what, line)


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, _value in attrs:
            assert not name.startswith("on"), name

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _check_html(out: str, what: str) -> None:
    assert not CONTROL.search(out), what
    parser = _Tags()
    parser.feed(out)
    # The report's own scripts are JSON data islands or the viewer; none is the hostile one.
    assert "alert(1)</script>" not in out, what
    assert parser.tags.count("script") <= 3, (what, parser.tags)


def _str(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_hostile_names_analyze_renderer(name: str) -> None:
    renderer = RENDERERS[name]
    out: Any = io.BytesIO() if renderer.binary else io.StringIO()
    renderer.render(analyze(CURRENT), out)
    text = _str(out.getvalue())
    {
        "text": _check_text,
        "markdown": _check_markdown,
        "html": _check_html,
        "json": lambda t, w: _check_json(t, w, require_names=False),
    }[name](text, f"analyze -f {name}")


def _check_json(out: str, what: str, require_names: bool = True) -> None:
    assert not CONTROL.search(out), what
    doc = json.loads(out)
    found = set(re.findall(r'"name": ?"((?:[^"\\]|\\.)*)"', out))
    names = {json.loads(f'"{n}"') for n in found}
    if require_names:  # JSON is data: the exact names survive
        assert set(HOSTILE) <= names, (what, set(HOSTILE) - names)
    assert doc


def _renders() -> dict[str, Callable[[], str]]:
    d = diff_profiles(BASE, CURRENT, tree=True)
    g = run_gate(BASE, CURRENT, GateConfig())
    assert len({c.name for c in g.regressions}) >= len(HOSTILE)

    def run(fn: Callable[[Any, Any], None], arg: Any) -> str:
        out = io.StringIO()
        fn(arg, out)
        return out.getvalue()

    def junit() -> str:
        out = io.BytesIO()
        ci.write_junit(g, out)
        return out.getvalue().decode("utf-8")

    return {
        "diff-text": lambda: run(rep.render_diff_text, d),
        "diff-markdown": lambda: run(rep.render_diff_markdown, d),
        "diff-json": lambda: run(rep.render_diff_json, d),
        "diff-html": lambda: run(render_diff_html, d),
        "gate-text": lambda: run(rep.render_gate_text, g),
        "gate-markdown": lambda: run(rep.render_gate_markdown, g),
        "gate-json": lambda: run(rep.render_gate_json, g),
        "junit": junit,
        "annotations": lambda: "\n".join(ci.gate_annotations(g)) + "\n",
    }


RENDERS = _renders()


@pytest.mark.parametrize("what", sorted(RENDERS))
def test_hostile_names_diff_and_gate_output(what: str) -> None:
    out = RENDERS[what]()
    if what.endswith("markdown"):
        _check_markdown(out, what)
    elif what.endswith("json"):
        _check_json(out, what)
    elif what.endswith("html"):
        _check_html(out, what)
    elif what == "junit":
        assert not CONTROL.search(out.replace("\n", "")), what
        root = ET.fromstring(out.encode("utf-8"))  # well-formed XML 1.0
        names = [c.get("name", "") for c in root.iter("testcase")]
        assert any("forged" in n for n in names)
    elif what == "annotations":
        lines = out.splitlines()
        regressions = run_gate(BASE, CURRENT, GateConfig()).regressions
        assert len(lines) == len(regressions)  # one line each, none forged in between
        _check_text(out, what, allow_commands=len(lines))
        for line in lines:
            head, sep, _message = line.partition("::")[2].partition("::")
            assert sep and head.startswith("error ")
            props = dict(p.split("=", 1) for p in head[len("error ") :].split(","))
            assert set(props) <= {"file", "line", "title"}, props
    else:
        _check_text(out, what)
        assert "forged" in out  # the names are shown, escaped, not dropped


@pytest.mark.parametrize("fmt", sorted(export_formats()))
def test_hostile_names_profile_writers(fmt: str, tmp_path: Path) -> None:
    buf = io.BytesIO()
    export(CURRENT, buf, fmt)  # what `convert` writes (DOT from the analysis)
    data = buf.getvalue()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if fmt == "folded":
        text = data.decode("utf-8")
        _check_text(text, fmt)
        assert len(text.splitlines()) == len(HOSTILE) + 1  # one line per stack, none forged
        back = read_bytes(data, "x.folded")
        assert back.total == CURRENT.total
        assert all("\n" not in f.name and ";" not in f.name for f in back.frames)
    elif fmt == "dot":
        text = data.decode("utf-8")
        _check_text(text, fmt)
        if shutil.which("dot"):
            subprocess.run(["dot", "-Tsvg"], input=data, check=True, capture_output=True)
    else:  # data files for other tools: lossless, every name reads back exactly
        back = read_bytes(buf.getvalue(), f"x{FORMATS[fmt].extensions[0]}", fmt)
        assert set(HOSTILE) <= {f.name for f in back.frames}, fmt


def test_hostile_names_cli_text_outputs(tmp_path: Path) -> None:
    base, cur = tmp_path / "base.hotpath", tmp_path / "cur.hotpath"
    with open(base, "wb") as f:
        write_profile(BASE, f, "hotpath")
    with open(cur, "wb") as f:
        write_profile(CURRENT, f, "hotpath")
    runner = CliRunner()
    for args in (
        ["analyze", str(cur)],
        ["diff", str(base), str(cur)],
        ["gate", str(base), str(cur), "--no-annotations", "--config", str(tmp_path / "none")],
    ):
        if args[0] == "gate":
            args = args[:-2]
        result = runner.invoke(main, args, env={"COLUMNS": "200", "GITHUB_ACTIONS": ""})
        assert result.exit_code in (0, 1), result.output
        _check_text(result.output, " ".join(args[:1]))


def test_escape_text_is_visible_and_distinct() -> None:
    assert escape.text("a\nb") == "a\\x0ab"
    assert escape.text("\x1b[2J") == "\\x1b[2J"
    assert escape.text("\u202e") == "\\u202e"
    assert escape.text("plain name.py:12") == "plain name.py:12"
    assert escape.text("a\nb") != escape.text("a\rb")


def test_escape_markdown_breaks_mentions_and_links_but_reads_the_same() -> None:
    md = escape.markdown("@team https://x.example www.y.example")
    assert md.replace("\u2060", "") == "@team https://x.example www.y.example"
    assert "@t" not in md and "://" not in md and "www." not in md


def test_escape_json_keeps_the_value() -> None:
    value = {"name": "a\x9bb\u2028c\x1b"}
    text = escape.json_dumps(value)
    assert not CONTROL.search(text)
    assert json.loads(text) == value

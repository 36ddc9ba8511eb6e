"""pyinstrument's -r html and -r json outputs, compared function by function with the session
pyinstrument rendered them from (fixtures/readers/record.py renders both from one session)."""

from __future__ import annotations

import pytest

from hotpath.errors import ProfileParseError
from hotpath.formats import detect, read_bytes
from hotpath.model import Profile
from tests.formats.readers_helpers import READERS, WORKLOAD, per_function, read_raw

SESSION = READERS / "pyinstrument.pyisession"
HTML = READERS / "pyinstrument.html"
JSON = READERS / "pyinstrument.json"
ROUNDING = 2e-6
"""pyinstrument writes tree times rounded to 1 µs (%f)."""


def _below_tree_root(session: Profile, html: Profile) -> Profile:
    """The session's stacks from the page's tree root down: pyinstrument draws the tree from
    the program's root, without the interpreter frames above it."""
    root = next(iter(html.samples))[0][0]
    root_frame = html.frames[root]
    out = Profile(session.meta)
    for frames, labels, w in session.iter_samples():
        at = next(
            (i for i, f in enumerate(frames) if (f.name, f.file, f.first_line)
             == (root_frame.name, root_frame.file, root_frame.first_line)),
            None,
        )  # fmt: skip
        assert at is not None, "a session stack outside the page's tree"
        out.add_frames(frames[at:], w, dict(labels))
    return out


def test_html_equals_the_session_function_by_function() -> None:
    session = read_raw("pyinstrument", SESSION)
    html = read_raw("pyinstrument-html", HTML)
    assert html.total == pytest.approx(session.total, abs=1e-5)
    s_self, s_incl = per_function(_below_tree_root(session, html), key="def")
    h_self, h_incl = per_function(html, key="def")
    assert set(h_self) == set(s_self) and set(h_incl) == set(s_incl)
    for key, seconds in s_self.items():
        assert h_self[key] == pytest.approx(seconds, abs=ROUNDING * 20), key
    for key, seconds in s_incl.items():
        assert h_incl[key] == pytest.approx(seconds, abs=ROUNDING * 50), key


def test_html_keeps_methods_of_several_runtime_classes_and_two_lambdas() -> None:
    html = read_raw("pyinstrument-html", HTML)
    ours = {(f.name, f.first_line) for f in html.frames if f.file == WORKLOAD}
    # Shape.area_sum (def line 30) ran on three subclasses: pyinstrument names a node after
    # its class when it saw one (Square.area_sum), else it keeps the bare name; the def line
    # is the function's identity either way.
    at_30 = {n for n, line in ours if line == 30}
    assert at_30 and all(n.endswith("area_sum") for n in at_30)
    assert {line for n, line in ours if n == "<lambda>"} == {51, 52}


def _workload_inclusive(profile: Profile) -> dict[int | None, float]:
    """Inclusive seconds per def line of the workload's functions (classes merged)."""
    out: dict[int | None, float] = {}
    for frames, _l, w in profile.iter_samples():
        for line in {f.first_line for f in frames if f.file == WORKLOAD}:
            out[line] = out.get(line, 0.0) + w
    return out


def test_json_render_keeps_totals_and_every_app_function() -> None:
    # -r json runs pyinstrument's default processors (importlib and <1% frames removed,
    # their time left to their callers; repeated calls merged under one class name): the
    # workload's functions' inclusive times stay the session's.
    session = read_raw("pyinstrument", SESSION)
    render = read_raw("pyinstrument-json", JSON)
    # It also drops the samples in pyinstrument's own frames, outside the program.
    program = _workload_inclusive(session)[1]  # under the workload's <module> (def line 1)
    assert render.total == pytest.approx(program, abs=1e-5)
    assert render.meta.sample_count == session.meta.sample_count

    s, r = _workload_inclusive(session), _workload_inclusive(render)
    assert set(r) <= set(s) and {19, 15, 30, 51, 52, 55} <= set(r)
    for line, seconds in r.items():
        assert seconds == pytest.approx(s[line], abs=1e-5), line


def test_pyinstrument_renders_detected_by_content() -> None:
    assert detect(HTML.read_bytes()[:65536]).name == "pyinstrument-html"
    assert detect(JSON.read_bytes()[:65536]).name == "pyinstrument-json"


def test_html_without_session_data_is_named() -> None:
    page = b"<!DOCTYPE html><html><script>var pyinstrumentHTMLRenderer=1;</script></html>"
    with pytest.raises(ProfileParseError, match="without pyinstrument's 'const sessionData") as e:
        read_bytes(page, "page.html")
    assert str(e.value).startswith("page.html: ")


@pytest.mark.parametrize(
    "tree",
    [
        '{"function": "f", "file_path": "a.py", "line_no": 1, "time": -1, "children": []}',
        '{"function": "f", "file_path": "a.py", "line_no": "x", "time": 1, "children": []}',
        '{"function": "f", "file_path": "a.py", "line_no": 1, "time": 1, "children": {}}',
        '{"function": 3, "file_path": "a.py", "line_no": 1, "time": 1, "children": []}',
    ],
)
def test_json_render_bad_frames_raise_one_line_errors(tree: str) -> None:
    doc = '{"start_time": 1, "duration": 1, "sample_count": 1, "root_frame": ' + tree + "}"
    with pytest.raises(ProfileParseError) as err:
        read_bytes(doc.encode(), "r.json")
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("r.json: tree")


def test_html_page_embedding_the_json_render_tree_is_read() -> None:
    # pyinstrument 4.x pages embed the JSON renderer's document (a "root_frame" tree).
    page = (
        b"<!DOCTYPE html>\n<html><script>var pyinstrumentHTMLRenderer=1;</script><script>"
        b"const sessionData = " + JSON.read_bytes().strip() + b";</script></html>"
    )
    from_page = read_bytes(page, "old.html")
    assert from_page.meta.sources[0].format == "pyinstrument-html"
    assert per_function(from_page) == per_function(read_bytes(JSON.read_bytes(), "r.json"))

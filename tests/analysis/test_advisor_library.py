"""Library code: frame kinds on shortened paths, library source judged, library paths advised
as replacing the library, and waiting for the GIL told apart from waiting for I/O."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotpath.analysis.classify import make_classifier, package_of
from hotpath.analysis.nativeness import LeafJudge
from hotpath.collect.pyspy import target_site_dirs
from hotpath.model import Frame, Profile
from tests.analysis.conftest import candidates, profile_of, reason_keys

APP = "views.py"
APP_SOURCE = """\
from fakemd import render


def page(text):
    html = render(text)
    return html


def idle():
    return None
"""
LIB_SOURCE = """\
import re


def render(text):
    out = []
    for line in text.splitlines():
        out.append(_inline(line))
    return "".join(out)


def _inline(line):
    line = line.replace("*", "")
    return re.sub("_", "", line)
"""


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """(app root, a site-packages directory holding the pure-Python library fakemd)."""
    root = tmp_path / "app"
    root.mkdir()
    (root / APP).write_text(APP_SOURCE)
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "fakemd").mkdir(parents=True)
    (site / "fakemd" / "__init__.py").write_text(LIB_SOURCE)
    return root, site


def _with_site(p: Profile, site: Path) -> Profile:
    p.meta.attrs["site_dirs"] = str(site)
    return p


def test_classify_shortened_library_paths_and_generated_code(tree: tuple[Path, Path]) -> None:
    root, site = tree
    # py-spy's raw format shortens site-packages paths; click and markupsafe are installed
    # here (flask's dependencies), so they resolve to library code, with or without a root.
    for classifier in (make_classifier(None), make_classifier(root)):
        assert classifier.kind("Group.main", "click/core.py") == "library"
        assert classifier.kind("escape", "markupsafe/__init__.py") == "library"
        assert classifier.kind("__init__", "<string>") == "library"
        assert classifier.kind("__init__", "<attrs generated init app.Order>") == "library"
    assert make_classifier(root).kind("page", APP) == "app"
    assert make_classifier(None).kind("render", "fakemd/__init__.py") == "app"  # not found
    assert make_classifier(None, str(site)).kind("render", "fakemd/__init__.py") == "library"
    assert package_of(str(site / "fakemd" / "__init__.py")) == "fakemd"
    assert package_of("<string>") is None


def test_classify_ignores_recorded_dirs_that_are_not_site_packages(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "secret.py").write_text("x = 1\n")
    c = make_classifier(None, str(tmp_path / "etc"))
    assert str(tmp_path / "etc") not in c.library_dirs
    assert c.library_file("secret.py") is None


def test_judge_reads_library_source_lines(tree: tuple[Path, Path]) -> None:
    root, site = tree
    judge = LeafJudge(make_classifier(root, str(site)))
    lib = "fakemd/__init__.py"
    assert judge.judge(Frame("render", lib, 7)) == ("python", "source lines")
    assert judge.judge(Frame("_inline", lib, 13)) == ("native", "source lines")  # re.sub
    # A .py file whose source is nowhere to be read: Python as far as is known, and said so.
    assert judge.judge(Frame("f", "elsewhere/mod.py", 3)) == (
        "python",
        "Python files, source not read",
    )


def test_advisor_library_path_is_advised_as_replacing_the_library(
    tree: tuple[Path, Path],
) -> None:
    root, site = tree
    lib = "fakemd/__init__.py"
    p = profile_of(
        [
            ([("page", APP, 5), ("render", lib, 7), ("_inline", lib, 12)], 500, None),
            ([("page", APP, 5), ("render", lib, 7)], 300, None),
            ([("page", APP, 6)], 20, None),
            ([("Thread.run", "threading.py", 975)], 180, None),
        ]
    )
    c = candidates(_with_site(p, site), root)["page"]
    assert c.recommendation == "extension"
    assert "replace fakemd" in reason_keys(c)
    assert (
        "called from page" in c.reasons[0]
        and "the app function that owns the call" in (c.reasons[0])
    )
    assert c.evidence["library"].startswith("fakemd (98% of its time)")
    # Amdahl over the library's share of the candidate, at the drop-in's per-call speed-up.
    c2 = candidates(_with_site(p, site), root, rust_speedup=100)["page"]
    mid = sum(c2.saving_share) / 2
    assert mid == pytest.approx(0.8 * 0.99, abs=0.03)


def test_advisor_library_code_waiting_for_the_gil_is_not_io_bound(
    tree: tuple[Path, Path],
) -> None:
    """4 threads running library Python on 2 cores: two thirds of the wall time off CPU,
    at leaves that are no blocking call. Waiting for a core or the GIL, not I/O."""
    root, site = tree
    lib = "fakemd/__init__.py"
    stack = [("page", APP, 5), ("render", lib, 7)]
    wait = ("Condition.wait", "threading.py", 327)
    p = profile_of(
        [
            (stack, 330, {"state": "active"}),
            (stack, 670, {"state": "idle"}),
            ([("idle", APP, 10)], 100, {"state": "active"}),
            ([("idle", APP, 10), wait], 1000, {"state": "idle"}),
            ([("Thread.run", "threading.py", 975)], 300, {"state": "active"}),
        ]
    )
    c = candidates(_with_site(p, site), root)["page"]
    assert c.cpu_bound == pytest.approx(1.0)
    assert "I/O-bound" not in reason_keys(c)
    assert c.recommendation == "extension"
    assert "67% waiting for a core or the GIL" in c.evidence["cpu_bound"]
    assert any(r.startswith("off CPU: 33% of its wall time on CPU") for r in c.reasons)
    waiting = candidates(_with_site(p, site), root)["idle"]
    assert waiting.cpu_bound == pytest.approx(100 / 1100)
    assert "I/O-bound" in reason_keys(waiting)
    assert "(Condition.wait)" in " ".join(waiting.reasons)


def test_collector_records_the_target_site_packages() -> None:
    import orjson  # a C extension of hotpath's own: mapped from site-packages

    assert orjson.dumps(1) == b"1"
    dirs = target_site_dirs(os.getpid()).split(os.pathsep)
    assert any(d.endswith(("site-packages", "dist-packages")) for d in dirs), dirs
    assert all(os.path.isdir(d) for d in dirs)


def test_advisor_without_source_judges_py_files_and_says_the_lines_were_not_read() -> None:
    """No --source-root, no native frames: a .py leaf is interpreted Python as far as is
    known (not "not enough evidence"), with low confidence and the caveat in the reasons."""
    p = profile_of(
        [
            ([("main", "loop.py", 6), ("handle", "loop.py", 15)], 600, None),
            ([("Thread.run", "threading.py", 975)], 400, None),
        ]
    )
    c = candidates(p)["handle"]
    assert c.recommendation != "leave"
    assert c.pure_python == pytest.approx(1.0)
    assert c.evidence["pure_python"] == "Python files, source not read"
    assert c.confidence == "low"
    assert any(r.startswith("source not read: 100% of its samples") for r in c.reasons)


def test_advisor_torn_stacks_rooted_in_a_library_keep_the_region(
    tree: tuple[Path, Path],
) -> None:
    """py-spy --nonblocking sometimes reads a stack mid-update: its outermost frame is then
    a library function that the app calls everywhere else. That root edge is a torn read,
    not a second way in, so the region (and the isolation) stays."""
    root, site = tree
    lib = "fakemd/__init__.py"
    p = profile_of(
        [
            ([("page", APP, 5), ("render", lib, 7), ("_inline", lib, 12)], 700, None),
            ([("_inline", lib, 12)], 100, None),  # torn: 12% of _inline's weight
            ([("Thread.run", "threading.py", 975)], 200, None),
        ]
    )
    c = candidates(_with_site(p, site), root)["page"]
    assert c.isolation == pytest.approx(1.0)
    assert c.recommendation == "extension"


def test_advisor_library_path_is_said_once_by_the_function_that_owns_the_call(
    tree: tuple[Path, Path],
) -> None:
    """The owner is the app function calling into the library (a comprehension frame
    belongs to its function), and the endpoint whose time is that path is not advised a
    second time."""
    root, site = tree
    lib = "fakemd/__init__.py"
    ep = {"endpoint": "GET /page"}
    comp = ("page.<locals>.<listcomp>", APP, 5)
    p = profile_of(
        [
            ([("view", APP, 9), ("page", APP, 5), comp, ("render", lib, 7)], 800, ep),
            ([("view", APP, 9), ("page", APP, 6)], 20, ep),
            ([("Thread.run", "threading.py", 975)], 180, None),
        ]
    )
    found = candidates(_with_site(p, site), root)
    recommended = [c for c in found.values() if c.recommendation != "leave"]
    assert [c.kind for c in recommended] == ["function"], recommended
    assert recommended[0].evidence["library"].endswith("called from page")
    assert "GET /page" not in found or found["GET /page"].recommendation == "leave"


def test_advisor_library_path_shares_its_callees_and_is_still_a_swap(
    tree: tuple[Path, Path],
) -> None:
    """A library's internals (``_inline`` here; ``re`` or ``xml.etree`` for Markdown) may be
    reached from elsewhere too, which leaves them out of the owner's dominator region. A
    drop-in replaces the library call whole and calls none of them back, so the path is no
    less a swap: the second monolith's Markdown path read "too entangled: 70%" in one
    recording of seven and was left."""
    root, site = tree
    lib = "fakemd/__init__.py"
    p = profile_of(
        [
            ([("page", APP, 5), ("render", lib, 7), ("_inline", lib, 12)], 500, None),
            ([("page", APP, 5), ("render", lib, 6)], 100, None),
            ([("idle", APP, 10), ("_inline", lib, 12)], 700, None),  # another way in
        ]
    )
    c = candidates(_with_site(p, site), root)["page"]
    assert c.isolation is not None and c.isolation < 0.5
    assert c.recommendation == "extension", c.reasons
    assert c.evidence["library"].startswith("fakemd")

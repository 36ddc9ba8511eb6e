"""Hand-built analyses for report tests: every optional section filled, hostile names included.

Endpoints, Pareto and candidates are produced by other modules; here they are built by hand
so the renderers are tested on their own, with known numbers.
"""

from __future__ import annotations

from pathlib import Path

from hotpath.analysis.options import AnalyzeOptions
from hotpath.analysis.pipeline import analyze
from hotpath.analysis.plan import PLAN_RULE
from hotpath.analysis.results import (
    Analysis,
    Candidate,
    EndpointRow,
    Pareto,
    Plan,
    PlanLeft,
    PlanStep,
)
from hotpath.formats import read_profile
from hotpath.model import Source

XSS_SCRIPT = "<script>window.__xss=1||alert(1)</script>"
XSS_IMG = "<img src=x onerror=window.__xss=2>"
EVIL_MD = "|evil|`*_[x](http://e)_*`\nnext"

FOLDED = f"""\
main (app/main.py:1);handle (app/views.py:10);render (jinja2/environment.py:5) 300
main (app/main.py:1);handle (app/views.py:10);compute (app/calc.py:3) 500
main (app/main.py:1);handle (app/views.py:12);compute (app/calc.py:4);{{built-in method sorted}} 150
main (app/main.py:1);{XSS_SCRIPT} (app/x.py:1) 30
main (app/main.py:1);{XSS_IMG} (app/y.py:2) 10
main (app/main.py:1);json.dumps (json/__init__.py:231) 9
main (app/main.py:1);tiny (app/tiny.py:1) 1
"""


# The profiles are read with source=False: `json/__init__.py` would otherwise be named from
# the running Python's own json module, whose def lines differ between Python versions.
def sample_profile_path(tmp_path: Path) -> Path:
    path = tmp_path / "sample.folded"
    path.write_text(FOLDED, encoding="utf-8")
    return path


def base_analysis(tmp_path: Path) -> Analysis:
    return analyze(read_profile(sample_profile_path(tmp_path), source=False), AnalyzeOptions(top=8))


def full_analysis(tmp_path: Path) -> Analysis:
    """The sample profile's analysis plus endpoints, Pareto curve and candidates.

    Sources are replaced by a fixed name so goldens do not depend on the temp directory.
    """
    a = base_analysis(tmp_path)
    profile = type(a.profile)(
        sources=[Source("/srv/profiles/sample.folded", "folded")],
        unit=a.profile.unit,
        total=a.profile.total,
        samples=a.profile.samples,
        duration_s=10.0,
        tools={"py-spy": "0.4.3"},
        interval_s=0.01,
    )
    endpoints = [
        EndpointRow("GET /report", 800.0, 0.8, 0.7, 1200, 0.0067, 5.1, 22.4, ["compute", "render"]),
        EndpointRow(f"POST /{XSS_SCRIPT}", 150.0, 0.15, None, 40, 0.0375, None, None, []),
        EndpointRow(EVIL_MD, 50.0, 0.05, 0.1, None, None, 1.0, 2.0, [XSS_IMG]),
    ]
    pareto = Pareto(
        functions=[(0.1, 0.5), (0.2, 0.8), (0.5, 0.95), (1.0, 1.0)],
        endpoints=[(1 / 3, 0.8), (2 / 3, 0.95), (1.0, 1.0)],
        sentence="2 functions (20% of the app's functions) take 80% of the CPU",
    )
    candidates = [
        Candidate(
            target="compute",
            kind="function",
            recommendation="extension",
            score=0.82,
            share=0.65,
            cpu_bound=0.97,
            pure_python=0.77,
            isolation=0.9,
            saving_share=(0.4, 0.55),
            reasons=["65% of CPU, nearly all of it on-CPU", "called from one place"],
            file="app/calc.py",
            line=3,
            evidence={"pure_python": "native frames under compute", "cpu_bound": "idle samples"},
            brief=f"Rewrite compute in Rust with PyO3.\nKeep the signature. {XSS_SCRIPT}",
        ),
        Candidate(
            target=XSS_IMG,
            kind="endpoint",
            recommendation="leave",
            score=0.05,
            share=0.01,
            cpu_bound=None,
            pure_python=None,
            isolation=None,
            saving_share=(0.0, 0.0),
            reasons=[f"too small: {EVIL_MD}"],
        ),
    ]
    plan = Plan(
        steps=[
            PlanStep(
                number=1,
                target="compute",
                kind="function",
                entry="compute",
                recommendation="extension",
                speedup=10.0,
                saving=0.47,
                saving_share=(0.4, 0.55),
                cumulative=0.47,
                cumulative_share=(0.4, 0.55),
                cores_saved=(0.8, 1.1),
                covers=[(XSS_IMG, "endpoint")],
            ),
            PlanStep(
                number=2,
                target=f"POST /{XSS_SCRIPT}",
                kind="endpoint",
                entry=EVIL_MD,
                recommendation="microservice",
                speedup=4.0,
                saving=0.05,
                saving_share=(0.03, 0.07),
                cumulative=0.52,
                cumulative_share=(0.45, 0.6),
                cores_saved=(0.9, 1.2),
            ),
        ],
        left=[
            PlanLeft(XSS_IMG, "endpoint", "covered by step 1 (compute): inside its region"),
            PlanLeft("render", "function", f"after step 2: too small: {EVIL_MD}"),
        ],
        rule=PLAN_RULE,
    )
    return Analysis(
        profile,
        a.functions,
        a.recursion,
        a.options,
        endpoints=endpoints,
        pareto=pareto,
        candidates=candidates,
        flame=a.flame,
        plan=plan,
    )

"""What an accepted profile must survive: the whole way to every output, not just analysis.

The crashes found by hand lay past the readers: overflowing sums in the analysis, integers
beyond 64 bits in the JSON report, lone surrogates in the text, Markdown and HTML renderers
and in the exporters. A fuzzed profile that was read goes through all of them here; bytes
are encoded as the CLI encodes them (hotpath.output: UTF-8 with backslashreplace).
"""

from __future__ import annotations

import io

from hotpath.errors import HotpathError
from hotpath.model import Profile
from hotpath.output import TEXT_ERRORS


def exercise(profile: Profile) -> None:
    """Analyse, render every report, write every writable format, diff with itself."""
    from hotpath.analysis.diff import diff_profiles
    from hotpath.analysis.options import AnalyzeOptions
    from hotpath.analysis.pipeline import analyze
    from hotpath.formats import writable_format_names, write_profile
    from hotpath.report import REGISTRY
    from hotpath.report.diff import render_diff_json, render_diff_markdown, render_diff_text

    result = analyze(profile, AnalyzeOptions(flame=True))
    for renderer in REGISTRY.values():
        raw = io.BytesIO()
        if renderer.binary:
            renderer.render(result, raw)
            continue
        text = io.TextIOWrapper(raw, encoding="utf-8", errors=TEXT_ERRORS)
        renderer.render(result, text)
        text.flush()
    for fmt in writable_format_names():
        try:
            write_profile(profile, io.BytesIO(), fmt)
        except HotpathError:
            pass  # e.g. call statistics have no stacks to write: a usage error, not a crash
    diff = diff_profiles(profile, profile)
    for render in (render_diff_text, render_diff_json, render_diff_markdown):
        text = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=TEXT_ERRORS)
        render(diff, text)
        text.flush()

"""pytest plugin: profile a test run with pyinstrument and write a hotpath profile.

Inert until ``--hotpath=OUT`` is given (or a test carries a ``hotpath(budgets=...)`` marker).
Then every test's call phase (or, with ``--hotpath-marked``, only tests marked
``@pytest.mark.hotpath``) runs under an in-process pyinstrument profiler, and at the end of
the session the merged samples are written to OUT in hotpath's own format; OUT gates like any
other profile file (``hotpath gate base.hotpath.gz OUT``).

Budgets: ``@pytest.mark.hotpath(budgets={"myapp.search:score": "12%"})`` fails that test when
the function's inclusive share of the test's own profile exceeds the budget;
``--hotpath-budget "myapp.search:score=12%"`` checks the whole session's profile at the end
and fails the run (exit code 1) when it is exceeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotpath.model import ENDPOINT, Frame, Metadata, Profile

DEFAULT_INTERVAL = 0.0005


def _frame_of(identifier: str) -> Frame | None:
    """pyinstrument's ``name\\0file\\0firstline`` plus ``\\x01l<line>`` attributes."""
    main, *attrs = identifier.split("\x01")
    parts = main.split("\x00")
    if len(parts) < 3 or parts[1] == "<thread>":
        return None  # the thread placeholder pyinstrument puts at the root
    line = None
    for a in attrs:
        if a.startswith("l") and a[1:].isdigit():
            line = int(a[1:])
    first = int(parts[2]) if parts[2].isdigit() else None
    return Frame(parts[0], parts[1], line, first)


def profile_from_session(
    session: Any, endpoint_of: Mapping[str, str] | None = None, interval: float | None = None
) -> Profile:
    """A Profile (unit samples: one per pyinstrument frame record) from a Session.

    pyinstrument weighs each record by the wall time since the previous one, so when a busy
    CI machine deschedules the process the whole gap lands on one stack; counting records
    instead keeps shares stable (measured: same-code pairs moved by up to 5 points with
    seconds, see docs/ci.md). ``endpoint_of`` maps a function name to an endpoint label: a
    sample whose stack holds that function gets it (the innermost match wins).
    """
    import pyinstrument

    meta = Metadata(unit="samples")
    meta.tools["pyinstrument"] = pyinstrument.__version__
    meta.duration_s = float(session.duration)
    meta.interval_s = interval
    profile = Profile(meta)
    frame_cache: dict[str, Frame | None] = {}
    count = 0
    for identifiers, _seconds in session.frame_records:
        frames = []
        endpoint = None
        for ident in identifiers:
            if ident in frame_cache:
                fr = frame_cache[ident]
            else:
                fr = frame_cache[ident] = _frame_of(ident)
            if fr is None:
                continue
            frames.append(fr)
            if endpoint_of and fr.name in endpoint_of:
                endpoint = endpoint_of[fr.name]
        profile.add_frames(frames, 1, {ENDPOINT: endpoint} if endpoint else None)
        count += 1
    meta.sample_count = count
    return profile

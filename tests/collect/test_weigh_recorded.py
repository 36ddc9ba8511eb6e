"""The weighing on committed recordings of a busy thread pool (tests/collect/fixtures/pool/).

``pool_app.py`` keeps 4 (or 2) threads busy with 5 ms tasks arriving every 4 ms, and logs
each task's thread CPU: the tasks hold 96-97% of the process's CPU. Such a pool never
sleeps: no offset puts clearly less CPU in its waits, and the stretches where its threads'
clocks stand still peak again every period (about 21.5 ms with 4 threads). Taking whichever
search answer had the longest such stretch put the offset at +86 ms in ``pool4-a`` and left
it at the printed moment in ``pool2-a``, where it was 4-8 ms off: the tasks' share read
26.7% and 55.8% (truth 96.5% and 97.2%). The nearest peak gives +4.0 and +7.5 ms and 82-83%,
still 14-15 points under (docs/collect.md says what is left), checked against a bound of 20.
Not handled yet, so not committed: a third 4-thread recording whose costs vary by 10%, more
than the 5% that marks a landscape without a minimum; its offset still goes to +242 ms (22.8%).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from hotpath.collect.torn import mend_torn
from hotpath.collect.weigh import weigh_spans
from hotpath.model import CPU, MEASURE, Metadata
from tests.collect.fixtures.pool.record import load

FIXTURES = Path(__file__).parent / "fixtures" / "pool"


@pytest.mark.parametrize("name", ["pool4-a", "pool2-a"])
def test_a_busy_pool_takes_the_nearest_offset_where_its_clocks_stand_still(name: str) -> None:
    with gzip.open(FIXTURES / f"{name}.json.gz", "rt", encoding="utf-8") as f:
        spans, clocks, opts, truth = load(json.load(f))
    spans, _ = mend_torn(spans)
    meta = Metadata()
    profile = weigh_spans(spans, clocks, opts, meta)
    task = total = 0.0
    for frames, labels, w in profile.iter_samples():
        if (MEASURE, CPU) in labels:
            total += w
            if any(f.name == "task" for f in frames):
                task += w
    offset_ms = float(meta.attrs["clock_offset_ms"])
    assert abs(offset_ms) <= 40, offset_ms
    assert task / total >= truth - 0.20, (task / total, truth, offset_ms)

"""A tally's keyed weights as arrays (:class:`~hotpath.analysis.evidence.Weights`): the same
mapping, order and sums as the dict they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hotpath.analysis.evidence import Weights, plus

KEYS = [f"Class{i}" for i in range(12)]

weights = st.dictionaries(
    st.integers(0, len(KEYS) - 1), st.floats(-1e6, 1e6, allow_nan=False), max_size=12
)


def _weights(d: dict[int, float]) -> Weights[str]:
    return Weights(KEYS, np.asarray(list(d), dtype=np.int32), np.asarray(list(d.values())))


def _as_dict(d: dict[int, float]) -> dict[str, float]:
    return {KEYS[k]: v for k, v in d.items()}


@settings(max_examples=300, deadline=None)
@given(weights, weights, st.sampled_from([1.0, -1.0, 0.5]))
def test_plus_is_the_dict_loop_key_by_key_in_the_same_order(
    a: dict[int, float], b: dict[int, float], sign: float
) -> None:
    want = dict(_as_dict(a))
    for k, v in _as_dict(b).items():
        want[k] = want.get(k, 0.0) + sign * v
    got = plus(_weights(a), _weights(b), sign)
    assert isinstance(got, Weights)
    assert list(got.items()) == list(want.items())  # same floats, same order
    # A plain dict on either side: the dict loop itself.
    assert list(plus(_as_dict(a), _weights(b), sign).items()) == list(want.items())
    assert list(plus(_weights(a), _as_dict(b), sign).items()) == list(want.items())


@given(weights)
def test_a_weights_is_the_mapping_of_its_dict(d: dict[int, float]) -> None:
    w = _weights(d)
    want = _as_dict(d)
    assert w == want and want == w
    assert len(w) == len(want) and list(w) == list(want)
    for k, v in want.items():
        assert w[k] == v
    assert (KEYS[-1] in w) == (KEYS[-1] in want)
    if want:
        assert w != {**want, next(iter(want)): 1e9}

"""The flat stack table and its sorting helpers, against numpy's own functions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hotpath.analysis.stacktable import CodeSums, StackTable, dense, first_of_each, stable_order
from hotpath.model import StackStore

ints = st.lists(st.integers(min_value=0, max_value=2**40), max_size=200)


@settings(max_examples=200, deadline=None)
@given(ints, st.sampled_from([np.int32, np.int64]), st.booleans())
def test_stable_order_dense_and_firsts_are_numpys(
    values: list[int], dtype: type, huge: bool
) -> None:
    if dtype is np.int32:
        values = [v % 2**31 for v in values]
    elif huge:  # too large for value * len + position: the argsort path
        values = [v + 2**62 for v in values]
    a = np.asarray(values, dtype=dtype)
    assert stable_order(a).tolist() == np.argsort(a, kind="stable").tolist()
    distinct, inverse = dense(a)
    want, want_inverse = np.unique(a, return_inverse=True)
    assert distinct.tolist() == want.tolist()
    assert inverse.tolist() == want_inverse.ravel().tolist()
    seen: dict[int, int] = {}
    for i, v in enumerate(values):
        seen.setdefault(v, i)
    assert first_of_each(a).tolist() == sorted(seen.values())


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 50), max_size=9), max_size=40),
    st.integers(min_value=1, max_value=20),
)
def test_chunks_are_whole_stacks_in_order(stacks: list[list[int]], size: int) -> None:
    table = StackTable([tuple(s) for s in stacks], [float(i) for i in range(len(stacks))])
    parts = list(table.chunks(size))
    got = [
        (part.first + i, part.flat[b:e].tolist(), float(part.weights[i]))
        for part in parts
        for i, (b, e) in enumerate(zip(part.starts.tolist(), part.ends.tolist(), strict=True))
    ]
    assert got == [(i, s, float(i)) for i, s in enumerate(stacks)]
    for part in parts:  # no chunk over the size, unless one stack alone is longer
        assert part.slots <= size or part.n == 1
        mine = stacks[part.first : part.first + part.n]
        assert part.sid().tolist() == [i for i, s in enumerate(mine) for _ in range(len(s))]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 50), max_size=9), min_size=1, max_size=40),
    st.data(),
    st.integers(min_value=1, max_value=20),
)
def test_a_table_of_some_stored_stacks_copies_them_chunk_by_chunk(
    stacks: list[list[int]], data: st.DataObject, size: int
) -> None:
    """A table of some of a store's stacks copies their frames as each chunk is read (not
    all at once): the chunks and the whole array hold the rows' stacks, in the rows' order."""
    store = StackStore()
    stored = [store.intern(tuple(s)) for s in stacks]
    rows = data.draw(st.lists(st.sampled_from(stored), max_size=30))
    table = StackTable.of_rows(store, np.asarray(rows, dtype=np.int64), np.ones(len(rows)))
    want = [list(store.stack(r)) for r in rows]
    got = [
        part.flat[b:e].tolist()
        for part in table.chunks(size)
        for b, e in zip(part.starts.tolist(), part.ends.tolist(), strict=True)
    ]
    assert got == want
    assert table.flat.tolist() == [f for s in want for f in s]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 30), st.floats(min_value=0, max_value=1e6)), max_size=30),
        max_size=6,
    )
)
def test_code_sums_add_in_order_and_list_in_first_seen_order(
    chunks: list[list[tuple[int, float]]],
) -> None:
    sums = CodeSums()
    want: dict[int, float] = {}
    for chunk in chunks:
        sums.add(
            np.asarray([c for c, _w in chunk], dtype=np.int64),
            np.asarray([w for _c, w in chunk], dtype=np.float64),
        )
        for c, w in chunk:
            want[c] = want.get(c, 0.0) + w
    assert list(sums.items()) == list(want.items())  # bit for bit, in first-seen order


def test_code_sums_list_past_one_read_chunk_in_first_seen_order() -> None:
    codes = np.arange(20_000, dtype=np.int64)[::-1] * 7  # first seen: descending
    sums = CodeSums()
    sums.add(codes, np.ones(len(codes)))
    sums.add(codes[:5], np.full(5, 2.0))
    got = list(sums.items())
    assert [c for c, _w in got] == codes.tolist()
    assert [w for _c, w in got[:6]] == [3.0] * 5 + [1.0]

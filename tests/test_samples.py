"""The packed sample store behaves as the dict it replaced: the same keys, weights and order."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from hotpath.analysis.stacktable import StackTable, by_stack, entries
from hotpath.model import Frame, Profile, Samples, StackStore

_keys = st.tuples(
    st.tuples(*[st.integers(0, 9)] * 0) | st.lists(st.integers(0, 12), max_size=5).map(tuple),
    st.integers(0, 3),
)
_adds = st.lists(st.tuples(_keys, st.integers(0, 1000).map(float)), max_size=60)


def _reference(adds: list[tuple[tuple[tuple[int, ...], int], float]]) -> dict:
    ref: dict = {}
    for key, w in adds:
        ref[key] = ref.get(key, 0) + w
    return ref


@settings(max_examples=200, deadline=None)
@given(_adds)
def test_samples_equal_a_dict_of_the_same_adds_in_order(adds: list) -> None:
    samples = Samples()
    for (stack, lid), w in adds:
        samples.add(stack, w, lid)
    ref = _reference(adds)
    assert list(samples.items()) == list(ref.items())  # insertion order kept
    assert list(samples) == list(ref) and list(samples.values()) == list(ref.values())
    assert len(samples) == len(ref) and samples == ref
    for key, w in ref.items():
        assert key in samples and samples[key] == w
    assert ((99,), 0) not in samples and samples.get(((99,), 0)) is None
    back = pickle.loads(pickle.dumps(samples))
    assert list(back.items()) == list(ref.items())
    back.add((1, 2), 1.0, 0)  # the index is rebuilt after unpickling
    assert back[(1, 2), 0] == ref.get(((1, 2), 0), 0) + 1.0


@settings(max_examples=100, deadline=None)
@given(_adds, st.data())
def test_set_and_delete_keep_the_dict_semantics(adds: list, data: st.DataObject) -> None:
    samples = Samples.of(_reference(adds).items())
    ref = _reference(adds)
    for key in data.draw(st.lists(st.sampled_from(sorted(ref)), max_size=5)) if ref else []:
        if key in ref:
            del ref[key]
            del samples[key]
    ref[(7, 7), 1] = 3.0
    samples[(7, 7), 1] = 3.0
    assert list(samples.items()) == list(ref.items())


def test_frame_ids_past_two_bytes_widen_the_store() -> None:
    store = StackStore()
    small = store.intern((1, 2, 3))
    big = store.intern((1, 70_000, 2**31 - 1))
    assert store.stack(small) == (1, 2, 3) and store.stack(big) == (1, 70_000, 2**31 - 1)
    assert store.find((1, 70_000, 2**31 - 1)) == big and store.leaf(big) == 2**31 - 1
    assert store.sealed().typecode == "i"


def test_a_filtered_profile_shares_the_stacks_and_tables_see_only_its_own() -> None:
    p = Profile()
    a, b, c = (Frame(n, "m.py", 1) for n in "abc")
    p.add_frames([a, b], 2.0, {"endpoint": "x"})
    p.add_frames([a, c], 3.0, {"endpoint": "y"})
    p.add_frames([a, b], 4.0, {"endpoint": "y"})
    only_y = p.filter(lambda labels: ("endpoint", "y") in labels)
    assert only_y.samples.store is p.samples.store
    table = by_stack(only_y)
    assert [tuple(s) for s in table.tuples()] == [(0, 2), (0, 1)]
    assert table.weights.tolist() == [3.0, 4.0]
    everything = by_stack(p)  # the same stack under two label sets adds up
    assert everything.tuples() == [(0, 1), (0, 2)] and everything.weights.tolist() == [6.0, 3.0]
    rows, _lids, weights = entries(p.samples)
    picked = StackTable.of_rows(p.samples.store, rows[::-1], weights[::-1])
    assert picked.tuples() == [(0, 1), (0, 2), (0, 1)]


def test_renaming_frames_merges_their_stacks_in_entry_order() -> None:
    p = Profile()
    f1, f2, g = Frame("f", "m.py", 1), Frame("f", "m.py", 2), Frame("g", "m.py", 9)
    p.add_frames([f1, g], 1.0)
    p.add_frames([f2, g], 2.0)
    p.add_frames([g], 4.0)
    p.replace_frames([Frame("f", "m.py"), Frame("g", "m.py"), Frame("f", "m.py")])
    got = {tuple(p.frames[i].name for i in s): w for (s, _l), w in p.samples.items()}
    assert got == {("f", "g"): 3.0, ("g",): 4.0}
    p.add_frames([Frame("f", "m.py"), Frame("g", "m.py")], 1.0)  # found after the rename
    assert len(p.samples) == 2 and sum(p.samples.values()) == 8.0


@settings(max_examples=200, deadline=None)
@given(_adds, st.integers(0, 3))
def test_add_many_equals_adding_one_by_one(adds: list, lid: int) -> None:
    one, many = Samples(), Samples()
    for (stack, first_lid), w in adds[: len(adds) // 2]:  # some entries before the batch
        one.add(stack, w, first_lid)
        many.add(stack, w, first_lid)
    batch = [(stack, w) for (stack, _l), w in adds[len(adds) // 2 :]]
    for stack, w in batch:
        one.add(stack, w, lid)
    many.add_many([s for s, _w in batch], [w for _s, w in batch], lid)
    assert list(many.items()) == list(one.items())


def test_add_many_widens_the_store_mid_batch() -> None:
    samples = Samples()
    samples.add_many([(1, 2), (3, 70_000), (1, 2), (5,)], [1.0, 2.0, 3.0, 4.0])
    assert list(samples.items()) == [(((1, 2), 0), 4.0), (((3, 70_000), 0), 2.0), (((5,), 0), 4.0)]
    assert samples.store.find((3, 70_000)) == 1 and samples.store.find((5,)) == 2


def test_a_profile_adds_stacks_after_another_one_grew_their_shared_store() -> None:
    base = Samples()
    base.add((1,), 1.0)
    other = base.copy()  # the same store
    for i in range(500):  # the store grows far past what ``base`` has indexed
        other.add((2, i), 1.0)
    base.add((3,), 2.0)
    base.add((1,), 1.0)
    assert list(base.items()) == [(((1,), 0), 2.0), (((3,), 0), 2.0)]
    assert len(other) == 501 and other[(2, 499), 0] == 1.0

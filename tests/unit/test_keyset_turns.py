"""The order of a window's turns (backfill/keyset.py): every run taken exactly once; a table walked by several
partitions interleaves leaf-sized parts, so consecutive turns are a leaf's worth of runs apart; one walk keeps its
spread and the plain order."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from liveshift.backfill.keyset import CONCURRENT_PARTS, LEAF_RUNS, Window, walk_spread
from liveshift.values import Throttle


def window(runs: int, spread: int) -> Window:
    bounds = tuple(([i], [i]) for i in range(runs))
    return Window(start=None, runs=bounds, counts=(1,) * runs, last=True, spread=spread, size=1)


def taken_in_order(w: Window) -> list[int]:
    """Every run's index, in the order the turns take them."""
    order = []
    turn: Window | None = w
    while turn is not None:
        runs, _ = turn.taken()
        order += [r[0][0] for r in runs]
        turn = turn.next_turn()
    return order


@given(runs=st.integers(0, 400), spread=st.integers(1, 1000))
def test_every_run_is_taken_once(runs: int, spread: int) -> None:
    assert sorted(taken_in_order(window(runs, spread))) == list(range(runs))


def test_several_partitions_interleave_leaf_sized_parts() -> None:
    spread = walk_spread(Throttle().spread, partitions=2)
    assert spread == CONCURRENT_PARTS * LEAF_RUNS
    offsets = window(10 * spread, spread).offsets()
    assert offsets[:6] == [0, 18, 36, 54, 1, 19]
    assert all(abs(a - b) >= LEAF_RUNS for a, b in itertools.pairwise(offsets))
    assert window(10, spread).offsets() == list(range(10))  # fewer runs than the spread: one turn each, in order


def test_one_walk_keeps_its_spread_and_plain_order() -> None:
    assert walk_spread(Throttle().spread, partitions=1) == LEAF_RUNS
    assert walk_spread(1, partitions=4) == 1  # consecutive keys stay consecutive
    assert window(100, LEAF_RUNS).offsets() == list(range(LEAF_RUNS))

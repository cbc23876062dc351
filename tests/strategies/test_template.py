"""One contract test, run against every registered strategy and wrapper combination."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from activelabel.strategies import (
    BADGE,
    STRATEGIES,
    WRAPPERS,
    Balanced,
    BreakingTies,
    QueryStrategy,
    Subsampled,
    make_strategy,
)

from .pools import clustered_pool, duplicate_pool

SPECS = [
    *STRATEGIES,
    *(f"{name}+kmeans" for name in STRATEGIES),
    *(f"{wrapper}({name})" for wrapper in WRAPPERS for name in STRATEGIES),
    "balanced(margin+kmeans)",
    "subsample(balanced(badge))",
    "balanced(margin)+kmeans",
]
FACTORIES: dict[str, Callable[[], QueryStrategy]] = {
    **{spec: (lambda spec=spec: make_strategy(spec)) for spec in SPECS},
    # small subsample sizes, so the subsampling path itself runs on a small pool
    "Subsampled(margin, 10)": lambda: Subsampled(BreakingTies(), size=10),
    "Subsampled(balanced(badge), 10)": lambda: Subsampled(Balanced(BADGE()), size=10),
}


@pytest.fixture(params=list(FACTORIES), ids=list(FACTORIES))
def strategy(request: pytest.FixtureRequest) -> QueryStrategy:
    return FACTORIES[request.param]()


def assert_valid(picks: np.ndarray, pool_size: int, expected: int) -> None:
    assert picks.dtype == np.int64
    assert picks.ndim == 1 and len(picks) == expected
    assert len(np.unique(picks)) == len(picks)
    assert ((picks >= 0) & (picks < pool_size)).all()


def select(strategy: QueryStrategy, pool, n: int, seed: int = 0) -> np.ndarray:
    return strategy.select(pool, n, np.random.default_rng(seed))


def test_contract(strategy: QueryStrategy) -> None:
    pool, _ = clustered_pool([12, 10, 8, 4])
    assert isinstance(strategy.needs, frozenset) and strategy.name

    picks = select(strategy, pool, 7)
    assert_valid(picks, pool.size, 7)
    assert np.array_equal(picks, select(strategy, pool, 7)), "same seed, same picks"

    for n in (pool.size, pool.size + 5):
        everything = select(strategy, pool, n)
        assert_valid(everything, pool.size, pool.size)
    assert_valid(select(strategy, pool, 0), pool.size, 0)
    assert_valid(select(strategy, pool, -3), pool.size, 0)


def test_reasons(strategy: QueryStrategy) -> None:
    pool, _ = clustered_pool([12, 10, 8, 4])
    for n in (7, 0, pool.size):
        rows, reasons = strategy.select_with_reasons(pool, n, np.random.default_rng(0))
        assert np.array_equal(rows, select(strategy, pool, n)), "the rows select picks"
        assert len(reasons) == len(rows)
        assert all(r.kind and r.text and r.text.endswith(".") for r in reasons)
        assert all(name in pool.class_names for r in reasons for name in r.topics)
        assert all(name in r.text for r in reasons for name in r.topics)


def test_empty_pool(strategy: QueryStrategy) -> None:
    pool, _ = clustered_pool([3, 3, 3])
    empty = pool.subset(np.empty(0, dtype=np.int64))
    assert empty.size == 0
    assert_valid(select(strategy, empty, 5), 0, 0)


def test_one_class_probabilities(strategy: QueryStrategy) -> None:
    pool, _ = clustered_pool([10, 10, 10])
    sure = np.zeros_like(pool.probabilities)
    sure[:, 0] = 1.0
    pool = replace(pool, probabilities=sure)
    assert_valid(select(strategy, pool, 6), pool.size, 6)
    assert_valid(select(strategy, pool, 40), pool.size, pool.size)


@pytest.mark.parametrize("n", [1, 5, 12])
def test_duplicate_rows_give_distinct_picks(strategy: QueryStrategy, n: int) -> None:
    pool = duplicate_pool(12)
    picks = select(strategy, pool, n)
    assert_valid(picks, pool.size, n)
    assert np.array_equal(picks, select(strategy, pool, n))


def test_seeds_matter_for_random() -> None:
    pool, _ = clustered_pool([20, 20])
    random = make_strategy("random")
    assert not np.array_equal(select(random, pool, 10, seed=1), select(random, pool, 10, seed=2))


def test_random_needs_only_the_pool_size():
    from activelabel.strategies import PoolView, make_strategy

    view = PoolView(n_candidates=30)
    picked = make_strategy("random").select(view, 10, np.random.default_rng(0))
    assert len(picked) == 10 and len(set(picked.tolist())) == 10
    assert picked.max() < 30

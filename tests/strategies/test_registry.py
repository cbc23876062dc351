"""The spec grammar, the subsample wrapper and the small-text coreset adapter."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.errors import ConfigError
from activelabel.strategies import (
    STRATEGIES,
    Balanced,
    BreakingTies,
    Diversified,
    PoolView,
    QueryStrategy,
    Subsampled,
    make_strategy,
)

from .pools import clustered_pool


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("margin", "margin"),
        (" Margin + KMeans ", "margin+kmeans"),
        ("balanced(margin)", "balanced(margin)"),
        ("balanced(margin+kmeans)", "balanced(margin+kmeans)"),
        ("balanced(margin)+kmeans", "balanced(margin)+kmeans"),
        ("subsample(balanced(entropy))", "subsample(balanced(entropy))"),
    ],
)
def test_specs_build_the_named_composition(spec: str, name: str) -> None:
    strategy = make_strategy(spec)
    assert isinstance(strategy, QueryStrategy) and strategy.name == name


def test_wrappers_compose_and_union_their_needs() -> None:
    strategy = make_strategy("subsample(balanced(margin+kmeans))")
    assert isinstance(strategy, Subsampled)
    assert isinstance(strategy.base, Balanced) and isinstance(strategy.base.base, Diversified)
    assert {"probabilities", "embeddings", "labeled_classes"} <= strategy.needs


@pytest.mark.parametrize("spec", ["", "magrin", "balanced()", "balanced(margin", "+kmeans"])
def test_unknown_specs_raise_a_one_line_config_error(spec: str) -> None:
    with pytest.raises(ConfigError) as error:
        make_strategy(spec)
    message = str(error.value)
    assert "\n" not in message and all(name in message for name in STRATEGIES)


def test_subsample_only_looks_at_its_sample() -> None:
    pool = PoolView(probabilities=np.random.default_rng(0).dirichlet(np.ones(3), size=500))
    wrapped = Subsampled(BreakingTies(), size=50)
    picks = wrapped.select(pool, 10, np.random.default_rng(7))
    sample = np.sort(np.random.default_rng(7).choice(500, size=50, replace=False))
    assert set(picks.tolist()) <= set(sample.tolist())
    full = BreakingTies().select(pool, 10, np.random.default_rng(7))
    assert not np.array_equal(picks, full)


@pytest.mark.slow
def test_coreset_from_small_text_is_far_from_the_labelled_set() -> None:
    pool, truth = clustered_pool([20, 20, 20], spread=0.1, n_labeled=0)
    labeled = pool.embeddings[truth == 0][:3]
    view = PoolView(embeddings=pool.embeddings, labeled_embeddings=labeled)
    picks = make_strategy("coreset").select(view, 2, np.random.default_rng(0))
    assert set(truth[picks].tolist()) == {1, 2}

"""Cold start covers every topic; zero-shot probabilities are a usable round-0 model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from activelabel.errors import StrategyError
from activelabel.strategies import TopicSeed, make_strategy, zero_shot_probabilities

from .pools import clustered_pool

SIZES = [40, 25, 12, 8, 5, 3]  # the smallest topic is 3 of 93 candidates


@pytest.mark.parametrize("spec", ["topics", "kmeans"])
def test_first_batch_covers_every_topic(spec: str) -> None:
    pool, truth = clustered_pool(SIZES, spread=0.2)
    pool = replace(pool, labeled_embeddings=None, labeled_classes=np.empty(0, dtype=np.int64))
    picks = make_strategy(spec).select(pool, len(SIZES), np.random.default_rng(0))
    assert set(truth[picks].tolist()) == set(range(len(SIZES)))


def test_topics_with_fewest_labels_go_first() -> None:
    pool, truth = clustered_pool(SIZES, spread=0.2)
    pool = replace(pool, labeled_classes=np.array([0, 0, 1, 1, 2, 3, 4]))
    picks = TopicSeed().select(pool, 2, np.random.default_rng(0))
    assert truth[picks].tolist() == [5, 2]


def test_zero_shot_probabilities() -> None:
    pool, truth = clustered_pool(SIZES, spread=0.2)
    probabilities = zero_shot_probabilities(pool.embeddings, pool.topic_embeddings, 0.05)
    assert probabilities.shape == (len(truth), len(SIZES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.argmax(axis=1) == truth).mean() > 0.9
    softer = zero_shot_probabilities(pool.embeddings, pool.topic_embeddings, 1.0)
    assert softer.max(axis=1).mean() < probabilities.max(axis=1).mean()
    with pytest.raises(StrategyError, match="temperature"):
        zero_shot_probabilities(pool.embeddings, pool.topic_embeddings, 0.0)

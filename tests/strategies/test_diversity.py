"""k-means spreads picks across clusters; BADGE favours uncertain, distinct rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from activelabel.strategies import BADGE, PoolView, gradient_embeddings, make_strategy

from .pools import clustered_pool


def test_kmeans_takes_one_row_per_cluster() -> None:
    pool, truth = clustered_pool([30, 20, 15, 10, 5], spread=0.1)
    picks = make_strategy("kmeans").select(pool, 5, np.random.default_rng(0))
    assert sorted(truth[picks].tolist()) == [0, 1, 2, 3, 4]
    assert truth[picks[0]] == 0, "biggest cluster first"


def test_uncertain_and_diverse_spreads_what_plain_margin_bunches() -> None:
    pool, truth = clustered_pool([10, 40, 40, 40], spread=0.1)
    # the model is unsure everywhere, most of all inside cluster 0
    probabilities = np.tile([0.5, 0.3, 0.2, 0.0], (len(truth), 1))
    probabilities[truth == 0] = [0.3, 0.3, 0.2, 0.2]
    pool = replace(pool, probabilities=probabilities)
    margin = make_strategy("margin").select(pool, 4, np.random.default_rng(0))
    diverse = make_strategy("margin+kmeans").select(pool, 4, np.random.default_rng(0))
    assert set(truth[margin]) == {0}
    assert len(set(truth[diverse])) > 1


def test_gradient_embeddings_are_residual_times_embedding() -> None:
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    embeddings = np.array([[1.0, 2.0], [3.0, -1.0]])
    grads = gradient_embeddings(probabilities, embeddings)
    assert grads.shape == (2, 6)
    np.testing.assert_allclose(grads[0], np.kron([-0.3, 0.2, 0.1], [1.0, 2.0]))
    np.testing.assert_allclose(grads[1], np.kron([0.1, 0.1, -0.2], [3.0, -1.0]))


def test_badge_prefers_uncertain_rows_and_skips_confident_duplicates() -> None:
    pool, _ = clustered_pool([25, 25], dim=8)
    probabilities = pool.probabilities.copy()
    probabilities[:30] = np.eye(2)[np.arange(30) % 2]  # 30 rows the model is sure about
    pool = PoolView(probabilities=probabilities, embeddings=pool.embeddings)
    picks = BADGE().select(pool, 6, np.random.default_rng(0))
    assert (picks < 30).sum() <= 1

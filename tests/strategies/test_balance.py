"""The under-represented-topics wrapper on a pool where one topic is 3 % and under-predicted."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelabel.strategies import Balanced, BreakingTies, PoolView, make_strategy
from activelabel.strategies.balance import allocate_quotas

RARE = 4


def rare_topic_pool(seed: int, spread: float = 1.2) -> tuple[PoolView, np.ndarray]:
    """1,200 candidates, topic 4 is 36 of them (3 %); a model trained on 20 labels per common
    topic and 1 rare label, so it rarely predicts the rare topic."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, 16))
    truth = np.repeat(np.arange(5), [291, 291, 291, 291, 36])
    embeddings = centres[truth] + spread * rng.normal(size=(len(truth), 16))
    labeled_classes = np.repeat(np.arange(5), [20, 20, 20, 20, 1])
    labeled = centres[labeled_classes] + spread * rng.normal(size=(len(labeled_classes), 16))
    model = LogisticRegression(max_iter=1000).fit(labeled, labeled_classes)
    probabilities = model.predict_proba(embeddings)
    predicted = probabilities.argmax(axis=1)
    recall = np.array([(predicted[truth == c] == c).mean() for c in range(5)])
    pool = PoolView(
        probabilities=probabilities,
        embeddings=embeddings,
        labeled_embeddings=labeled,
        labeled_classes=labeled_classes,
        class_recall=recall,
    )
    return pool, truth


def rare_picks(strategy, pool: PoolView, truth: np.ndarray, n: int = 20) -> int:
    picks = strategy.select(pool, n, np.random.default_rng(0))
    return int((truth[picks] == RARE).sum())


def predicted_class_quotas(pool: PoolView, truth: np.ndarray, n: int = 20) -> int:
    """small-text 2.0 ClassBalancer's idea: equal quotas per *predicted* class, margin within."""
    predicted = pool.probabilities.argmax(axis=1)
    margin, found = BreakingTies(), 0
    for c in range(pool.probabilities.shape[1]):
        rows = np.flatnonzero(predicted == c)
        picks = rows[margin.select(pool.subset(rows), n // 5, np.random.default_rng(0))]
        found += int((truth[picks] == RARE).sum())
    return found


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rare_topic_gets_more_of_the_batch_than_with_margin(seed: int) -> None:
    pool, truth = rare_topic_pool(seed)
    assert (pool.probabilities.argmax(axis=1) == RARE).sum() <= 10, "model under-predicts it"
    balanced = rare_picks(make_strategy("balanced(margin)"), pool, truth)
    assert balanced >= 2 * max(1, rare_picks(make_strategy("margin"), pool, truth))
    assert balanced > predicted_class_quotas(pool, truth)
    assert balanced >= 5


def test_without_recall_label_counts_alone_drive_the_quotas() -> None:
    pool, truth = rare_topic_pool(0)
    pool = replace(pool, class_recall=None)
    assert rare_picks(Balanced(BreakingTies()), pool, truth) >= 5


def test_without_probabilities_embeddings_find_the_rare_topic() -> None:
    pool, truth = rare_topic_pool(0)
    pool = replace(pool, probabilities=None)
    assert rare_picks(make_strategy("balanced(kmeans)"), pool, truth) >= 5


def test_quotas_fill_towards_equal_label_counts() -> None:
    labels = np.array([5.0, 0.0, 2.0])
    quotas = allocate_quotas(6, labels, None, np.ones(3, dtype=bool), floor=0.25)
    assert quotas.tolist() == [0, 4, 2]  # counts become 5, 4, 4


def test_low_recall_tilts_quotas_and_ineligible_classes_get_none() -> None:
    labels = np.array([4.0, 4.0, 0.0])
    recall = np.array([0.2, 1.0, np.nan])
    quotas = allocate_quotas(10, labels, recall, np.array([True, True, False]), floor=0.25)
    assert quotas[2] == 0 and quotas[0] > quotas[1] and quotas.sum() == 10


def test_classes_without_any_signal_fall_back_to_the_base_strategy() -> None:
    pool, _ = rare_topic_pool(0)
    flat = PoolView(probabilities=np.full_like(pool.probabilities, 0.2))
    picks = Balanced(BreakingTies()).select(flat, 7, np.random.default_rng(0))
    assert len(np.unique(picks)) == 7

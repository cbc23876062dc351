"""The under-represented-topics wrapper on a pool where one topic is 3 % and under-predicted."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.linear_model import LogisticRegression

from activelabel.strategies import Balanced, BreakingTies, PoolView, make_strategy
from activelabel.strategies.balance import allocate_quotas

from .pools import clustered_pool

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


def test_rare_topic_gets_more_of_the_batch_than_with_margin() -> None:
    found = {"balanced": 0, "margin": 0, "predicted": 0}
    for seed in (0, 1, 2):
        pool, truth = rare_topic_pool(seed)
        assert (pool.probabilities.argmax(axis=1) == RARE).sum() <= 10, "model under-predicts it"
        balanced = rare_picks(make_strategy("balanced(margin)"), pool, truth)
        margin = rare_picks(make_strategy("margin"), pool, truth)
        assert balanced >= margin
        found["balanced"] += balanced
        found["margin"] += margin
        found["predicted"] += predicted_class_quotas(pool, truth)
    assert found["balanced"] >= 2 * found["margin"]
    assert found["balanced"] > found["predicted"]
    assert found["balanced"] >= 15


def test_quota_is_capped_by_how_often_the_topic_is_predicted() -> None:
    """A rare topic with one label does not take the batch: its quota follows the rows the
    model predicts as it (times ``reach``, at least ``min_quota``), and balancing as a whole
    takes at most ``max_share`` of the batch."""
    pool, _ = rare_topic_pool(1)
    predicted = int((pool.probabilities.argmax(axis=1) == RARE).sum())
    quotas = Balanced(BreakingTies(), reach=2.0, min_quota=3).quotas(pool, 20)[0]
    assert quotas[RARE] == max(3, 2 * predicted) and quotas[:RARE].sum() == 0
    quotas = Balanced(BreakingTies(), reach=100.0, max_share=0.5).quotas(pool, 20)[0]
    assert quotas.sum() == 10


def test_even_topics_leave_the_batch_to_the_base() -> None:
    pool, _ = clustered_pool([40, 40, 40, 40], n_labeled=5)
    pool = replace(pool, class_recall=None)
    balanced = Balanced(BreakingTies()).select(pool, 8, np.random.default_rng(0))
    margin = BreakingTies().select(pool, 8, np.random.default_rng(0))
    assert np.array_equal(balanced, margin)


def test_without_recall_label_counts_alone_drive_the_quotas() -> None:
    pool, truth = rare_topic_pool(0)
    pool = replace(pool, class_recall=None)
    assert rare_picks(Balanced(BreakingTies()), pool, truth) >= 5


def test_without_probabilities_embeddings_find_the_rare_topic() -> None:
    pool, truth = rare_topic_pool(0)
    pool = replace(pool, probabilities=None)
    assert rare_picks(make_strategy("balanced(kmeans)"), pool, truth) >= 5


def test_quotas_fill_towards_the_targets_within_the_caps() -> None:
    labels = np.array([5.0, 0.0, 2.0])
    target = np.full(3, 4.0)
    quotas = allocate_quotas(6, labels, target, caps=np.array([0, 4, 2]))
    assert quotas.tolist() == [0, 4, 2]
    quotas = allocate_quotas(4, labels, target, caps=np.array([0, 4, 2]))
    assert quotas.tolist() == [0, 3, 1]  # counts become 3 and 3: the emptiest first
    assert allocate_quotas(5, labels, target, caps=np.zeros(3)).sum() == 0


def test_low_recall_raises_a_topics_target() -> None:
    pool, _ = clustered_pool([60, 60, 60], n_labeled=2)
    pool = replace(
        pool, labeled_classes=np.array([0, 0, 0, 0, 0, 0, 1, 2]), labeled_embeddings=None
    )
    strategy = Balanced(BreakingTies(), reach=100.0, max_share=1.0)
    sure = strategy.quotas(replace(pool, class_recall=np.array([1.0, 1.0, 1.0])), 40)[0]
    missed = strategy.quotas(replace(pool, class_recall=np.array([1.0, 0.0, np.nan])), 40)[0]
    assert sure[0] < sure[1] == sure[2]
    assert missed[1] > missed[2] == sure[2]


def test_classes_without_any_signal_fall_back_to_the_base_strategy() -> None:
    pool, _ = rare_topic_pool(0)
    flat = PoolView(probabilities=np.full_like(pool.probabilities, 0.2))
    picks = Balanced(BreakingTies()).select(flat, 7, np.random.default_rng(0))
    assert len(np.unique(picks)) == 7

"""Cold start: a first batch that covers every topic before any model exists.

Three ways, all from embeddings only:
(a) ``kmeans`` (:class:`~activelabel.strategies.diversity.EmbeddingKMeans`): cluster the pool
    into ``n`` clusters and take the headline nearest each centroid;
(b) ``topics`` (:class:`TopicSeed`): rank headlines by how much more they resemble one topic's
    description than the others, and take the best of each topic in turn;
(c) ``zero-shot`` (:class:`ZeroShotSeed`): every topic gets its share of the batch: its surest
    headline, or, with several slots, the headlines nearest the k-means centres of its rows.
:func:`zero_shot_probabilities` turns the same similarities into a round-0 model.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from activelabel.errors import StrategyError
from activelabel.strategies._common import (
    batch_size,
    nearest_to_centroids,
    rank_descending,
    require,
    unit_rows,
)
from activelabel.strategies.base import Need, PoolView, QueryStrategy, Reason, topic_name


def zero_shot_probabilities(
    embeddings: np.ndarray, topic_embeddings: np.ndarray, temperature: float = 0.05
) -> np.ndarray:
    """Softmax over the cosine similarities of each row to each topic description, divided by
    ``temperature`` (smaller: more confident). Shape (rows, topics); rows sum to 1.
    """
    if temperature <= 0:
        raise StrategyError(f"temperature must be positive, got {temperature}")
    logits = unit_rows(np.asarray(embeddings, dtype=np.float64))
    logits = logits @ unit_rows(np.asarray(topic_embeddings, dtype=np.float64)).T / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def topic_reason(pool: PoolView, topic: int, probability: float) -> Reason:
    """Why a row close to ``topic``'s description was picked, in plain words."""
    name = topic_name(pool, topic)
    if not len(pool.labeled_classes):
        text = (
            f"First batch, before any label: a typical headline of {name}, so that every topic "
            "gets a start."
        )
    else:
        text = (
            f"Picked because it reads like a typical headline of {name}, a topic short of labels."
        )
    return Reason("topic", text, (name,))


class TopicSeed(QueryStrategy):
    """Round-robin over topics; each takes its untaken headline with the highest zero-shot
    probability. Topics with the fewest labels so far go first in every round.
    """

    name = "topics"
    needs = frozenset(
        {Need.EMBEDDINGS, Need.TOPIC_EMBEDDINGS, Need.LABELED_CLASSES, Need.CLASS_NAMES}
    )

    def __init__(self, temperature: float = 0.05) -> None:
        self.temperature = temperature

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.select_with_reasons(pool, n, rng)[0]

    def select_with_reasons(
        self, pool: PoolView, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[Reason]]:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64), []
        require(pool, self.name, "embeddings", "topic_embeddings")
        scores = zero_shot_probabilities(pool.embeddings, pool.topic_embeddings, self.temperature)
        n_topics = scores.shape[1]
        counts = np.bincount(np.asarray(pool.labeled_classes, dtype=np.int64), minlength=n_topics)
        topic_order = np.argsort(counts[:n_topics], kind="stable")
        rankings = [rank_descending(scores[:, topic], rng) for topic in range(n_topics)]
        cursors = np.zeros(n_topics, dtype=np.int64)
        taken = np.zeros(pool.size, dtype=bool)
        picks: list[int] = []
        reasons: list[Reason] = []
        while len(picks) < n:
            for topic in topic_order:
                ranking = rankings[topic]
                while taken[ranking[cursors[topic]]]:
                    cursors[topic] += 1
                row = int(ranking[cursors[topic]])
                taken[row] = True
                picks.append(row)
                reasons.append(topic_reason(pool, int(topic), float(scores[row, topic])))
                if len(picks) == n:
                    break
        return np.asarray(picks, dtype=np.int64), reasons


class ZeroShotSeed(QueryStrategy):
    """A first batch that covers every topic, each with headlines spread over its kinds.

    Rows go to the topic of highest zero-shot probability. Each topic gets an equal share of
    the batch (capped by its rows; what a topic cannot use goes to the others). A topic with one
    slot gets its surest row (a sure hit matters most when there are many topics and few slots).
    A topic with several slots has its rows (the ``confident`` share of them, surest first)
    clustered by k-means into its share, and takes the row nearest each cluster's centre
    (``central``; else each cluster's surest row). Picks are interleaved topic by topic.

    Central rows teach the learner more than the surest ones, which it already places from the
    description: at 20 labels on SIB-200 (7 topics) 84.4 % against 81.1 % (English) and 81.9
    against 77.5 % (Spanish) for the earlier surest-of-the-confident-half rule
    (``confident=0.5, central=False``), and the same on BBC (benchmarks/README.md).
    """

    name = "zero-shot"
    needs = frozenset(
        {Need.EMBEDDINGS, Need.TOPIC_EMBEDDINGS, Need.LABELED_CLASSES, Need.CLASS_NAMES}
    )

    def reasons(self, pool: PoolView, rows: np.ndarray) -> list[Reason]:
        if not len(rows):
            return []
        scores = zero_shot_probabilities(
            pool.embeddings[rows], pool.topic_embeddings, self.temperature
        )
        return [topic_reason(pool, int(row.argmax()), float(row.max())) for row in scores]

    def __init__(
        self, temperature: float = 0.05, confident: float = 1.0, central: bool = True
    ) -> None:
        self.temperature = temperature
        self.confident = confident
        self.central = central

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        require(pool, self.name, "embeddings", "topic_embeddings")
        scores = zero_shot_probabilities(pool.embeddings, pool.topic_embeddings, self.temperature)
        predicted = scores.argmax(axis=1)
        confidence = scores.max(axis=1)
        members = [np.flatnonzero(predicted == c) for c in range(scores.shape[1])]
        shares = _equal_shares(n, np.array([len(m) for m in members]))
        taken = np.zeros(pool.size, dtype=bool)
        per_topic = []
        for rows, share in zip(members, shares, strict=True):
            if share == 0:
                continue
            ranked = rows[rank_descending(confidence[rows], rng)]  # surest first
            considered = ranked[: max(share, math.ceil(self.confident * len(ranked)))]
            if share == 1 or share >= len(considered):
                picks = np.arange(min(share, len(considered)))
            elif self.central:
                picks = nearest_to_centroids(pool.embeddings[considered], share, rng)
            else:
                picks = _most_confident_per_cluster(
                    pool.embeddings[considered], confidence[considered], share, rng
                )
            per_topic.append(considered[picks])
            taken[considered[picks]] = True
        chosen = [int(g[i]) for i in range(int(shares.max())) for g in per_topic if i < len(g)]
        if len(chosen) < n:  # duplicate rows can leave a topic's clusters short
            rest = np.flatnonzero(~taken)
            chosen.extend(rest[rank_descending(confidence[rest], rng)][: n - len(chosen)])
        return np.asarray(chosen, dtype=np.int64)


def _equal_shares(n: int, available: np.ndarray) -> np.ndarray:
    """``n`` slots spread evenly over groups, none above its ``available`` rows; the remainder
    goes to the largest groups first."""
    shares = np.zeros(len(available), dtype=np.int64)
    order = np.argsort(-available, kind="stable")
    while shares.sum() < min(n, available.sum()):
        for group in order:
            if shares[group] < available[group] and shares.sum() < n:
                shares[group] += 1
    return shares


def _most_confident_per_cluster(
    embeddings: np.ndarray, confidence: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """k-means ``embeddings`` into ``k`` clusters; the most confident row of each (largest
    cluster first). Fewer than ``k`` rows when duplicates leave clusters empty."""
    if k >= len(embeddings):
        return np.argsort(-confidence, kind="stable")[:k]
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    x = unit_rows(np.asarray(embeddings, dtype=np.float64))
    kmeans = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31 - 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = kmeans.fit_predict(x)
    sizes = np.bincount(labels, minlength=k)
    picks = []
    for cluster in np.argsort(-sizes, kind="stable"):
        rows = np.flatnonzero(labels == cluster)
        if len(rows):
            picks.append(int(rows[np.argmax(confidence[rows])]))
    return np.asarray(picks, dtype=np.int64)

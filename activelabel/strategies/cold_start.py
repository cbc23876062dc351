"""Cold start: a first batch that covers every topic before any model exists.

Two ways, both from embeddings only:
(a) ``kmeans`` (:class:`~activelabel.strategies.diversity.EmbeddingKMeans`): cluster the pool
    into ``n`` clusters and take the headline nearest each centroid;
(b) ``topics`` (:class:`TopicSeed`): rank headlines by how much more they resemble one topic's
    description than the others, and take the best of each topic in turn.
:func:`zero_shot_probabilities` turns the same similarities into a round-0 model.
"""

from __future__ import annotations

import numpy as np

from activelabel.errors import StrategyError
from activelabel.strategies._common import batch_size, rank_descending, require, unit_rows
from activelabel.strategies.base import Need, PoolView, QueryStrategy


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


class TopicSeed(QueryStrategy):
    """Round-robin over topics; each takes its untaken headline with the highest zero-shot
    probability. Topics with the fewest labels so far go first in every round.
    """

    name = "topics"
    needs = frozenset({Need.EMBEDDINGS, Need.TOPIC_EMBEDDINGS, Need.LABELED_CLASSES})

    def __init__(self, temperature: float = 0.05) -> None:
        self.temperature = temperature

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        require(pool, self.name, "embeddings", "topic_embeddings")
        scores = zero_shot_probabilities(pool.embeddings, pool.topic_embeddings, self.temperature)
        n_topics = scores.shape[1]
        counts = np.bincount(np.asarray(pool.labeled_classes, dtype=np.int64), minlength=n_topics)
        topic_order = np.argsort(counts[:n_topics], kind="stable")
        rankings = [rank_descending(scores[:, topic], rng) for topic in range(n_topics)]
        cursors = np.zeros(n_topics, dtype=np.int64)
        taken = np.zeros(pool.size, dtype=bool)
        picks: list[int] = []
        while len(picks) < n:
            for topic in topic_order:
                ranking = rankings[topic]
                while taken[ranking[cursors[topic]]]:
                    cursors[topic] += 1
                row = int(ranking[cursors[topic]])
                taken[row] = True
                picks.append(row)
                if len(picks) == n:
                    break
        return np.asarray(picks, dtype=np.int64)

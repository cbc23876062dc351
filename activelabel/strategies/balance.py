"""Under-represented topics: spend the batch where the model knows least.

small-text 2.0's ``ClassBalancer`` gives each class a quota and fills it with items *predicted*
as that class; a weak model rarely predicts a rare topic, so the rare topic gets fewer picks.
:class:`Balanced` differs in both steps:

1. **Quotas** go slot by slot to the topic with the highest need
   ``(1 - recall + recall_floor) / (1 + labels so far + slots already given)``, a water-filling
   towards equal label counts, tilted to topics the model misses (recall NaN or unknown: 1).
2. **Candidates** for a topic are the ``oversample * quota`` rows that look most like it, by
   percentile rank of the model's probability for that topic *relative to other rows* (so a rare
   topic that is never the argmax still has candidates), blended with the cosine similarity to
   the centroid of the topic's labelled headlines (or to its description embedding while it has
   none); the embedding side weighs more while the topic has few labels.
   The wrapped ``base`` strategy then picks the quota among them (e.g. the most uncertain).

A topic with no signal at all (constant probabilities, no labelled or description embedding)
gets no quota; slots no topic can take go to ``base`` over the rest of the pool.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from activelabel.strategies._common import batch_size, rank_descending, unit_rows
from activelabel.strategies.base import PoolView, QueryStrategy


def class_count(pool: PoolView) -> int:
    """Number of classes, from whichever fields tell (the largest answer wins)."""
    counts = [len(pool.class_names), int(np.max(pool.labeled_classes, initial=-1)) + 1]
    if pool.probabilities is not None:
        counts.append(pool.probabilities.shape[1])
    if pool.topic_embeddings is not None:
        counts.append(pool.topic_embeddings.shape[0])
    if pool.class_recall is not None:
        counts.append(len(pool.class_recall))
    return int(max(counts))


def labels_per_class(pool: PoolView, n_classes: int) -> np.ndarray:
    classes = np.asarray(pool.labeled_classes, dtype=np.int64)
    return np.bincount(classes, minlength=n_classes)[:n_classes].astype(np.float64)


def allocate_quotas(
    n: int, labels: np.ndarray, recall: np.ndarray | None, eligible: np.ndarray, floor: float
) -> np.ndarray:
    """Give ``n`` slots one at a time to the eligible class of highest need (ties: lowest id)."""
    need = np.ones(len(labels))
    if recall is not None:
        known_recall = np.full(len(labels), np.nan)
        shared = min(len(recall), len(labels))
        known_recall[:shared] = recall[:shared]
        known = ~np.isnan(known_recall)
        need[known] = 1.0 - np.clip(known_recall[known], 0.0, 1.0) + floor
    quotas = np.zeros(len(labels), dtype=np.int64)
    if not eligible.any():
        return quotas
    for _ in range(n):
        priority = np.where(eligible, need / (1.0 + labels + quotas), -np.inf)
        quotas[int(np.argmax(priority))] += 1
    return quotas


def class_affinity(pool: PoolView, n_classes: int, labels: np.ndarray, few: float) -> np.ndarray:
    """(rows, classes) in [0, 1]: how much each row looks like each class relative to the other
    rows; NaN for a class without any signal.
    """
    affinity = np.full((pool.size, n_classes), np.nan)
    probabilities = pool.probabilities
    anchors = _class_anchors(pool, n_classes)
    similarity = None
    if pool.embeddings is not None and anchors is not None:
        similarity = unit_rows(np.asarray(pool.embeddings, dtype=np.float64)) @ anchors.T
    for c in range(n_classes):
        parts, weights = [], []
        embedding_weight = few / (few + labels[c])
        if probabilities is not None and np.ptp(probabilities[:, c]) > 0:
            parts.append(rankdata(probabilities[:, c]) / pool.size)
            weights.append(1.0 - embedding_weight if similarity is not None else 1.0)
        if similarity is not None and not np.isnan(similarity[:, c]).any():
            parts.append(rankdata(similarity[:, c]) / pool.size)
            weights.append(embedding_weight)
        if parts and sum(weights) > 0:
            affinity[:, c] = np.average(parts, axis=0, weights=weights)
        elif parts:
            affinity[:, c] = parts[0]
    return affinity


def _class_anchors(pool: PoolView, n_classes: int) -> np.ndarray | None:
    """Unit vector per class: centroid of its labelled embeddings, else its description
    embedding, else NaN. None when there is nothing to anchor on.
    """
    if pool.embeddings is None:
        return None
    anchors = np.full((n_classes, pool.embeddings.shape[1]), np.nan)
    if pool.topic_embeddings is not None:
        topics = unit_rows(np.asarray(pool.topic_embeddings, dtype=np.float64))[:n_classes]
        anchors[: len(topics)] = topics
    if pool.labeled_embeddings is not None and len(pool.labeled_classes):
        classes = np.asarray(pool.labeled_classes, dtype=np.int64)
        for c in np.unique(classes[classes < n_classes]):
            centroid = np.asarray(pool.labeled_embeddings)[classes == c].mean(axis=0)
            anchors[c] = unit_rows(centroid[None, :])[0]
    return None if np.isnan(anchors).all() else anchors


class Balanced(QueryStrategy):
    """Split the batch across topics by need, then let ``base`` pick within each topic's
    likeliest candidates. See the module docstring for the rules.

    Every field in ``needs`` beyond ``base.needs`` is optional: the wrapper uses what is there
    (probabilities and/or embeddings; recall, labelled and description embeddings if present).
    ``oversample``: candidates per slot; ``few_labels``: labels at which the embedding and the
    probability evidence weigh equally; ``recall_floor``: need left at recall 1.
    """

    def __init__(
        self,
        base: QueryStrategy,
        oversample: int = 3,
        few_labels: float = 10.0,
        recall_floor: float = 0.25,
    ) -> None:
        self.base = base
        self.oversample = oversample
        self.few_labels = few_labels
        self.recall_floor = recall_floor
        self.name = f"balanced({base.name})"
        self.needs = base.needs | {
            "probabilities",
            "embeddings",
            "labeled_embeddings",
            "labeled_classes",
            "class_recall",
            "topic_embeddings",
        }

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        n_classes = class_count(pool)
        labels = labels_per_class(pool, n_classes)
        affinity = class_affinity(pool, n_classes, labels, self.few_labels)
        recall = None if pool.class_recall is None else np.asarray(pool.class_recall, float)
        eligible = ~np.isnan(affinity).all(axis=0)
        quotas = allocate_quotas(n, labels, recall, eligible, self.recall_floor)

        taken = np.zeros(pool.size, dtype=bool)
        per_class: list[np.ndarray] = []
        for c in np.argsort(-quotas, kind="stable")[: int((quotas > 0).sum())]:
            free = np.flatnonzero(~taken)
            quota = min(int(quotas[c]), len(free))
            if quota == 0:
                break
            shortlist = free[rank_descending(affinity[free, c], rng)[: self.oversample * quota]]
            picks = shortlist[self.base.select(pool.subset(shortlist), quota, rng)]
            taken[picks] = True
            per_class.append(picks)

        chosen = _interleave(per_class)
        if len(chosen) < n:
            rest = np.flatnonzero(~taken)
            extra = rest[self.base.select(pool.subset(rest), n - len(chosen), rng)]
            chosen = np.concatenate([chosen, extra])
        return chosen.astype(np.int64)

    def __repr__(self) -> str:
        return f"Balanced({self.base!r}, oversample={self.oversample})"


def _interleave(groups: list[np.ndarray]) -> np.ndarray:
    """First of each group, then second of each, ... (most needed group first)."""
    rounds = max((len(g) for g in groups), default=0)
    ordered = [g[i] for i in range(rounds) for g in groups if i < len(g)]
    return np.asarray(ordered, dtype=np.int64)

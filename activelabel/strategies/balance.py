"""Under-represented topics: top up the topics the labels miss, leave the rest to ``base``.

small-text 2.0's ``ClassBalancer`` gives every class an equal quota filled with items *predicted*
as that class; a weak model rarely predicts a rare topic, so the rare topic gets fewer picks,
and on a corpus whose topics are already even it swaps uncertain picks for confident ones.
:class:`Balanced` only spends the part of the batch that a *deficit* asks for:

1. **Target.** A topic should hold at least ``tolerance`` of an equal share of the labels after
   this batch, ``tolerance * (labels + n) / classes``, raised up to twice that for a topic the
   model misses (factor ``2 - recall``, recall = the loop's ``class_recall``, e.g. the recall
   of the model's predictions on the items it picked; unknown: factor 1). Its **deficit** is
   what the target lacks. On a corpus with even topics deficits are (nearly) zero and the
   wrapper is its base.
2. **Quotas.** Deficit slots go one at a time to the topic of highest need
   ``target / (1 + labels + slots given)``, each topic capped by how many real candidates it
   seems to have (``reach`` times the rows predicted as it, at least ``min_quota``) and all
   topics together by ``max_share * n``: a rare topic with one label cannot take the batch and
   fill it with misses.
3. **Candidates.** A topic's quota is picked by ``base`` among the ``oversample * quota`` free
   rows with the highest probability of that topic: for a topic the model under-predicts these
   are still uncertain rows (mostly predicted as something else), and the closest the pool has
   to the topic. Without probabilities the rows most similar to the topic's anchor (centroid of
   its labelled headlines, else its description embedding) are used instead.
4. **The rest** of the batch goes to ``base`` over the whole remaining pool.

A topic with no signal at all (constant probabilities and no anchor) gets no quota.
"""

from __future__ import annotations

import math

import numpy as np

from activelabel.strategies._common import batch_size, clause, rank_descending, unit_rows
from activelabel.strategies.base import Need, PoolView, QueryStrategy, Reason, topic_name


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


def recall_tilt(recall: np.ndarray | None, n_classes: int) -> np.ndarray:
    """Per class ``2 - recall`` in [1, 2]; 1 where the recall is unknown (NaN or missing)."""
    tilt = np.ones(n_classes)
    if recall is None:
        return tilt
    known = np.full(n_classes, np.nan)
    shared = min(len(recall), n_classes)
    known[:shared] = np.asarray(recall, dtype=np.float64)[:shared]
    ok = ~np.isnan(known)
    tilt[ok] = 2.0 - np.clip(known[ok], 0.0, 1.0)
    return tilt


def allocate_quotas(
    budget: int, labels: np.ndarray, target: np.ndarray, caps: np.ndarray
) -> np.ndarray:
    """Give up to ``budget`` slots one at a time to the class of highest need
    ``target / (1 + labels + quota)`` whose quota is below ``caps`` (ties: lowest id)."""
    quotas = np.zeros(len(labels), dtype=np.int64)
    caps = np.maximum(np.asarray(caps, dtype=np.int64), 0)
    for _ in range(max(0, int(budget))):
        open_ = quotas < caps
        if not open_.any():
            break
        priority = np.where(open_, target / (1.0 + labels + quotas), -np.inf)
        quotas[int(np.argmax(priority))] += 1
    return quotas


def class_scores(pool: PoolView, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, classes) scores of how much each row looks like each class, and per class whether
    the score carries any signal. Probabilities when there are any; else cosine similarity to
    the class anchors (labelled centroid, else description embedding).
    """
    scores = np.zeros((pool.size, n_classes))
    signal = np.zeros(n_classes, dtype=bool)
    if pool.probabilities is not None:
        probabilities = np.asarray(pool.probabilities, dtype=np.float64)
        width = min(probabilities.shape[1], n_classes)
        scores[:, :width] = probabilities[:, :width]
        signal[:width] = np.ptp(probabilities[:, :width], axis=0) > 0 if pool.size else False
    anchors = _class_anchors(pool, n_classes)
    if anchors is not None:
        similarity = (
            unit_rows(np.asarray(pool.embeddings, dtype=np.float64)) @ np.nan_to_num(anchors).T
        )
        anchored = ~np.isnan(anchors).any(axis=1)
        # without probabilities every anchored class; with them, the classes the model never
        # predicts (no labels yet) that have an anchor
        fill = anchored if pool.probabilities is None else anchored & ~signal
        scores[:, fill] = similarity[:, fill]
        signal |= fill & (np.ptp(similarity, axis=0) > 0 if pool.size else False)
    return scores, signal


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
    labeled = pool.labeled_embeddings
    if (
        labeled is not None
        and len(pool.labeled_classes)
        and len(labeled) == len(pool.labeled_classes)
    ):
        classes = np.asarray(pool.labeled_classes, dtype=np.int64)
        for c in np.unique(classes[classes < n_classes]):
            centroid = np.asarray(pool.labeled_embeddings)[classes == c].mean(axis=0)
            anchors[c] = unit_rows(centroid[None, :])[0]
    return None if np.isnan(anchors).all() else anchors


class Balanced(QueryStrategy):
    """Give the topics that lack labels the part of the batch they lack (capped), picked by
    ``base`` among each topic's likeliest rows; ``base`` picks the rest over the whole pool.
    See the module docstring for the rules.

    Every field in ``needs`` beyond ``base.needs`` is optional: the wrapper uses what is there.
    ``tolerance``: fraction of an equal share below which a topic is in deficit;
    ``max_share``: most of the batch that balancing may take; ``reach``: per-topic cap as a
    multiple of the rows predicted as the topic; ``min_quota``: the cap's floor;
    ``oversample``: candidates per slot.
    """

    def __init__(
        self,
        base: QueryStrategy,
        tolerance: float = 0.5,
        max_share: float = 0.5,
        reach: float = 2.0,
        min_quota: int = 3,
        oversample: int = 3,
    ) -> None:
        self.base = base
        self.tolerance = tolerance
        self.max_share = max_share
        self.reach = reach
        self.min_quota = min_quota
        self.oversample = oversample
        self.name = f"balanced({base.name})"
        self.needs = base.needs | {
            Need.PROBABILITIES,
            Need.EMBEDDINGS,
            Need.LABELED_EMBEDDINGS,
            Need.LABELED_CLASSES,
            Need.CLASS_NAMES,
            Need.CLASS_RECALL,
            Need.TOPIC_EMBEDDINGS,
        }

    def quotas(self, pool: PoolView, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Slots per class for a batch of ``n``, and the class scores behind them."""
        n_classes = class_count(pool)
        labels = labels_per_class(pool, n_classes)
        scores, signal = class_scores(pool, n_classes)
        recall = None if pool.class_recall is None else np.asarray(pool.class_recall, float)
        tilt = recall_tilt(recall, n_classes)
        target = self.tolerance * (labels.sum() + n) / n_classes * tilt
        deficit = np.ceil(np.maximum(target - labels, 0.0)).astype(np.int64)
        predicted = np.bincount(scores.argmax(axis=1), minlength=n_classes)[:n_classes]
        caps = np.maximum(np.ceil(self.reach * predicted), self.min_quota).astype(np.int64)
        caps = np.where(signal, np.minimum(deficit, caps), 0)
        budget = math.floor(self.max_share * n)
        return allocate_quotas(budget, labels, target, caps), scores

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.select_with_reasons(pool, n, rng)[0]

    def select_with_reasons(
        self, pool: PoolView, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[Reason]]:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64), []
        quotas, scores = self.quotas(pool, n)
        labels = labels_per_class(pool, len(quotas))

        taken = np.zeros(pool.size, dtype=bool)
        per_class: list[list[tuple[int, Reason]]] = []
        for c in np.argsort(-quotas, kind="stable")[: int((quotas > 0).sum())]:
            free = np.flatnonzero(~taken)
            quota = min(int(quotas[c]), len(free))
            if quota == 0:
                break
            shortlist = free[rank_descending(scores[free, c], rng)[: self.oversample * quota]]
            picks, why = self.base.select_with_reasons(pool.subset(shortlist), quota, rng)
            picks = shortlist[picks]
            taken[picks] = True
            name = topic_name(pool, int(c))
            per_class.append(
                [
                    (
                        int(row),
                        Reason(
                            "balance",
                            f"Picked because topic {name} has few labels ({labels[c]:.0f}) "
                            f"and this is among its likeliest headlines; {clause(reason.text)}.",
                            (name, *(t for t in reason.topics if t != name)),
                        ),
                    )
                    for row, reason in zip(picks, why, strict=True)
                ]
            )

        chosen = _interleave(per_class)
        rows = np.asarray([row for row, _ in chosen], dtype=np.int64)
        reasons = [reason for _, reason in chosen]
        if len(rows) < n:
            rest = np.flatnonzero(~taken)
            extra, why = self.base.select_with_reasons(pool.subset(rest), n - len(rows), rng)
            rows = np.concatenate([rows, rest[extra]])
            reasons += why
        return rows.astype(np.int64), reasons

    def __repr__(self) -> str:
        return (
            f"Balanced({self.base!r}, tolerance={self.tolerance}, max_share={self.max_share}, "
            f"reach={self.reach})"
        )


def _interleave(groups: list[list]) -> list:
    """First of each group, then second of each, ... (most needed group first)."""
    rounds = max((len(g) for g in groups), default=0)
    return [g[i] for i in range(rounds) for g in groups if i < len(g)]

"""Rare topics stay hunted: topics with no or few labels get part of every batch.

A topic with fewer than ``few`` labels is *short* of ``few - labels``; beyond that it stays short
until it holds ``share`` of an equal part of the labels so far (``share * labels / topics``), but
for no more slots than the model expects it to have left in the pool (its mean predicted
probability times the pool size). Short topics are served
fewest labels first, then largest predicted share of the pool (the model expects the topic
there but has seen little of it). Each gets its slots with candidates found two ways in turn:
the free row most similar to its description (when ``topic_embeddings`` is filled) and the
free row with the highest predicted probability of the topic. At most ``max_share`` of the batch
(at least one slot) is spent this way; ``base`` picks the rest over the remaining pool.

Two more kinds of evidence can be switched on. ``recall_floor``: a topic whose recall on the
rows picked so far (``class_recall``) is below it is short of one slot even when it has labels
enough. ``within_base``: once a topic has ``few`` labels, its slots go to ``base``'s choice among
its ``oversample`` likeliest free rows per slot instead of the likeliest row itself, so a hunt
for more of a topic asks about the rows near its boundary, as ``base`` would.
"""

from __future__ import annotations

import math

import numpy as np

from activelabel.strategies._common import batch_size, clause, rank_descending, unit_rows
from activelabel.strategies.balance import class_count, labels_per_class
from activelabel.strategies.base import Need, PoolView, QueryStrategy, Reason, percent, topic_name


class Hunted(QueryStrategy):
    """Give topics with fewer than ``few`` labels candidates by description similarity and
    model probability (see the module docstring); ``base`` picks the rest."""

    def __init__(
        self,
        base: QueryStrategy,
        few: int = 2,
        max_share: float = 0.3,
        share: float = 0.5,
        recall_floor: float = 0.0,
        within_base: bool = False,
        oversample: int = 5,
    ) -> None:
        self.base = base
        self.few = few
        self.max_share = max_share
        self.share = share
        self.recall_floor = recall_floor
        self.within_base = within_base
        self.oversample = oversample
        self.name = f"hunt({base.name})"
        self.needs = base.needs | {
            Need.PROBABILITIES,
            Need.LABELED_CLASSES,
            Need.EMBEDDINGS,
            Need.TOPIC_EMBEDDINGS,
            Need.CLASS_NAMES,
            Need.CLASS_RECALL,
        }

    def low_recall(self, pool: PoolView, n_classes: int) -> np.ndarray:
        """Per topic, whether its recall on the rows picked so far is known and below
        ``recall_floor``."""
        low = np.zeros(n_classes, dtype=bool)
        if self.recall_floor <= 0 or pool.class_recall is None:
            return low
        recall = np.full(n_classes, np.nan)
        width = min(len(pool.class_recall), n_classes)
        recall[:width] = np.asarray(pool.class_recall, dtype=np.float64)[:width]
        low[~np.isnan(recall)] = recall[~np.isnan(recall)] < self.recall_floor
        return low

    def short_topics(self, pool: PoolView) -> list[tuple[int, int]]:
        """(topic, slots wanted) for the short topics, in the order they are served."""
        n_classes = class_count(pool)
        labels = labels_per_class(pool, n_classes)
        share = np.zeros(n_classes)
        if pool.probabilities is not None and pool.size:
            width = min(pool.probabilities.shape[1], n_classes)
            share[:width] = np.asarray(pool.probabilities, dtype=np.float64)[:, :width].mean(0)
        target = self.wanted(int(labels.sum()), n_classes)
        # beyond ``few``, no more slots than the model expects the topic to have left in the pool
        expected = np.floor(share * pool.size)
        slots = np.maximum(self.few - labels, np.minimum(target - labels, expected))
        slots = np.where(
            self.low_recall(pool, n_classes) & (expected > 0), np.maximum(slots, 1), slots
        )
        short = np.flatnonzero(slots > 0)
        order = short[np.lexsort((-share[short], labels[short]))]
        return [(int(c), int(slots[c])) for c in order]

    def wanted(self, n_labels: int, n_classes: int) -> int:
        """Labels a topic needs to stop being hunted: ``few``, or ``share`` of an equal part
        of the labels so far when that is more."""
        return max(self.few, math.floor(self.share * n_labels / max(1, n_classes)))

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.select_with_reasons(pool, n, rng)[0]

    def select_with_reasons(
        self, pool: PoolView, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[Reason]]:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64), []
        budget = min(n, max(1, math.floor(self.max_share * n)))
        rankings = self._rankings(pool, rng)
        taken = np.zeros(pool.size, dtype=bool)
        picks: list[int] = []
        reasons: list[Reason] = []
        wanted = dict(self.short_topics(pool))
        labels = labels_per_class(pool, class_count(pool))
        found = labels.copy()  # labels so far, then picks
        while len(picks) < budget and any(wanted.values()):
            for topic in list(wanted):
                if not wanted[topic] or len(picks) == budget:
                    continue
                ways = rankings.get(topic, [])
                way = ways[int(found[topic]) % len(ways)] if ways else None
                if self.within_base and found[topic] >= self.few and ways:
                    way = ways[-1]  # the probability ranking where there is one
                    row, why = self._base_choice(pool, way[1], taken, wanted[topic], rng)
                else:
                    row, why = (_first_free(way[1], taken) if way is not None else None), None
                if row is None:
                    wanted[topic] = 0
                    continue
                taken[row] = True
                picks.append(row)
                reasons.append(self._reason(pool, topic, int(labels[topic]), way[0], row, why))
                wanted[topic] -= 1
                found[topic] += 1
        chosen = np.asarray(picks, dtype=np.int64)
        if len(chosen) < n:
            rest = np.flatnonzero(~taken)
            extra, why = self.base.select_with_reasons(pool.subset(rest), n - len(chosen), rng)
            chosen = np.concatenate([chosen, rest[extra]])
            reasons += why
        return chosen.astype(np.int64), reasons

    def _base_choice(
        self,
        pool: PoolView,
        ranking: np.ndarray,
        taken: np.ndarray,
        slots: int,
        rng: np.random.Generator,
    ) -> tuple[int | None, Reason | None]:
        """``base``'s first choice among the topic's ``oversample * slots`` likeliest free rows."""
        free = ranking[~taken[ranking]][: self.oversample * max(1, slots)]
        if not len(free):
            return None, None
        rows, why = self.base.select_with_reasons(pool.subset(free), 1, rng)
        if not len(rows):
            return None, None
        return int(free[rows[0]]), why[0]

    def _reason(
        self,
        pool: PoolView,
        topic: int,
        labels: int,
        way: str,
        row: int,
        why: Reason | None = None,
    ) -> Reason:
        """Why ``row`` was hunted for ``topic``: the topic's labels against what the model
        expects of it in the pool (and its recall when low), and how the row was found."""
        name = topic_name(pool, topic)
        label_words = f"{labels} label" + ("" if labels == 1 else "s")
        evidence = f"it has {label_words}"
        if pool.probabilities is not None and topic < pool.probabilities.shape[1]:
            column = np.asarray(pool.probabilities[:, topic], dtype=np.float64)
            expected = float(column.sum())
            evidence += f" while the model expects about {expected:.0f} in the pool"
            found = f"the likeliest left for it ({percent(column[row])})"
        else:
            found = "among its likeliest headlines"
        if self.low_recall(pool, class_count(pool))[topic]:
            recall = float(pool.class_recall[topic])
            evidence += f", and the model found only {percent(recall)} of those picked so far"
        if way == "description":
            found = "the closest left to its description"
        if why is not None:
            found = f"among its likeliest, the one where {clause(why.text)}"
        return Reason(
            "hunt", f"Hunting topic {name}: {evidence}; this headline is {found}.", (name,)
        )

    def _rankings(
        self, pool: PoolView, rng: np.random.Generator
    ) -> dict[int, list[tuple[str, np.ndarray]]]:
        """Per short topic, the row orders to draw from: by description similarity, by
        probability (whichever the view has)."""
        rankings: dict[int, list[np.ndarray]] = {}
        similarity = None
        if pool.topic_embeddings is not None and pool.embeddings is not None and pool.size:
            similarity = (
                unit_rows(np.asarray(pool.embeddings, dtype=np.float64))
                @ unit_rows(np.asarray(pool.topic_embeddings, dtype=np.float64)).T
            )
        for topic, _ in self.short_topics(pool):
            ways = []
            if similarity is not None and topic < similarity.shape[1]:
                ways.append(("description", rank_descending(similarity[:, topic], rng)))
            if pool.probabilities is not None and topic < pool.probabilities.shape[1]:
                column = np.asarray(pool.probabilities[:, topic], dtype=np.float64)
                if np.ptp(column) > 0 if len(column) else False:
                    ways.append(("probability", rank_descending(column, rng)))
            rankings[topic] = ways
        return rankings

    def __repr__(self) -> str:
        return (
            f"Hunted({self.base!r}, few={self.few}, max_share={self.max_share}, "
            f"share={self.share}, recall_floor={self.recall_floor}, within_base={self.within_base})"
        )


def _first_free(ranking: np.ndarray, taken: np.ndarray) -> int | None:
    free = ranking[~taken[ranking]]
    return int(free[0]) if len(free) else None

"""Diversity: embedding k-means, k-means over the most wanted candidates, and BADGE.

Own code rather than small-text's ``EmbeddingKMeans`` and ``BADGE``: both draw from the global
``np.random`` (``KMeans()`` without a seed, ``np.random.RandomState()``), so they ignore ``rng``;
and small-text 1.4.1's BADGE builds its gradient embedding as ``-p ⊗ e`` (its
``scale[argmax]`` line indexes rows, not the predicted class), dropping the one-hot term.
"""

from __future__ import annotations

import numpy as np

from activelabel.strategies._common import (
    batch_size,
    clause,
    clustered,
    kmeans_plus_plus,
    require,
)
from activelabel.strategies.base import Need, PoolView, QueryStrategy, Reason, percent, topic_name


class EmbeddingKMeans(QueryStrategy):
    """Cluster the pool embeddings into ``n`` clusters; take the row nearest each centroid.

    Biggest cluster first. Needs no model, so it doubles as a cold start (BERT-KM, Yuan et al.
    2020).
    """

    name = "kmeans"
    needs = frozenset({Need.EMBEDDINGS, Need.LABELED_CLASSES})

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.select_with_reasons(pool, n, rng)[0]

    def select_with_reasons(
        self, pool: PoolView, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[Reason]]:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64), []
        require(pool, self.name, "embeddings")
        if n == pool.size:
            rows = rng.permutation(n).astype(np.int64)
            return rows, [Reason("cluster", "Picked because the pool has no more headlines.")] * n
        rows, sizes = clustered(pool.embeddings, n, rng)
        first = "First batch: spread" if not len(pool.labeled_classes) else "Picked to spread"
        reasons = [
            Reason(
                "cluster",
                f"{first} over the kinds of headlines in the pool: the most typical of group "
                f"{k + 1} of {n} ({size} headlines alike).",
            )
            for k, size in enumerate(sizes)
        ]
        return rows, reasons


class Diversified(QueryStrategy):
    """Take the ``factor * n`` candidates ``base`` wants most, then k-means them down to ``n``.

    With an uncertainty base this is "uncertain and diverse": it avoids a batch of near-duplicate
    headlines that all sit on the same decision boundary. Picks keep ``base``'s order.
    """

    def __init__(self, base: QueryStrategy, factor: int = 10) -> None:
        self.base = base
        self.factor = factor
        self.name = f"{base.name}+kmeans"
        self.needs = base.needs | {Need.EMBEDDINGS}

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.select_with_reasons(pool, n, rng)[0]

    def select_with_reasons(
        self, pool: PoolView, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[Reason]]:
        n = batch_size(pool, n)
        shortlist, why = self.base.select_with_reasons(pool, min(pool.size, self.factor * n), rng)
        if len(shortlist) <= n:
            return shortlist[:n], why[:n]
        require(pool, self.name, "embeddings")
        picks, sizes = clustered(pool.embeddings[shortlist], n, rng)
        group = {int(row): k for k, row in enumerate(picks)}
        order = np.sort(picks)
        reasons = [
            Reason(
                why[row].kind,
                f"Picked because {clause(why[row].text)}, and unlike the others in this batch "
                f"(group {group[int(row)] + 1} of {n} among the {len(shortlist)} it wanted "
                f"most, {sizes[group[int(row)]]} alike).",
                why[row].topics,
            )
            for row in order
        ]
        return shortlist[order], reasons

    def __repr__(self) -> str:
        return f"Diversified({self.base!r}, factor={self.factor})"


def gradient_embeddings(probabilities: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Last-layer gradient embeddings ``(p - onehot(argmax p)) ⊗ e``, shape (rows, classes * dim).

    This is the gradient of the cross-entropy loss with the predicted class as label with respect
    to the weights of a linear softmax head on ``embeddings`` (Ash et al. 2020).
    """
    residual = probabilities - np.eye(probabilities.shape[1])[probabilities.argmax(axis=1)]
    return (residual[:, :, None] * embeddings[:, None, :]).reshape(len(embeddings), -1)


class BADGE(QueryStrategy):
    """Batch Active learning by Diverse Gradient Embeddings: k-means++ seeding over gradient
    embeddings, so picks are both uncertain (long gradients) and different from each other.

    The gradient embeddings are never built: for ``g = r ⊗ e``,
    ``<g_i, g_j> = <r_i, r_j> <e_i, e_j>``, which keeps memory at (rows, classes + dim).
    """

    name = "badge"
    needs = frozenset({Need.PROBABILITIES, Need.EMBEDDINGS, Need.CLASS_NAMES})

    def reasons(self, pool: PoolView, rows: np.ndarray) -> list[Reason]:
        p = np.asarray(pool.probabilities, dtype=np.float64)
        out = []
        for row in rows:
            top = int(np.argmax(p[row]))
            name = topic_name(pool, top)
            out.append(
                Reason(
                    "diverse",
                    f"Picked because the model is unsure of it (it leans to {name}, "
                    f"{percent(p[row, top])}) in a way unlike the others in this batch.",
                    (name,),
                )
            )
        return out

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        require(pool, self.name, "probabilities", "embeddings")
        p = np.asarray(pool.probabilities, dtype=np.float64)
        e = np.asarray(pool.embeddings, dtype=np.float64)
        residual = p - np.eye(p.shape[1])[p.argmax(axis=1)]
        squared_norms = (residual**2).sum(axis=1) * (e**2).sum(axis=1)

        def squared_distances_to(j: int) -> np.ndarray:
            inner = (residual @ residual[j]) * (e @ e[j])
            return squared_norms + squared_norms[j] - 2.0 * inner

        return kmeans_plus_plus(squared_norms, squared_distances_to, n, rng)

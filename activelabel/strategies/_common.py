"""Small helpers shared by the strategies: batch sizes, ranking with seeded tie-breaks, k-means."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from activelabel.errors import StrategyError
from activelabel.strategies.base import PoolView

EMPTY = np.empty(0, dtype=np.int64)


def batch_size(pool: PoolView, n: int) -> int:
    """How many items a strategy can return: ``n`` clipped to ``[0, pool.size]``."""
    return max(0, min(int(n), pool.size))


def require(pool: PoolView, strategy: str, *fields: str) -> None:
    """Raise :class:`StrategyError` naming the first of ``fields`` that is empty."""
    for name in fields:
        if getattr(pool, name) is None:
            raise StrategyError(
                f"strategy {strategy!r} needs {name}, which is not available here (for "
                f"topic embeddings: a taxonomy with topic descriptions)"
            )


def rank_descending(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All row indices, highest score first; equal scores in an order drawn from ``rng``."""
    shuffled = rng.permutation(len(scores))
    return shuffled[np.argsort(-scores[shuffled], kind="stable")].astype(np.int64)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def nearest_to_centroids(embeddings: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster ``embeddings`` (cosine) into ``n`` groups; return the distinct row nearest each
    centroid, biggest cluster first. Needs ``1 <= n <= len(embeddings)``.
    """
    return clustered(embeddings, n, rng)[0]


def clustered(
    embeddings: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest_to_centroids` and, per pick, the size of its cluster."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    x = unit_rows(np.asarray(embeddings, dtype=np.float64))
    kmeans = KMeans(n_clusters=n, n_init=1, random_state=int(rng.integers(2**31 - 1)))
    with warnings.catch_warnings():  # duplicate rows give fewer distinct clusters than n
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = kmeans.fit_predict(x)
    sizes = np.bincount(labels, minlength=n)
    centers = kmeans.cluster_centers_
    # squared distance up to the constant |x|^2 = 1 shared by every (non-zero) row
    distances = (centers**2).sum(axis=1, keepdims=True) - 2.0 * centers @ x.T
    taken = np.zeros(len(x), dtype=bool)
    picks = []
    order = np.argsort(-sizes, kind="stable")
    for cluster in order:
        row = int(np.argmin(np.where(taken, np.inf, distances[cluster])))
        taken[row] = True
        picks.append(row)
    return np.asarray(picks, dtype=np.int64), sizes[order].astype(np.int64)


def clause(reason_text: str) -> str:
    """A reason's sentence as a clause to join to another: no "Picked because", no full stop."""
    text = reason_text.rstrip(".")
    prefix = "Picked because "
    if text.startswith(prefix):
        return text[len(prefix) :]
    return text[:1].lower() + text[1:]


def kmeans_plus_plus(
    squared_norms: np.ndarray,
    squared_distances_to: Callable[[int], np.ndarray],
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """k-means++ seeding: start at the largest norm, then draw rows with probability proportional
    to the squared distance to the nearest row already drawn. Always ``n`` distinct rows.
    """
    first = int(np.argmax(squared_norms))
    picks = [first]
    nearest = squared_distances_to(first)
    taken = np.zeros(len(squared_norms), dtype=bool)
    taken[first] = True
    while len(picks) < n:
        weights = np.where(taken, 0.0, np.maximum(nearest, 0.0))
        if weights.sum() <= 0:  # only duplicates of drawn rows left: draw uniformly
            weights = (~taken).astype(np.float64)
        row = int(rng.choice(len(weights), p=weights / weights.sum()))
        picks.append(row)
        taken[row] = True
        nearest = np.minimum(nearest, squared_distances_to(row))
    return np.asarray(picks, dtype=np.int64)

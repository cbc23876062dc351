"""Greedy coreset (small-text's ``GreedyCoreset``) under our contract: the batch that covers the
candidates' embeddings best, through an adapter classifier over precomputed arrays.

small-text is imported on first use only (it pulls in torch and transformers, ~5 s).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from activelabel.errors import StrategyError
from activelabel.strategies._common import batch_size, require
from activelabel.strategies.base import Need, PoolView, QueryStrategy, Reason


class IndexDataset:
    """The minimal small-text dataset: row ids into precomputed arrays."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)

    def __getitem__(self, item: np.ndarray | slice) -> IndexDataset:
        return IndexDataset(self.rows[item])

    def __len__(self) -> int:
        return len(self.rows)


class PrecomputedClassifier:
    """Answers small-text's ``predict_proba`` / ``embed`` calls from arrays computed by the loop."""

    def __init__(self, embeddings: np.ndarray, probabilities: np.ndarray | None = None) -> None:
        self.embeddings = embeddings
        self.probabilities = probabilities

    def predict_proba(self, dataset: IndexDataset) -> np.ndarray:
        if self.probabilities is None:
            raise StrategyError("this small-text strategy needs probabilities")
        return self.probabilities[dataset.rows]

    def embed(self, dataset: IndexDataset, return_proba: bool = False, **_: object):
        embeddings = self.embeddings[dataset.rows]
        if not return_proba:
            return embeddings
        probabilities = None if self.probabilities is None else self.predict_proba(dataset)
        return embeddings, probabilities


@contextmanager
def seeded_global_numpy(rng: np.random.Generator) -> Iterator[None]:
    """Seed the global ``np.random`` from ``rng`` for a block, then restore its old state."""
    saved = np.random.get_state()
    np.random.seed(int(rng.integers(2**32 - 1)))
    try:
        yield
    finally:
        np.random.set_state(saved)


class GreedyCoreset(QueryStrategy):
    """small-text's ``GreedyCoreset`` (Sener & Savarese 2018): repeatedly take the candidate
    farthest from everything labelled or taken so far (euclidean on unit embeddings).

    With nothing labelled yet, the candidate nearest the pool mean is taken first.
    """

    name = "coreset"
    needs = frozenset({Need.EMBEDDINGS, Need.LABELED_EMBEDDINGS})

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        n = batch_size(pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        require(pool, self.name, "embeddings")
        from small_text.query_strategies import GreedyCoreset as SmallTextGreedyCoreset

        embeddings = np.asarray(pool.embeddings, dtype=np.float64)
        labeled = pool.labeled_embeddings
        first = np.empty(0, dtype=np.int64)
        if labeled is None or len(labeled) == 0:
            centre = embeddings.mean(axis=0)
            first = np.array([np.argmin(((embeddings - centre) ** 2).sum(axis=1))])
            labeled = embeddings[first]
            n -= 1
        unlabeled = np.setdiff1d(np.arange(pool.size), first)
        if n == 0:
            return first
        stacked = np.vstack([embeddings, np.asarray(labeled, dtype=np.float64)])
        indices_labeled = np.arange(pool.size, len(stacked))
        with warnings.catch_warnings():  # "default metric changed" notice
            warnings.simplefilter("ignore", UserWarning)
            strategy = SmallTextGreedyCoreset(distance_metric="euclidean")
        with seeded_global_numpy(rng):
            picks = strategy.query(
                PrecomputedClassifier(stacked),
                IndexDataset(np.arange(len(stacked))),
                unlabeled,
                indices_labeled,
                np.zeros(len(indices_labeled), dtype=np.int64),
                n=n,
                pbar=None,
            )
        return np.concatenate([first, np.asarray(picks, dtype=np.int64)])

    def reasons(self, pool: PoolView, rows: np.ndarray) -> list[Reason]:
        text = (
            "Picked because it is unlike the headlines labelled so far (the farthest from "
            "them and from this batch's earlier picks)."
        )
        return [Reason("diverse", text) for _ in rows]

"""Scoring a pool of any size chunk by chunk, keeping arrays only.

What survives a pass: the candidates' ids (int64), their class probabilities (float32) and,
when the strategy needs embeddings, the embeddings of a *candidate subsample* of at most
``SAMPLE_SIZE`` rows. A pool no larger than that keeps every embedding (strategies see exactly
what they saw before). A larger one keeps the ``SAMPLE_SIZE // 2`` most uncertain rows
(smallest margin between the two most probable classes) plus rows drawn uniformly with a seeded
generator; an untrained model's probabilities mean nothing, so then every sampled row is drawn
at random. Strategies that need embeddings choose among the sampled rows; the others (and the
batch's random share) see the whole pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from activelabel.model.prediction import Prediction

SAMPLE_SIZE = 20_000  # rows whose embeddings a round keeps for diversity/balance strategies
CHUNK_SIZE = 8_192  # items read from the store and scored at a time

Chunk = tuple[np.ndarray, list[str]]  # item ids, texts
# (first row, texts) pieces and whether embeddings are wanted -> (rows, prediction), any order
Predict = Callable[[Iterable[tuple[int, list[str]]], bool], Iterator[tuple[np.ndarray, Prediction]]]


@dataclass
class ScoredPool:
    """The arrays a round keeps about its candidates; row ``i`` is candidate ``ids[i]``."""

    ids: np.ndarray  # (n,) int64
    probabilities: np.ndarray  # (n, n_classes) float32
    sample_rows: np.ndarray  # (m,) sorted rows whose embeddings were kept
    sample_embeddings: np.ndarray | None  # (m, dim) float32; None when none were asked for

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def complete(self) -> bool:
        """Whether every row's embedding was kept."""
        return len(self.sample_rows) == self.size

    @property
    def embeddings(self) -> np.ndarray | None:
        """Every row's embedding, where all were kept."""
        return self.sample_embeddings if self.complete else None

    def for_view(self, embeddings: bool) -> tuple[Prediction, np.ndarray]:
        """What a strategy's view is built from, and the pool row of each of its rows: the whole
        pool, or the candidate subsample when the strategy needs embeddings the pool lacks."""
        if embeddings and not self.complete:
            rows = self.sample_rows
            return Prediction(self.probabilities[rows], self.sample_embeddings), rows
        vectors = self.embeddings
        if vectors is None:
            vectors = np.zeros((self.size, 0), dtype=np.float32)
        return Prediction(self.probabilities, vectors), np.arange(self.size)


class _Sample:
    """Which rows keep their embeddings, decided as the chunks stream past."""

    def __init__(self, total: int, size: int, uncertain: bool, rng: np.random.Generator):
        self.everything = total <= size
        self.n_uncertain = size // 2 if uncertain and not self.everything else 0
        drawn = 0 if self.everything else size - self.n_uncertain
        self.drawn = np.sort(rng.choice(total, size=drawn, replace=False)) if drawn else None
        self.rows: list[np.ndarray] = []
        self.vectors: list[np.ndarray] = []
        self.top_rows = np.empty(0, dtype=np.int64)  # the most uncertain rows so far
        self.top_margin = np.empty(0, dtype=np.float32)
        self.top_vectors: np.ndarray | None = None

    def add(self, rows: np.ndarray, prediction: Prediction) -> None:
        vectors = prediction.embeddings
        if self.everything:
            self.rows.append(rows)
            self.vectors.append(vectors)
            return
        if self.drawn is not None:
            hit = np.isin(rows, self.drawn)
            self.rows.append(rows[hit])
            self.vectors.append(vectors[hit])
        if self.n_uncertain:
            self._keep_uncertain(rows, _margin(prediction.probabilities), vectors)

    def _keep_uncertain(self, rows: np.ndarray, margin: np.ndarray, vectors: np.ndarray) -> None:
        all_rows = np.concatenate([self.top_rows, rows])
        all_margin = np.concatenate([self.top_margin, margin])
        previous = self.top_vectors if self.top_vectors is not None else vectors[:0]
        all_vectors = np.concatenate([previous, vectors])
        order = np.lexsort((all_rows, all_margin))[: self.n_uncertain]  # ties: lower row first
        self.top_rows, self.top_margin = all_rows[order], all_margin[order]
        self.top_vectors = all_vectors[order]

    def result(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        rows = [*self.rows, self.top_rows]
        vectors = [*self.vectors]
        if self.top_vectors is not None:
            vectors.append(self.top_vectors)
        all_rows = np.concatenate(rows).astype(np.int64)
        all_vectors = (
            np.concatenate(vectors).astype(np.float32, copy=False)
            if vectors
            else np.zeros((0, dim), dtype=np.float32)
        )
        unique, first = np.unique(all_rows, return_index=True)  # drawn and uncertain may overlap
        return unique, all_vectors[first]


def _margin(probabilities: np.ndarray) -> np.ndarray:
    if probabilities.shape[1] < 2:
        return np.zeros(len(probabilities), dtype=np.float32)
    top = np.partition(probabilities, -2, axis=1)[:, -2:]
    return (top[:, 1] - top[:, 0]).astype(np.float32)


def score_pool(
    predict: Predict,
    chunks: Iterable[Chunk],
    total: int,
    n_classes: int,
    *,
    embeddings: bool,
    uncertain: bool,
    rng: np.random.Generator,
    sample_size: int | None = None,
) -> ScoredPool:
    """Score ``total`` candidates arriving in ``chunks`` with ``predict``; keep probabilities for
    all and embeddings (when ``embeddings``) for the sample. ``predict`` may return the chunks
    in any order: rows are placed by position, and the sample does not depend on the order."""
    ids = np.zeros(total, dtype=np.int64)
    probabilities = np.zeros((total, n_classes), dtype=np.float32)
    position = 0

    def numbered() -> Iterator[tuple[int, list[str]]]:
        nonlocal position
        for chunk_ids, texts in chunks:
            if position + len(chunk_ids) > total:
                raise ValueError("the pool grew while it was being scored")
            ids[position : position + len(chunk_ids)] = chunk_ids
            yield position, texts
            position += len(chunk_ids)

    size = SAMPLE_SIZE if sample_size is None else sample_size
    sample = _Sample(total, size, uncertain, rng) if embeddings else None
    dim = 0
    for rows, prediction in predict(numbered(), embeddings):
        probabilities[rows] = prediction.probabilities
        if sample is not None:
            dim = prediction.embeddings.shape[1]
            sample.add(rows, prediction)
    if position != total:
        raise ValueError(f"expected {total} candidates, the store gave {position}")
    if sample is None:
        return ScoredPool(ids, probabilities, np.empty(0, dtype=np.int64), None)
    rows, vectors = sample.result(dim)
    return ScoredPool(ids, probabilities, rows, vectors)


def local_predict(classifier, progress: Callable[[int], None] | None = None) -> Predict:
    """Chunks scored in this process by ``classifier.predict``."""

    def predict(pieces: Iterable[tuple[int, list[str]]], embeddings: bool) -> Iterator[tuple]:
        for start, texts in pieces:
            rows = np.arange(start, start + len(texts))
            yield rows, classifier.predict(texts, progress, embeddings=embeddings)

    return predict

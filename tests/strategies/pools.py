"""Synthetic pools for the strategy tests."""

from __future__ import annotations

import numpy as np

from activelabel.strategies import PoolView


def clustered_pool(
    sizes: list[int], dim: int = 16, spread: float = 0.3, seed: int = 0, n_labeled: int = 2
) -> tuple[PoolView, np.ndarray]:
    """A pool of Gaussian clusters, one per class, with model-like probabilities.

    Returns the view and the true class of each candidate. ``n_labeled`` labelled examples per
    class come from the same clusters; topic embeddings are the (noisy) cluster centres.
    """
    rng = np.random.default_rng(seed)
    n_classes = len(sizes)
    centres = rng.normal(size=(n_classes, dim))
    truth = np.repeat(np.arange(n_classes), sizes)
    embeddings = centres[truth] + spread * rng.normal(size=(len(truth), dim))
    logits = 3.0 * embeddings @ centres.T / dim
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    labeled_classes = np.repeat(np.arange(n_classes), n_labeled)
    labeled = centres[labeled_classes] + spread * rng.normal(size=(len(labeled_classes), dim))
    view = PoolView(
        probabilities=probabilities,
        embeddings=embeddings,
        labeled_embeddings=labeled,
        labeled_classes=labeled_classes,
        class_names=tuple(f"topic{c}" for c in range(n_classes)),
        class_recall=np.linspace(0.2, 0.9, n_classes),
        topic_embeddings=centres + 0.1 * rng.normal(size=centres.shape),
    )
    return view, truth


def duplicate_pool(size: int, n_classes: int = 4, dim: int = 8) -> PoolView:
    """Every candidate identical: same embedding, same probabilities."""
    base, _ = clustered_pool([3] * n_classes, dim=dim)
    return PoolView(
        probabilities=np.tile(base.probabilities[:1], (size, 1)),
        embeddings=np.tile(base.embeddings[:1], (size, 1)),
        labeled_embeddings=base.labeled_embeddings,
        labeled_classes=base.labeled_classes,
        class_names=base.class_names,
        class_recall=base.class_recall,
        topic_embeddings=base.topic_embeddings,
    )

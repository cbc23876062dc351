"""Pseudo-labels from the unlabelled pool: a training device for the frozen head.

Two ways to guess classes for unlabelled headlines: **self-training** (the head's own
predictions, refitted ``pseudo_passes`` times) and **label spreading** over the
k-nearest-neighbour graph of the embeddings (labelled examples and topic descriptions are the
seeds). Either way only the most confident guesses are kept: per class up to
``pseudo_per_class`` of the rows predicted as it (``pseudo_shares = "balanced"``), or the same
total shared out by the model's predicted class shares (``"predicted"``: on imbalanced corpora
a balanced share pulls every prediction towards a uniform prior), or by the mean of the
predicted and the equal share (``"mixed"``). A topic's pseudo-labels should be the confident
core of the rows predicted as it: where some topic's quota would take more than half of them (a
rare topic, or many topics in a small pool), every quota shrinks by the same factor, down to
``pseudo_min_scale``. The guesses live only inside one ``fit``: never stored, never returned.
The settings are the ``pseudo_*`` fields of :class:`~activelabel.model.settings.ModelSettings`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from activelabel.model.prior import TrainingSet
from activelabel.model.settings import ModelSettings

Head = Callable[[np.ndarray], np.ndarray]  # embeddings -> class probabilities


def pool_sample(n_rows: int, limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` of ``range(n_rows)``, a seeded sample in row order."""
    if n_rows <= limit:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=limit, replace=False))


CONFIDENT_CORE = 0.5  # most of the rows predicted as a class that its quota should take


def quotas(
    predicted: np.ndarray, n_classes: int, per_class: int, shares: str, min_scale: float = 1.0
) -> np.ndarray:
    """How many pseudo-labels each class gets, from the pool's predicted classes: the shares'
    quotas, all scaled by one factor (1 at most, ``min_scale`` at least) so that no class's
    quota exceeds ``CONFIDENT_CORE`` of its predicted rows, then capped by those rows."""
    counts = np.bincount(predicted, minlength=n_classes)[:n_classes]
    if shares == "balanced":
        wanted = np.full(n_classes, float(per_class))
    else:
        predicted_share = counts / max(1, counts.sum())
        share = predicted_share if shares == "predicted" else (predicted_share + 1 / n_classes) / 2
        wanted = per_class * n_classes * share
    asked = wanted > 0
    if min_scale < 1 and asked.any():
        room = float(np.min(CONFIDENT_CORE * counts[asked] / wanted[asked]))
        wanted = wanted * min(1.0, max(min_scale, room))
    return np.minimum(np.round(wanted).astype(np.int64), counts)


def most_confident(
    probabilities: np.ndarray, per_class: int, shares: str, min_scale: float = 1.0
) -> np.ndarray:
    """Rows to pseudo-label (their class is the argmax): per class the most confident of the
    rows predicted as it, as many as :func:`quotas` allows. Ties keep row order."""
    n_classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wanted = quotas(predicted, n_classes, per_class, shares, min_scale)
    rows = []
    for c in range(n_classes):
        members = np.flatnonzero(predicted == c)
        order = members[np.argsort(-confidence[members], kind="stable")]
        rows.append(order[: wanted[c]])
    return np.sort(np.concatenate(rows)).astype(np.int64) if rows else np.empty(0, np.int64)


def spread(train: TrainingSet, pool_x: np.ndarray, n_classes: int, neighbours: int = 10):
    """Label spreading on the k-NN graph of ``train.x`` (seeds) and ``pool_x``: probabilities
    for the pool rows."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.semi_supervised import LabelSpreading

    x = np.concatenate([train.x, pool_x])
    y = np.concatenate([train.y, np.full(len(pool_x), -1)])
    model = LabelSpreading(kernel="knn", n_neighbors=min(neighbours, len(x) - 1), alpha=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    distributions = np.nan_to_num(model.label_distributions_[len(train.x) :])
    probabilities = np.zeros((len(pool_x), n_classes))
    probabilities[:, model.classes_[model.classes_ >= 0]] = distributions
    return probabilities


def pseudo_label(
    train: TrainingSet,
    pool_x: np.ndarray,
    fit: Callable[[TrainingSet], Head],
    settings: ModelSettings,
    n_classes: int,
) -> tuple[Head, np.ndarray, np.ndarray]:
    """Fit ``fit`` on ``train`` plus pseudo-labelled pool rows; returns the head, the
    pseudo-labelled rows of ``pool_x`` and their classes (the last pass's)."""
    head = fit(train)
    no_rows = np.empty(0, dtype=np.int64)
    if settings.pseudo_labels == "none" or len(pool_x) == 0:
        return head, no_rows, no_rows
    if settings.pseudo_labels == "spreading":
        rows, classes = _confident_guesses(spread(train, pool_x, n_classes), settings)
        return fit(train.plus(pool_x[rows], classes, settings.pseudo_weight)), rows, classes
    rows, classes = no_rows, no_rows
    for _ in range(settings.pseudo_passes):
        rows, classes = _confident_guesses(head(pool_x), settings)
        head = fit(train.plus(pool_x[rows], classes, settings.pseudo_weight))
    return head, rows, classes


def _confident_guesses(
    probabilities: np.ndarray, settings: ModelSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The rows :func:`most_confident` keeps under ``settings``, and their guessed classes."""
    rows = most_confident(
        probabilities, settings.pseudo_per_class, settings.pseudo_shares, settings.pseudo_min_scale
    )
    return rows, probabilities[rows].argmax(axis=1)

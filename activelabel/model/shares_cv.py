"""``pseudo_shares = "cv"``: per fit, the pseudo-label shares that cross-validate best on the
labelled set alone.

Each candidate (``predicted``, ``mixed``, ``balanced``) trains the head on k-1 folds of the
labels (with the topic descriptions and pseudo-labels from the pool, the held-out fold joining
the pool) and is scored on the held-out fold; the best mean accuracy wins, ties going to the
earlier candidate. The test set is never seen. Fewer than two topics with a label in every fold:
``mixed``. The choice depends on the labelled set and the seed alone, so a live round and a
simulation (or a resumed one) with the same labels choose the same shares.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from activelabel.model.prior import TrainingSet, labelled_set, with_topics
from activelabel.model.pseudo_labels import Head, pseudo_label
from activelabel.model.settings import ModelSettings

CANDIDATES = ("mixed", "predicted", "balanced")  # "mixed" first: the choice without folds


@dataclass(frozen=True)
class SharesChoice:
    shares: str
    scores: dict[str, float]  # mean held-out accuracy per candidate; empty: not cross-validated
    folds: int


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` stratified, seeded folds of the labels as (train rows, held-out rows); a topic with
    fewer than ``k`` labels is spread as far as it goes."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # "the least populated class has only n members"
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros(len(y)), y))


def folds_of(y: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds of the labels; none unless at least two classes have a label in every
    fold (so every training fold holds two classes or more)."""
    y = np.asarray(y, dtype=np.int64)
    if k < 2 or len(y) == 0 or (np.bincount(y) >= k).sum() < 2:
        return []
    return stratified_folds(y, k, seed)


def choose_shares(
    x: np.ndarray,
    y: np.ndarray,
    topic_x: np.ndarray | None,
    pool_x: np.ndarray,
    fitter: Callable[[], Callable[[TrainingSet], Head]],
    settings: ModelSettings,
    n_classes: int,
    *,
    balanced: bool,
    topic_weight: float,
    folds: int,
    seed: int,
) -> SharesChoice:
    """The candidate with the best mean held-out accuracy over ``folds`` stratified folds of
    the labelled embeddings ``x`` with classes ``y``."""
    split = folds_of(y, folds, seed)
    if not split:
        return SharesChoice(CANDIDATES[0], {}, 0)
    scores = {}
    for shares in CANDIDATES:
        accuracy = []
        for train_rows, held_out in split:
            train = labelled_set(x[train_rows], y[train_rows], n_classes, balanced)
            if topic_x is not None:
                train = with_topics(train, topic_x, topic_weight)
            pool = np.concatenate([pool_x, x[held_out]]) if len(pool_x) else x[held_out]
            head, _, _ = pseudo_label(
                train, pool, fitter(), replace(settings, pseudo_shares=shares), n_classes
            )
            accuracy.append(float((head(x[held_out]).argmax(axis=1) == y[held_out]).mean()))
        scores[shares] = round(float(np.mean(accuracy)), 4)
    best = max(CANDIDATES, key=lambda s: (scores[s], -CANDIDATES.index(s)))
    return SharesChoice(best, scores, len(split))

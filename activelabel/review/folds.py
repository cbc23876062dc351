"""Out-of-sample class probabilities of every labelled item, by K-fold cross-validation with the
round's own learner (topic descriptions, pseudo-labels and all): each label is judged by a
model that never saw it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from activelabel.engine.training import Trainer
from activelabel.errors import ActiveLabelError

DEFAULT_FOLDS = 5


class TooFewLabels(ActiveLabelError):
    """The labels cannot be split into K folds."""


def check_folds(y: np.ndarray, class_names: Sequence[str], folds: int) -> None:
    """Refuse, in one line saying what is needed, labels too few for ``folds``-fold
    cross-validation: at least ``folds`` labels of one topic (a stratified split spreads each
    topic over the folds), and labels of at least two topics."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(class_names))
    topics = int((counts > 0).sum())
    most = int(counts.max()) if len(counts) else 0
    if topics >= 2 and most >= folds:
        return
    if not len(y):
        have = "there are no labels yet"
    else:
        have = (
            f"{len(y)} labels of {topics} topic(s), the most of one topic "
            f"('{class_names[int(counts.argmax())]}') {most}"
        )
    fewer = f", or use --folds {most}" if topics >= 2 and most >= 2 else ""
    raise TooFewLabels(
        f"review needs labels of at least 2 topics and at least {folds} labels of one topic "
        f"for {folds}-fold cross-validation; the workspace has {have}: label more "
        f"headlines first{fewer}"
    )


def fold_of(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """The fold (0..folds-1) of every label: stratified by topic, seeded."""
    from activelabel.model.shares_cv import stratified_folds

    assignment = np.zeros(len(y), dtype=np.int64)
    for k, (_, held) in enumerate(stratified_folds(y, folds, seed)):
        assignment[held] = k
    return assignment


def out_of_sample(
    trainer: Trainer,
    texts: Sequence[str],
    y: np.ndarray,
    unlabelled: Sequence[str],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
) -> np.ndarray:
    """``(n, n_classes)`` probabilities: row ``i`` from the model trained on the other folds
    (with ``unlabelled`` as its unlabelled set, as in a round)."""
    y = np.asarray(y, dtype=np.int64)
    n_classes = trainer.classifier.n_classes
    names = [str(c) for c in range(n_classes)]
    check_folds(y, names, folds)
    fold = fold_of(y, folds, seed)
    out = np.zeros((len(y), n_classes), dtype=np.float64)
    texts = list(texts)
    for k in range(folds):
        held = np.flatnonzero(fold == k)
        train = np.flatnonzero(fold != k)
        model = trainer.fit_separate(
            [texts[i] for i in train], y[train], unlabelled, f"fold {k + 1}/{folds}"
        )
        out[held] = model.predict([texts[i] for i in held], embeddings=False).probabilities
    return out

"""Calibrated confidences: temperature scaling fitted on held-out folds of the labels.

A model's top probability is what the labelling page shows as "N % sure". Temperature scaling
divides the log-probabilities by one number T (fitted to minimise the log-loss of held-out
predictions) and renormalises: the guess (the arg max) never changes, only how sure it says it
is. The held-out predictions come from k models, each trained on k-1 folds of the labels and
predicting the fold it did not see, so the test set is never used.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from activelabel.model.base import TextClassifier

__all__ = [
    "MIN_LABELS",
    "expected_calibration_error",
    "fit_temperature",
    "scaled",
    "held_out_probabilities",
    "fit_calibration",
]

#: fewer labels than this: no temperature (the folds would be too small to say anything)
MIN_LABELS = 20
#: the temperature is searched in [1/BOUND, BOUND]
BOUND = 20.0
_EPS = 1e-12


def expected_calibration_error(probabilities: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error: the gap between confidence (top probability) and accuracy,
    averaged over ``bins`` equal-width confidence bins weighted by their share of rows."""
    p = np.asarray(probabilities, dtype=float)
    if len(p) == 0:
        return 0.0
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(y)).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        rows = which == b
        if rows.any():
            error += rows.mean() * abs(confidence[rows].mean() - correct[rows].mean())
    return float(error)


def scaled(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``probabilities`` with their log divided by ``temperature``, renormalised per row."""
    p = np.asarray(probabilities, dtype=float)
    if temperature == 1.0 or len(p) == 0:
        return p
    logits = np.log(np.clip(p, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _log_loss(probabilities: np.ndarray, y: np.ndarray, temperature: float) -> float:
    p = scaled(probabilities, temperature)
    return float(-np.log(np.clip(p[np.arange(len(y)), y], _EPS, 1.0)).mean())


def fit_temperature(probabilities: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the log-loss of ``probabilities`` against ``y``."""
    from scipy.optimize import minimize_scalar

    y = np.asarray(y, dtype=np.int64)
    if len(y) == 0:
        return 1.0
    found = minimize_scalar(
        lambda log_t: _log_loss(probabilities, y, float(np.exp(log_t))),
        bounds=(-np.log(BOUND), np.log(BOUND)),
        method="bounded",
        options={"xatol": 1e-3},
    )
    return round(float(np.exp(found.x)), 4)


def held_out_probabilities(
    classifier: TextClassifier,
    texts: Sequence[str],
    y: np.ndarray,
    unlabelled: Sequence[str] = (),
    folds: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Out-of-fold probabilities of the labelled ``texts`` (rows in fold order) and their
    classes, from models of ``classifier``'s kind; None when the labels are too few to fold."""
    from activelabel.model.shares_cv import folds_of

    y = np.asarray(y, dtype=np.int64)
    if len(y) < MIN_LABELS:
        return None
    split = folds_of(y, folds, seed)
    if not split:
        return None
    probabilities, classes = [], []
    for train_rows, held_out in split:
        model = classifier.sibling()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(
                [texts[i] for i in train_rows],
                y[train_rows],
                unlabelled=[*unlabelled, *(texts[i] for i in held_out)],
            )
        held = model.predict([texts[i] for i in held_out], embeddings=False).probabilities
        probabilities.append(held)
        classes.append(y[held_out])
    return np.concatenate(probabilities), np.concatenate(classes)


def fit_calibration(
    classifier: TextClassifier,
    texts: Sequence[str],
    y: np.ndarray,
    unlabelled: Sequence[str] = (),
    folds: int = 5,
    seed: int = 0,
) -> dict | None:
    """The temperature for ``classifier`` trained on ``texts``, with the held-out calibration
    error before and after it (JSON-ready), or None with too few labels."""
    held = held_out_probabilities(classifier, texts, y, unlabelled, folds, seed)
    if held is None:
        return None
    probabilities, classes = held
    temperature = fit_temperature(probabilities, classes)
    return {
        "temperature": temperature,
        "folds": folds,
        "ece_before": round(expected_calibration_error(probabilities, classes), 4),
        "ece_after": round(
            expected_calibration_error(scaled(probabilities, temperature), classes), 4
        ),
    }

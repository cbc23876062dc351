"""Ranking labels by how likely they are wrong, from out-of-sample class probabilities.

The ranking is cleanlab's (:func:`cleanlab.rank.get_label_quality_scores`), and the flags are
the labels cleanlab's confident learning finds to be issues
(:func:`cleanlab.filter.find_label_issues`). ``self_confidence`` (the probability the model
gives the label it has) is the plain baseline it is measured against.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
DEFAULT_METHOD = "self_confidence"  # chosen on BBC (benchmarks/README.md, label review)


@dataclass(frozen=True)
class Ranking:
    """Labels in order of suspicion (most suspect first), with cleanlab's scores and flags."""

    order: np.ndarray  # row indices, lowest quality score first
    scores: np.ndarray  # per row: label quality in [0, 1], low = likely wrong
    flagged: np.ndarray  # per row: whether confident learning calls the label an issue


def label_quality(labels: np.ndarray, probabilities: np.ndarray, method: str) -> np.ndarray:
    """cleanlab's label quality score of every row under ``method`` (see :data:`METHODS`)."""
    from cleanlab.rank import get_label_quality_scores

    if method not in METHODS:
        raise ValueError(f"unknown ranking method {method!r}; one of {', '.join(METHODS)}")
    return get_label_quality_scores(
        np.asarray(labels, dtype=np.int64), _probabilities(probabilities), method=method
    )


def rank_labels(
    labels: np.ndarray, probabilities: np.ndarray, method: str = DEFAULT_METHOD
) -> Ranking:
    """The labels ranked by cleanlab's quality score (ties: row order) and cleanlab's flags."""
    from cleanlab.filter import find_label_issues

    labels = np.asarray(labels, dtype=np.int64)
    probabilities = _probabilities(probabilities)
    scores = label_quality(labels, probabilities, method)
    with warnings.catch_warnings():  # cleanlab warns about classes with few labels
        warnings.simplefilter("ignore")
        flagged = find_label_issues(labels, probabilities, n_jobs=1)
    order = np.argsort(scores, kind="stable")
    return Ranking(order, scores, np.asarray(flagged, dtype=bool))


def self_confidence_order(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The baseline: rows by the probability of their own label, lowest first."""
    labels = np.asarray(labels, dtype=np.int64)
    own = np.asarray(probabilities)[np.arange(len(labels)), labels]
    return np.argsort(own, kind="stable")


def _probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Rows that sum to one, no exact zeros (cleanlab takes logs and ratios)."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-9, None)
    return p / p.sum(axis=1, keepdims=True)

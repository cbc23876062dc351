"""Label review: out-of-sample probabilities by K-fold with the round's learner, cleanlab's
ranking of the labels, and review tasks whose answers confirm or supersede a label.

The names below load on first use: the command line reads the ranking methods from ``methods``
without loading the learners behind ``folds``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from activelabel.lazy import lazy_attributes

_WHERE = {
    "DEFAULT_FOLDS": "folds",
    "DEFAULT_METHOD": "methods",
    "METHODS": "methods",
    "Ranking": "rank",
    "TooFewLabels": "folds",
    "check_folds": "folds",
    "out_of_sample": "folds",
    "rank_labels": "rank",
    "self_confidence_order": "rank",
}

__all__ = [
    "DEFAULT_FOLDS",
    "DEFAULT_METHOD",
    "METHODS",
    "Ranking",
    "TooFewLabels",
    "check_folds",
    "out_of_sample",
    "rank_labels",
    "self_confidence_order",
]

if TYPE_CHECKING:
    from activelabel.review.folds import DEFAULT_FOLDS, TooFewLabels, check_folds, out_of_sample
    from activelabel.review.methods import DEFAULT_METHOD, METHODS
    from activelabel.review.rank import Ranking, rank_labels, self_confidence_order


__getattr__ = lazy_attributes(__name__, _WHERE)

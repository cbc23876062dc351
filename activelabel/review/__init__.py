"""Label review: out-of-sample probabilities by K-fold with the round's learner, cleanlab's
ranking of the labels, and review tasks whose answers confirm or supersede a label."""

from activelabel.review.folds import DEFAULT_FOLDS, TooFewLabels, check_folds, out_of_sample
from activelabel.review.rank import (
    DEFAULT_METHOD,
    METHODS,
    Ranking,
    rank_labels,
    self_confidence_order,
)

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

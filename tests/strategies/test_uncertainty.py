"""Uncertainty sampling picks the least certain rows, most uncertain first."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.errors import StrategyError
from activelabel.strategies import (
    BreakingTies,
    LeastConfidence,
    PoolView,
    PredictionEntropy,
)

PROBABILITIES = np.array(
    [
        [0.98, 0.01, 0.01],  # sure
        [0.40, 0.35, 0.25],  # unsure by every measure
        [0.70, 0.20, 0.10],
        [0.50, 0.49, 0.01],  # tiny margin, but lower entropy than row 2
        [0.34, 0.33, 0.33],  # the most unsure
    ]
)


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (LeastConfidence(), [4, 1, 3, 2, 0]),
        (PredictionEntropy(), [4, 1, 2, 3, 0]),
        (BreakingTies(), [4, 3, 1, 2, 0]),
    ],
)
def test_most_uncertain_first(strategy, expected: list[int]) -> None:
    picks = strategy.select(PoolView(probabilities=PROBABILITIES), 5, np.random.default_rng(0))
    assert picks.tolist() == expected
    top = strategy.select(PoolView(probabilities=PROBABILITIES), 2, np.random.default_rng(0))
    assert top.tolist() == expected[:2]


def test_ties_break_by_the_seed_not_by_position() -> None:
    pool = PoolView(probabilities=np.full((50, 4), 0.25))
    orders = {tuple(BreakingTies().select(pool, 50, np.random.default_rng(s))) for s in range(3)}
    assert len(orders) == 3


def test_missing_probabilities_is_a_clear_error() -> None:
    with pytest.raises(StrategyError, match="probabilities"):
        LeastConfidence().select(PoolView(embeddings=np.ones((3, 2))), 1, np.random.default_rng())


def test_scores_agree_with_small_text() -> None:
    from small_text.query_strategies import BreakingTies as StBreakingTies
    from small_text.query_strategies import LeastConfidence as StLeastConfidence
    from small_text.query_strategies import PredictionEntropy as StPredictionEntropy

    from activelabel.strategies.coreset import IndexDataset, PrecomputedClassifier

    probabilities = np.random.default_rng(0).dirichlet(np.ones(6), size=40)
    clf, rows = PrecomputedClassifier(np.zeros((40, 1)), probabilities), np.arange(40)
    for ours, theirs in [
        (LeastConfidence(), StLeastConfidence()),
        (PredictionEntropy(), StPredictionEntropy()),
        (BreakingTies(), StBreakingTies()),
    ]:
        # small-text: lower score = query first; ours: higher uncertainty = query first
        reference = theirs.score(clf, IndexDataset(rows), rows, rows[:0], rows[:0])
        np.testing.assert_allclose(ours.uncertainty(probabilities), -reference, atol=1e-12)

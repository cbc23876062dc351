"""Test-set metrics are scikit-learn's, computed without its per-call overhead."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss

from activelabel.evaluation import evaluate


@st.composite
def predictions(draw):
    n_classes = draw(st.integers(2, 6))
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, n_classes)) * draw(st.floats(0.1, 5))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    gold = rng.integers(0, n_classes, size=n)
    return probabilities, gold, n_classes


@settings(max_examples=60, deadline=None)
@given(predictions())
def test_metrics_equal_scikit_learn(case):
    probabilities, gold, k = case
    result = evaluate(probabilities, gold, k)
    predicted = probabilities.argmax(axis=1)
    present = np.unique(gold)
    assert np.isclose(result.accuracy, accuracy_score(gold, predicted))
    # macro-F1 over the classes the test set has (a class absent from it has no F1)
    expected_f1 = f1_score(gold, predicted, labels=present, average="macro", zero_division=0)
    assert np.isclose(result.macro_f1, expected_f1)
    assert np.isclose(result.eval_loss, log_loss(gold, probabilities, labels=list(range(k))))
    assert result.confusion == confusion_matrix(gold, predicted, labels=list(range(k))).tolist()
    assert result.per_class_total == np.bincount(gold, minlength=k).tolist()

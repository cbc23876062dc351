"""The real all-MiniLM-L6-v2 on a slice of the built-in BBC headlines: far above chance."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.corpus import load_corpus
from activelabel.corpus.split import stratified_split
from activelabel.evaluation import evaluate
from activelabel.model import FineTunedClassifier, ModelSettings, resolve_model

pytestmark = pytest.mark.minilm


@pytest.fixture(scope="module")
def bbc_slice():
    corpus = load_corpus("bbc")
    names = sorted(set(corpus.labels))
    rows = stratified_split(corpus.labels, 400, seed=0)
    texts = [corpus.texts[i] for i in rows]
    y = np.array([names.index(corpus.labels[i]) for i in rows])
    return texts[::2], y[::2], texts[1::2], y[1::2], len(names)  # 200 train, 200 test


def test_fine_tuned_minilm_is_far_above_chance(bbc_slice):
    train_texts, train_y, test_texts, test_y, n_classes = bbc_slice
    settings = ModelSettings(resolve_model("default"), epochs=3, min_steps=30)
    classifier = FineTunedClassifier(n_classes, settings, seed=0)
    classifier.prepare(train_texts + test_texts)
    untrained = evaluate(classifier.predict(test_texts).probabilities, test_y, n_classes)
    classifier.fit(train_texts, train_y)
    trained = evaluate(classifier.predict(test_texts).probabilities, test_y, n_classes)
    assert untrained.accuracy < 0.4  # chance is 0.2
    assert trained.accuracy > 0.6 and trained.accuracy > untrained.accuracy + 0.3
    assert classifier.tokens.max_length < 32  # fitted to headlines, not padded to 32

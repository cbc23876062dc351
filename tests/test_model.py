"""Fine-tuning and prediction on a tiny random BERT; evaluation metrics."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.errors import ConfigError
from activelabel.evaluation import evaluate
from activelabel.model import (
    FineTunedClassifier,
    FrozenClassifier,
    ModelSettings,
    class_weights,
    resolve_model,
)

TEXTS = [f"goal match {i}" for i in range(12)] + [f"vote minister {i}" for i in range(12)]
Y = np.array([0] * 12 + [1] * 12)


def settings(path: str, **kw) -> ModelSettings:
    defaults = {"epochs": 3, "min_steps": 30, "learning_rate": 1e-3, "batch_size": 8}
    return ModelSettings(model_path=path, **{**defaults, **kw})


def test_finetune_learns_a_separable_toy_task(tiny_model):
    classifier = FineTunedClassifier(2, settings(tiny_model), seed=0)
    classifier.prepare(TEXTS)
    seen = []
    classifier.fit(TEXTS, Y, progress=seen.append)
    prediction = classifier.predict(TEXTS)
    assert prediction.probabilities.shape == (24, 2)
    assert np.allclose(prediction.probabilities.sum(axis=1), 1, atol=1e-5)
    assert prediction.embeddings.shape == (24, 64)
    assert np.allclose(np.linalg.norm(prediction.embeddings, axis=1), 1, atol=1e-4)
    assert (prediction.probabilities.argmax(1) == Y).mean() == 1.0
    assert sum(seen) == classifier.planned_steps(24)[0] * 24


def test_min_steps_guard_trains_tiny_sets_longer(tiny_model):
    classifier = FineTunedClassifier(2, settings(tiny_model, epochs=6, min_steps=60, batch_size=16))
    assert classifier.planned_steps(120) == (8, 64)  # 8 steps per epoch: 8 epochs, not 6
    assert classifier.planned_steps(1000) == (6, 378)


def test_fit_starts_from_pretrained_weights_every_time(tiny_model):
    classifier = FineTunedClassifier(2, settings(tiny_model), seed=0)
    before = classifier.predict(TEXTS).probabilities
    classifier.fit(TEXTS, Y)
    classifier.fit([], np.array([], dtype=np.int64))  # no labels: back to the untrained model
    assert np.allclose(classifier.predict(TEXTS).probabilities, before, atol=1e-6)


def test_same_seed_same_model(tiny_model):
    runs = []
    for _ in range(2):
        classifier = FineTunedClassifier(2, settings(tiny_model, min_steps=4), seed=7)
        classifier.fit(TEXTS, Y)
        runs.append(classifier.predict(TEXTS).probabilities)
    assert np.allclose(runs[0], runs[1], atol=1e-5)


def test_frozen_mode_trains_a_head_and_covers_unseen_classes(tiny_model):
    classifier = FrozenClassifier(3, settings(tiny_model))
    untrained = classifier.predict(TEXTS).probabilities
    assert untrained.shape == (24, 3)
    classifier.fit(TEXTS, Y)
    probabilities = classifier.predict(TEXTS).probabilities
    assert probabilities.shape == (24, 3) and probabilities[:, 2].max() < 1e-3
    assert (probabilities.argmax(1) == Y).mean() > 0.9
    classifier.fit(TEXTS[:3], Y[:3])  # a single class: predict it
    assert (classifier.predict(TEXTS).probabilities.argmax(1) == 0).all()


def test_class_weights_balance_present_classes():
    assert class_weights(np.array([0, 0, 0, 1]), 3).tolist() == pytest.approx([2 / 3, 2.0, 0.0])


def test_evaluate_scores_and_confusion():
    probabilities = np.array([[0.9, 0.1, 0], [0.2, 0.8, 0], [0.6, 0.4, 0], [0.1, 0.9, 0]])
    result = evaluate(probabilities, np.array([0, 1, 1, 1]), 3)
    assert result.accuracy == 0.75
    assert result.per_class_correct == [1, 2, 0] and result.per_class_total == [1, 3, 0]
    assert result.confusion == [[1, 0, 0], [1, 2, 0], [0, 0, 0]]
    assert result.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert result.eval_loss == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.4, 0.9])))


def test_model_folder_must_be_a_model(tmp_path):
    with pytest.raises(ConfigError, match="is not a model folder"):
        resolve_model(str(tmp_path))
    assert resolve_model("default").endswith("model")

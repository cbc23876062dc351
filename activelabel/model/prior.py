"""Topic descriptions as a prior for the frozen head.

Each class description ("name: keywords") is embedded by the same encoder as the headlines and
added to the training set as one example of its class with weight ``topic_weight``. With no
labels the model is the zero-shot model (softmax of the cosine similarities to the
descriptions); with few labels the descriptions still hold the head near it; with many labels
they weigh little next to the labelled examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activelabel.model.base import class_weights
from activelabel.strategies.cold_start import zero_shot_probabilities

ZERO_SHOT_TEMPERATURE = 0.05


@dataclass(frozen=True)
class TrainingSet:
    """Embeddings, classes and per-example weights the head is fitted on."""

    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray

    def plus(self, x: np.ndarray, y: np.ndarray, weight: float) -> TrainingSet:
        return TrainingSet(
            np.concatenate([self.x, x]),
            np.concatenate([self.y, np.asarray(y, dtype=np.int64)]),
            np.concatenate([self.weights, np.full(len(x), float(weight))]),
        )


def labelled_set(x: np.ndarray, y: np.ndarray, n_classes: int, balanced: bool) -> TrainingSet:
    """The labelled examples, weighted n / (k * count) per class when ``balanced``."""
    y = np.asarray(y, dtype=np.int64)
    weights = class_weights(y, n_classes)[y] if balanced and len(y) else np.ones(len(y))
    return TrainingSet(np.asarray(x, dtype=np.float64), y, weights)


def with_topics(train: TrainingSet, topic_x: np.ndarray, weight: float) -> TrainingSet:
    """``train`` plus one example per class (its description), each weighing ``weight``."""
    if weight <= 0 or len(topic_x) == 0:
        return train
    return train.plus(np.asarray(topic_x, dtype=np.float64), np.arange(len(topic_x)), weight)


def zero_shot(x: np.ndarray, topic_x: np.ndarray) -> np.ndarray:
    """The model before any label: class probabilities from description similarity."""
    return zero_shot_probabilities(x, topic_x, ZERO_SHOT_TEMPERATURE)

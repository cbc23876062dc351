"""Topic descriptions as a prior for the frozen head.

Each class gets one vector from its description: the mean of its keywords' embeddings, each
keyword embedded on its own by the same encoder as the headlines (``topic_vectors =
"keywords"``; a topic without keywords, or ``"prompt"``, embeds "name: keywords" or "name:
description" as one text). A mean of short phrases lands nearer the headlines of a topic than
one long text that starts with the topic's name: zero-shot accuracy rises from 68 to 76 % on
BBC headlines and from 69 to 76 % on the Reuters titles (benchmarks/README.md). The vector is
added to the training set as one example of its class with weight ``topic_weight``. With no
labels the model is the zero-shot model (softmax of the cosine similarities to the
descriptions); with few labels the descriptions still hold the head near it; with many labels
they weigh little next to the labelled examples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from activelabel.model.base import TopicDescription, class_weights
from activelabel.model.names import TOPIC_VECTORS
from activelabel.strategies._common import unit_rows
from activelabel.strategies.cold_start import zero_shot_probabilities

if TYPE_CHECKING:
    from activelabel.corpus.taxonomy import Topic


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


def with_topics(train: TrainingSet, topic_x: np.ndarray, weight: float | np.ndarray) -> TrainingSet:
    """``train`` plus one example per class (its description), weighing ``weight`` (one number,
    or one per class)."""
    weights = np.broadcast_to(np.asarray(weight, dtype=np.float64), (len(topic_x),))
    if len(topic_x) == 0 or not (weights > 0).any():
        return train
    keep = np.flatnonzero(weights > 0)
    return TrainingSet(
        np.concatenate([train.x, np.asarray(topic_x, dtype=np.float64)[keep]]),
        np.concatenate([train.y, keep.astype(np.int64)]),
        np.concatenate([train.weights, weights[keep]]),
    )


def kept_topic_weights(
    y: np.ndarray, n_classes: int, weight: float, keep_labels: int
) -> np.ndarray:
    """Per class, the weight of its description: ``weight``, or, while the class has few labels,
    more: ``(labels / classes) * keep_labels / (keep_labels + labels of the class)``. With
    class-balanced weights every labelled class weighs ``labels / classes`` in all, so a
    description keeps about half its class's weight until the class has ``keep_labels`` labels
    of its own, instead of fading as the other classes' labels arrive. ``keep_labels = 0``:
    ``weight`` for every class."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)[:n_classes]
    if keep_labels <= 0:
        return np.full(n_classes, float(weight))
    mass = len(y) / max(1, n_classes)
    return np.maximum(float(weight), mass * keep_labels / (keep_labels + counts))


def zero_shot(x: np.ndarray, topic_x: np.ndarray) -> np.ndarray:
    """The model before any label: class probabilities from description similarity."""
    return zero_shot_probabilities(x, topic_x, ZERO_SHOT_TEMPERATURE)


def topic_descriptions(
    topics: Sequence[Topic], vectors: str = "keywords"
) -> list[TopicDescription]:
    """The taxonomy's topics as class descriptions: the prompt as text; as phrases, the
    keywords (``vectors = "keywords"``, where a topic has them) or the prompt."""
    if vectors not in TOPIC_VECTORS:
        raise ValueError(
            f"topic vectors must be one of {', '.join(TOPIC_VECTORS)}, not {vectors!r}"
        )
    descriptions = []
    for topic in topics:
        phrases = topic.keyword_list if vectors == "keywords" else ()
        descriptions.append(TopicDescription(topic.prompt, phrases or (topic.prompt,)))
    return descriptions


def topic_vectors(
    encode: Callable[[list[str]], np.ndarray], topics: Sequence[TopicDescription]
) -> np.ndarray:
    """One unit vector per topic: the mean of its phrases' unit embeddings under ``encode``."""
    embedded = unit_rows(
        np.asarray(encode([phrase for topic in topics for phrase in topic.phrases]), np.float64)
    )
    means, start = [], 0
    for topic in topics:
        means.append(embedded[start : start + len(topic.phrases)].mean(axis=0))
        start += len(topic.phrases)
    return unit_rows(np.array(means).reshape(len(topics), embedded.shape[1]))

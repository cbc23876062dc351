"""The classifier contract: ``fit`` on labelled texts, ``predict`` any texts.

A classifier is built with the number of classes, the model settings, a seed and, where the
taxonomy has them, one :class:`TopicDescription` per class. ``fit`` may also receive the
unlabelled pool: learners that use it (self-training, label spreading) train on it, the others
ignore it. Nothing a classifier infers about the pool ever becomes a label.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from activelabel.model.encoder import (
    TokenCache,
    fit_max_length,
    load_tokenizer,
    pick_device,
    set_threads,
    with_prefix,
)
from activelabel.model.prediction import Prediction
from activelabel.model.settings import ModelSettings

Progress = Callable[[int], None]  # called with the number of items just processed


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """'Balanced' weights n / (k * count) for the k classes present; absent classes get 0."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class ScaledProgress:
    """Reports ``units`` in total to ``progress`` while ``work`` steps are done, in whole
    numbers: e.g. labelled headlines x epochs, while the training set also holds extra examples."""

    def __init__(self, progress: Progress | None, units: int, work: int):
        self.progress = progress
        self.rate = units / max(work, 1)
        self.done = 0.0
        self.reported = 0

    def __call__(self, steps: int) -> None:
        self.done += steps * self.rate
        if self.progress and int(self.done) > self.reported:
            self.progress(int(self.done) - self.reported)
            self.reported = int(self.done)


@dataclass(frozen=True)
class TopicDescription:
    """A class's description: ``text`` is trained on as one example by the modes that fine-tune
    the encoder; each of ``phrases`` is embedded on its own, and the mean is the class's vector
    for the frozen head and zero-shot scores (:func:`~activelabel.model.prior.topic_vectors`)."""

    text: str
    phrases: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.phrases, str) or not self.phrases:
            raise ValueError(f"topic {self.text!r}: phrases must be a non-empty tuple of texts")

    @classmethod
    def of(cls, topic: str | TopicDescription) -> TopicDescription:
        """``topic`` itself, or a plain text as a description of one phrase."""
        return topic if isinstance(topic, TopicDescription) else cls(topic, (topic,))


TopicsArg = Sequence[str | TopicDescription]  # a classifier's ``topics``: one per class, or none


class TextClassifier(ABC):
    """Fit on labelled texts, predict probabilities and embeddings for any texts."""

    mode: str

    def __init__(
        self,
        n_classes: int,
        settings: ModelSettings,
        seed: int = 0,
        topics: TopicsArg = (),
    ):
        set_threads()
        self.n_classes = n_classes
        self.topics = tuple(map(TopicDescription.of, topics))  # one per class, or empty
        self.settings = settings
        self.seed = seed
        self.device = pick_device(settings.device)
        self.tokenizer = with_prefix(load_tokenizer(settings.model_path), settings.text_prefix)
        self.tokens: TokenCache | None = None
        # what the last ``fit`` trained on and chose, for the round to record (JSON-ready)
        self.training_summary: dict = {}

    def prepare(self, texts: Sequence[str]) -> None:
        """Fix the max length from the corpus (or the settings) and tokenise every text once."""
        max_length = self.settings.max_length or fit_max_length(self.tokenizer, texts)
        self.tokens = TokenCache(self.tokenizer, max_length)
        self.tokens.ids(texts)

    def sibling(self) -> TextClassifier:
        """A new untrained classifier of the same kind that shares the token (and embedding)
        caches, e.g. for the random-arm model of a round."""
        other = type(self)(self.n_classes, self.settings, self.seed, self.topics)
        other.tokens = self.tokens
        return other

    def _token_cache(self, texts: Sequence[str]) -> TokenCache:
        if self.tokens is None:
            self.prepare(texts)
        assert self.tokens is not None
        return self.tokens

    @abstractmethod
    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        progress: Progress | None = None,
        *,
        unlabelled: Sequence[str] = (),
    ) -> None:
        """Train from scratch (pre-trained encoder, new head) on ``texts`` with classes ``y``;
        ``unlabelled`` is the rest of the pool, for learners that use it."""

    @abstractmethod
    def predict(
        self, texts: Sequence[str], progress: Progress | None = None, *, embeddings: bool = True
    ) -> Prediction:
        """Probabilities and sentence embeddings of ``texts``.

        ``embeddings=False`` leaves the embeddings out (an ``(n, 0)`` array): scoring a very
        large pool for an uncertainty strategy then keeps only ``n x n_classes`` floats.
        """

"""``frozen`` mode: the pre-trained encoder's sentence embeddings, computed once per text, and
a class-weighted logistic regression on them (seconds per round)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from activelabel.model.base import Prediction, Progress, TextClassifier, softmax
from activelabel.model.encoder import TokenCache, length_sorted_batches, load_encoder, mean_pool
from activelabel.model.settings import ModelSettings


class FrozenEncoder:
    """Sentence embeddings of the pre-trained encoder, computed once per text."""

    def __init__(self, settings: ModelSettings, tokens: TokenCache, device: torch.device):
        self.settings = settings
        self.tokens = tokens
        self.device = device
        self.model = load_encoder(settings.model_path).to(device).eval()
        self.cache: dict[str, np.ndarray] = {}

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            ids = self.tokens.ids(missing)
            for batch in length_sorted_batches(
                [len(i) for i in ids], self.settings.predict_batch_size
            ):
                inputs = self.tokens.batch([ids[i] for i in batch], self.device)
                hidden = self.model(**inputs)[0]
                pooled = torch.nn.functional.normalize(
                    mean_pool(hidden, inputs["attention_mask"]).float(), dim=-1
                )
                for row, vector in zip(batch, pooled.cpu().numpy(), strict=True):
                    self.cache[missing[row]] = vector
                if progress:
                    progress(len(batch))
        dim = self.model.config.hidden_size
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


class FrozenClassifier(TextClassifier):
    """A class-weighted logistic regression on frozen, cached sentence embeddings."""

    mode = "frozen"

    def __init__(
        self, n_classes: int, settings: ModelSettings, seed: int = 0, topics: Sequence[str] = ()
    ):
        super().__init__(n_classes, settings, seed, topics)
        self._encoder: FrozenEncoder | None = None
        self._untrained_head()

    def sibling(self) -> FrozenClassifier:
        other = super().sibling()
        other._encoder = self._encoder
        return other

    def encoder(self, texts: Sequence[str] = ()) -> FrozenEncoder:
        if self._encoder is None:
            self._encoder = FrozenEncoder(self.settings, self._token_cache(texts), self.device)
        return self._encoder

    def _untrained_head(self) -> None:
        """A randomly initialised linear head, like the fine-tuned model's before training."""
        self.weights: np.ndarray | None = None
        self.bias: np.ndarray | None = None
        self.constant: int | None = None

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        progress: Progress | None = None,
        *,
        unlabelled: Sequence[str] = (),
    ) -> None:
        from sklearn.linear_model import LogisticRegression

        self._untrained_head()
        y = np.asarray(y, dtype=np.int64)
        if len(texts) == 0:
            return
        x = self.encoder(texts).encode(texts, progress)
        present = np.unique(y)
        if len(present) == 1:
            self.constant = int(present[0])
            return
        model = LogisticRegression(
            C=self.settings.regularisation_c,
            class_weight="balanced" if self.settings.class_weight == "balanced" else None,
            max_iter=2000,
        )
        model.fit(x, y)
        self.weights = np.zeros((self.n_classes, x.shape[1]))
        self.bias = np.full(self.n_classes, -1e4)
        if len(present) == 2:  # sklearn keeps one weight vector for a binary problem
            self.weights[present[1]], self.bias[present[1]] = model.coef_[0], model.intercept_[0]
            self.bias[present[0]] = 0.0
        else:
            self.weights[model.classes_], self.bias[model.classes_] = model.coef_, model.intercept_

    def predict(
        self, texts: Sequence[str], progress: Progress | None = None, *, embeddings: bool = True
    ) -> Prediction:
        x = self.encoder(texts).encode(texts, progress)
        if self.constant is not None:
            probabilities = np.full((len(x), self.n_classes), 1e-6)
            probabilities[:, self.constant] = 1.0
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        elif self.weights is None:
            rng = np.random.default_rng(self.seed)
            bound = 1 / math.sqrt(x.shape[1])
            w = rng.uniform(-bound, bound, (self.n_classes, x.shape[1]))
            probabilities = softmax(x @ w.T)
        else:
            probabilities = softmax(x @ self.weights.T + self.bias)
        vectors = x.astype(np.float32) if embeddings else np.zeros((len(x), 0), dtype=np.float32)
        return Prediction(probabilities.astype(np.float32), vectors)


def pretrained_encoder(classifier: TextClassifier) -> FrozenEncoder:
    """The pre-trained (never fine-tuned) encoder of ``classifier``, for cold starts and
    zero-shot scores; the frozen mode's own cached encoder when it has one."""
    if isinstance(classifier, FrozenClassifier):
        return classifier.encoder()
    return FrozenEncoder(classifier.settings, classifier._token_cache(()), classifier.device)

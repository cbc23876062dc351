"""``setfit`` mode: SetFit (the ``setfit`` package) — the sentence encoder fine-tuned
contrastively on pairs of labelled headlines (same topic or not), then a class-weighted
logistic head on its embeddings, with the topic descriptions as weighted examples. Strong
from a few dozen labels, where fine-tuning a classifier end to end is not."""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Sequence

import numpy as np

from activelabel.model.base import (
    Prediction,
    Progress,
    ScaledProgress,
    TextClassifier,
    TopicsArg,
    class_weights,
    softmax,
)
from activelabel.model.settings import ModelSettings


class LogisticHead:
    """A weighted logistic regression over ``n_classes``; classes never seen get no mass."""

    def __init__(self, n_classes: int, c: float, seed: int):
        self.n_classes, self.c, self.seed = n_classes, c, seed
        self.weights: np.ndarray | None = None
        self.bias: np.ndarray | None = None
        self.constant: int | None = None

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        self.weights = self.bias = self.constant = None
        present = np.unique(y)
        if len(present) == 1:
            self.constant = int(present[0])
            return
        model = LogisticRegression(C=self.c, max_iter=2000)
        model.fit(x, y, sample_weight=sample_weight)
        self.weights = np.zeros((self.n_classes, x.shape[1]))
        self.bias = np.full(self.n_classes, -1e4)
        if len(present) == 2:  # sklearn keeps one weight vector for a binary problem
            self.weights[present[1]], self.bias[present[1]] = model.coef_[0], model.intercept_[0]
            self.bias[present[0]] = 0.0
        else:
            self.weights[model.classes_], self.bias[model.classes_] = model.coef_, model.intercept_

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            p = np.full((len(x), self.n_classes), 1e-6)
            p[:, self.constant] = 1.0
            return p / p.sum(axis=1, keepdims=True)
        if self.weights is None:  # untrained: a random linear head
            rng = np.random.default_rng(self.seed)
            bound = 1 / math.sqrt(x.shape[1])
            return softmax(x @ rng.uniform(-bound, bound, (self.n_classes, x.shape[1])).T)
        return softmax(x @ self.weights.T + self.bias)


class SetFitClassifier(TextClassifier):
    """SetFit: contrastive fine-tuning of the sentence encoder, then a logistic head."""

    mode = "setfit"

    def __init__(
        self, n_classes: int, settings: ModelSettings, seed: int = 0, topics: TopicsArg = ()
    ):
        super().__init__(n_classes, settings, seed, topics)
        self.head = LogisticHead(n_classes, settings.regularisation_c, seed)
        self.body = self._fresh_body()

    def _fresh_body(self):
        """The pre-trained encoder as a sentence-transformers model (mean pooling), loaded
        from the local model folder."""
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        try:  # sentence-transformers >= 6
            from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
        except ImportError:
            from sentence_transformers.models import Pooling, Transformer

        hf_logging.disable_progress_bar()
        try:
            transformer = Transformer(self.settings.model_path)
        finally:
            hf_logging.enable_progress_bar()
        pooling = Pooling(transformer.auto_model.config.hidden_size, "mean")
        return SentenceTransformer(modules=[transformer, pooling], device=str(self.device))

    def pairs(self, n_labels: int) -> int:
        """Contrastive pairs trained on for ``n_labels`` labelled headlines."""
        s = self.settings
        return min(2 * s.setfit_iterations * n_labels, s.setfit_max_pairs)

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        progress: Progress | None = None,
        *,
        unlabelled: Sequence[str] = (),
    ) -> None:
        s = self.settings
        y = np.asarray(y, dtype=np.int64)
        texts = list(texts)
        self.body = self._fresh_body()
        if self.tokens is not None or texts:
            self.body.max_seq_length = self._token_cache(texts).max_length
        pairs = self.pairs(len(texts)) if len(np.unique(y)) > 1 else 0  # pairs need two topics
        if pairs:
            self._train_body(texts, y, pairs, ScaledProgress(progress, len(texts), pairs))
        x, weights = self._embed(texts), class_weights(y, self.n_classes)[y]
        if self.topics and s.topic_weight > 0:
            x = np.vstack([x, self._embed([topic.text for topic in self.topics])])
            y = np.concatenate([y, np.arange(self.n_classes)])
            weights = np.concatenate([weights, np.full(self.n_classes, s.topic_weight)])
        if s.class_weight != "balanced":
            weights[: len(texts)] = 1.0
        if len(y):
            self.head.fit(x, y, weights)
        else:
            self.head = LogisticHead(self.n_classes, s.regularisation_c, self.seed)
        self.training_summary = {
            "mode": self.mode,
            "labels": len(texts),
            "pairs": pairs,
            "topic_examples": self.n_classes if self.topics and s.topic_weight > 0 else 0,
        }

    def _train_body(self, texts: list[str], y: np.ndarray, pairs: int, progress) -> None:
        from setfit import SetFitModel, Trainer, TrainingArguments
        from transformers import ProgressCallback, TrainerCallback

        class _Steps(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                progress(args.per_device_train_batch_size)

        batch = self.settings.batch_size
        with tempfile.TemporaryDirectory(prefix="activelabel-setfit-") as scratch:
            args = TrainingArguments(
                output_dir=scratch,
                batch_size=batch,
                num_epochs=1,
                num_iterations=self.settings.setfit_iterations,
                max_steps=math.ceil(pairs / batch),
                body_learning_rate=self.settings.setfit_learning_rate,
                seed=self.seed,
                show_progress_bar=False,
                report_to="none",
                logging_strategy="no",
                logging_first_step=False,
                save_strategy="no",
            )
            model = SetFitModel(model_body=self.body)
            trainer = Trainer(model=model, args=args, callbacks=[_Steps()])
            trainer.st_trainer.remove_callback(ProgressCallback)
            trainer.st_trainer.args.dataloader_pin_memory = False
            quiet = logging.getLogger("setfit")
            level = quiet.level
            quiet.setLevel(logging.WARNING)
            try:
                trainer.train_embeddings(texts, y.tolist())
            finally:
                quiet.setLevel(level)
        self.body.eval()

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            dim = self.body[0].auto_model.config.hidden_size
            return np.zeros((0, dim), dtype=np.float32)
        return self.body.encode(
            texts,
            batch_size=self.settings.predict_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)

    def predict(
        self, texts: Sequence[str], progress: Progress | None = None, *, embeddings: bool = True
    ) -> Prediction:
        texts = list(texts)
        if self.tokens is None and texts:
            self.body.max_seq_length = self._token_cache(texts).max_length
        x = self._embed(texts)
        if progress:
            progress(len(texts))
        vectors = x if embeddings else np.zeros((len(x), 0), dtype=np.float32)
        return Prediction(self.head.probabilities(x).astype(np.float32), vectors)

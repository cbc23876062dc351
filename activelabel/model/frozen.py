"""``frozen`` mode: the pre-trained encoder's sentence embeddings, computed once per text, and
a class-weighted logistic regression on them (seconds per round)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from activelabel.model.base import Prediction, Progress, TextClassifier, TopicsArg, softmax
from activelabel.model.embedding_cache import EmbeddingCache, text_keys
from activelabel.model.encoder import TokenCache, length_sorted_batches, load_encoder, mean_pool
from activelabel.model.prior import (
    TrainingSet,
    kept_topic_weights,
    labelled_set,
    topic_vectors,
    with_topics,
    zero_shot,
)
from activelabel.model.pseudo_labels import pool_sample, pseudo_label
from activelabel.model.settings import ModelSettings
from activelabel.model.shares_cv import choose_shares
from activelabel.strategies._common import unit_rows

CENTRE_SAMPLE = 5000  # most texts whose mean embedding is the centre


class FrozenEncoder:
    """Sentence embeddings of the pre-trained encoder, computed once per text: kept in memory,
    or, when the settings name a ``cache_dir``, on disk for every later round.

    With ``centre_embeddings`` (a preset's convention) every embedding is returned minus the
    centre, the mean embedding of the corpus the classifier was prepared on (a seeded sample of
    at most ``CENTRE_SAMPLE`` texts), and scaled to unit length again. The cache keeps the
    encoder's own vectors."""

    def __init__(self, settings: ModelSettings, tokens: TokenCache, device: torch.device):
        self.settings = settings
        self.tokens = tokens
        self.device = device
        self.model = load_encoder(settings.model_path).eval()  # moved to the device when used
        self._on_device = device.type == "cpu"
        self.cache: dict[str, np.ndarray] = {}
        self.centre: np.ndarray | None = None
        self.disk: EmbeddingCache | None = None
        if settings.cache_dir:
            self.disk = EmbeddingCache.for_model(
                Path(settings.cache_dir),
                self.model,
                settings.model_path,
                tokens.max_length,
                settings.text_prefix,
            )

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        vectors = self._encoded(texts, progress)
        if not self.settings.centre_embeddings or not len(vectors):
            return vectors
        if self.centre is None:
            self.centre = self._corpus_mean(texts)
        return unit_rows(vectors - self.centre).astype(np.float32)

    def _corpus_mean(self, texts: Sequence[str]) -> np.ndarray:
        """The mean embedding of the prepared corpus (of ``texts`` when nothing was prepared)."""
        corpus = self.tokens.texts or list(dict.fromkeys(texts))
        sample = pool_sample(len(corpus), CENTRE_SAMPLE, seed=0)
        return self._encoded([corpus[i] for i in sample], None).mean(axis=0)

    def _encoded(self, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        if self.disk is not None:
            return self._encode_on_disk(texts, progress)
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            self.cache.update(zip(missing, self._compute(missing, progress), strict=True))
        if not texts:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])

    def _encode_on_disk(self, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        assert self.disk is not None
        keys = text_keys(texts)
        vectors, found = self.disk.lookup(keys)
        if progress and found.any():
            progress(int(found.sum()))
        if not found.all():
            todo = np.flatnonzero(~found)
            unique_keys, first, inverse = np.unique(
                keys[todo], return_index=True, return_inverse=True
            )
            computed = self._compute([texts[todo[i]] for i in first], progress, keep=False)
            self.disk.add(unique_keys, computed)
            vectors[todo] = computed[inverse]
        return vectors

    @torch.inference_mode()
    def _compute(
        self, texts: Sequence[str], progress: Progress | None, keep: bool = True
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        if not texts:
            return out
        if not self._on_device:  # once, and never for a round that finds everything cached
            self.model.to(self.device)
            self._on_device = True
        ids = self.tokens.ids(texts, keep=keep)
        for batch in length_sorted_batches([len(i) for i in ids], self.settings.predict_batch_size):
            inputs = self.tokens.batch([ids[i] for i in batch], self.device)
            hidden = self.model(**inputs)[0]
            pooled = torch.nn.functional.normalize(
                mean_pool(hidden, inputs["attention_mask"]).float(), dim=-1
            )
            out[batch] = pooled.cpu().numpy()
            if progress:
                progress(len(batch))
        return out


class FrozenClassifier(TextClassifier):
    """A class-weighted logistic regression on frozen, cached sentence embeddings, trained on
    the labels, the topic descriptions (:mod:`~activelabel.model.prior`) and pseudo-labels
    from the pool (:mod:`~activelabel.model.pseudo_labels`), as the settings say.

    After ``fit``, ``training_summary`` says what the head was trained on.
    """

    mode = "frozen"

    def __init__(
        self, n_classes: int, settings: ModelSettings, seed: int = 0, topics: TopicsArg = ()
    ):
        super().__init__(n_classes, settings, seed, topics)
        self._encoder: FrozenEncoder | None = None
        self._untrained_head()
        self.training_summary: dict = {}

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
        self.zero_shot_topics: np.ndarray | None = None  # the model when there are no labels

    def _uses_topics(self) -> bool:
        return len(self.topics) == self.n_classes and self.settings.topic_weight > 0

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        progress: Progress | None = None,
        *,
        unlabelled: Sequence[str] = (),
    ) -> None:
        self._untrained_head()
        y = np.asarray(y, dtype=np.int64)
        s = self.settings
        encoder = self.encoder([*texts, *unlabelled])
        topic_x = topic_vectors(encoder.encode, self.topics) if self._uses_topics() else None
        summary: dict = {
            "labels": len(y),
            "labels_per_class": np.bincount(y, minlength=self.n_classes).tolist(),
            "topic_examples": 0 if topic_x is None else len(topic_x),
            "topic_weight": s.topic_weight if topic_x is not None else 0.0,
            "pseudo_labels": [0] * self.n_classes,
            "method": "none",
        }
        self.training_summary = summary
        if len(texts) == 0:
            if topic_x is not None:
                self.zero_shot_topics = topic_x
                summary["method"] = "zero-shot"
            return
        x = encoder.encode(texts, progress)
        train = labelled_set(x, y, self.n_classes, s.class_weight == "balanced")
        if topic_x is not None:
            weights = kept_topic_weights(y, self.n_classes, s.topic_weight, s.topic_keep_labels)
            train = with_topics(train, topic_x, weights)
            summary["topic_weights"] = [round(float(w), 2) for w in weights]
        present = np.unique(train.y)
        if len(present) == 1:
            self.constant = int(present[0])
            return
        settings = s
        pool_x = np.zeros((0, train.x.shape[1]))
        if settings.pseudo_labels != "none" and unlabelled:
            sample = pool_sample(len(unlabelled), settings.pseudo_pool, self.seed)
            pool_x = encoder.encode([unlabelled[i] for i in sample]).astype(np.float64)
        if settings.pseudo_shares == "cv" and settings.pseudo_labels != "none":
            shares = self._choose_shares(x, y, topic_x, pool_x, settings, summary)
            settings = replace(settings, pseudo_shares=shares)
        head, _, classes = pseudo_label(
            train, pool_x, self._head_fitter(), settings, self.n_classes
        )
        self.weights = head.weights
        self.bias = self._shifted_bias(head, x, pool_x if len(pool_x) else self._pool(unlabelled))
        summary["pseudo_labels"] = np.bincount(classes, minlength=self.n_classes).tolist()
        summary["method"] = settings.pseudo_labels if len(classes) else "none"
        if len(classes):
            summary["pseudo_shares"] = settings.pseudo_shares

    def _pool(self, unlabelled: Sequence[str]) -> np.ndarray:
        """Embeddings of a seeded sample of the unlabelled pool, where the prior needs them."""
        s = self.settings
        if s.prior == "none" or s.target_shares is None and s.prior != "balanced":
            return np.zeros((0, 0))
        if not unlabelled:
            return np.zeros((0, 0))
        sample = pool_sample(len(unlabelled), s.pseudo_pool, self.seed)
        return self.encoder().encode([unlabelled[i] for i in sample]).astype(np.float64)

    def _shifted_bias(self, head: LinearHead, x: np.ndarray, pool_x: np.ndarray) -> np.ndarray:
        """The head's bias moved from the class mix it predicts on the pool (labelled and
        unlabelled rows alike) towards the settings' ``prior`` (label shift): ``lift`` raises
        every class predicted less often than the test set holds it to the test set's share and
        lowers none, ``test`` moves every class to the test set's mix, ``balanced`` to even
        classes. Without a test set ``lift`` and ``test`` leave the bias; classes the head never
        saw stay as they are."""
        s = self.settings
        bias = np.asarray(head.bias, dtype=np.float64).copy()
        if s.prior == "none" or (s.prior in ("test", "lift") and s.target_shares is None):
            return bias
        target = np.full(self.n_classes, 1.0 / self.n_classes)
        if s.prior in ("test", "lift"):
            target = np.asarray(s.target_shares, dtype=np.float64)
        rows = np.asarray(x, dtype=np.float64)
        if len(pool_x):
            rows = np.concatenate([rows, pool_x])
        predicted = predicted_mix(head(rows), s.prior_estimate)
        ok = (predicted > 0) & (target > 0) & (bias > -1e3)
        shift = np.log(target[ok] / target[ok].sum()) - np.log(predicted[ok] / predicted[ok].sum())
        bias[ok] += np.maximum(shift, 0.0) if s.prior == "lift" else shift
        self.training_summary["prior"] = s.prior
        return bias

    def _choose_shares(
        self,
        x: np.ndarray,
        y: np.ndarray,
        topic_x,
        pool_x: np.ndarray,
        settings: ModelSettings,
        summary: dict,
    ) -> str:
        """``pseudo_shares = "cv"``: the shares chosen by cross-validation on the labels
        (:mod:`~activelabel.model.shares_cv`), recorded in ``summary["shares_cv"]``."""
        s = self.settings
        choice = choose_shares(
            np.asarray(x, dtype=np.float64),
            y,
            topic_x,
            pool_x,
            self._head_fitter,
            settings,
            self.n_classes,
            balanced=s.class_weight == "balanced",
            topic_weight=s.topic_weight,
            folds=s.auto_folds,
            seed=self.seed,
        )
        summary["shares_cv"] = {"scores": choice.scores, "folds": choice.folds}
        return choice.shares

    def _head_fitter(self) -> Callable[[TrainingSet], LinearHead]:
        """Fits a logistic head; successive fits (self-training passes) start from the last
        solution, which takes fewer iterations to the same optimum."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=self.settings.regularisation_c, max_iter=2000, warm_start=True)

        def fit(train: TrainingSet) -> LinearHead:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1), warnings.catch_warnings():
                # threads slow a head this small down (~8x measured); many topics with few
                # examples each are a classification problem all the same
                warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
                model.fit(train.x, train.y, sample_weight=train.weights)
            weights = np.zeros((self.n_classes, train.x.shape[1]))
            bias = np.full(self.n_classes, -1e4)
            classes = model.classes_
            if len(classes) == 2:  # sklearn keeps one weight vector for a binary problem
                weights[classes[1]], bias[classes[1]] = model.coef_[0], model.intercept_[0]
                bias[classes[0]] = 0.0
            else:
                weights[classes], bias[classes] = model.coef_, model.intercept_
            return LinearHead(weights, bias)

        return fit

    def predict(
        self, texts: Sequence[str], progress: Progress | None = None, *, embeddings: bool = True
    ) -> Prediction:
        x = self.encoder(texts).encode(texts, progress)
        if self.constant is not None:
            probabilities = np.full((len(x), self.n_classes), 1e-6)
            probabilities[:, self.constant] = 1.0
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        elif self.weights is not None and self.bias is not None:
            probabilities = LinearHead(self.weights, self.bias)(x)
        elif self.zero_shot_topics is not None:
            probabilities = zero_shot(x, self.zero_shot_topics)
        else:
            rng = np.random.default_rng(self.seed)
            bound = 1 / math.sqrt(x.shape[1])
            w = rng.uniform(-bound, bound, (self.n_classes, x.shape[1]))
            probabilities = softmax(x @ w.T)
        vectors = x.astype(np.float32) if embeddings else np.zeros((len(x), 0), dtype=np.float32)
        return Prediction(probabilities.astype(np.float32), vectors)


def predicted_mix(probabilities: np.ndarray, estimate: str) -> np.ndarray:
    """The class mix ``probabilities`` predict: their mean (``probabilities``), the
    add-one-smoothed share of rows whose likeliest class each class is (``decisions``), or the
    two's geometric mean, renormalised (``geometric``)."""
    mean = probabilities.mean(axis=0)
    if estimate == "probabilities":
        return mean
    n_classes = probabilities.shape[1]
    counts = np.bincount(probabilities.argmax(axis=1), minlength=n_classes) + 1.0
    decided = counts / counts.sum()
    if estimate == "decisions":
        return decided
    both = np.sqrt(mean * decided)
    return both / both.sum()


@dataclass(frozen=True)
class LinearHead:
    """Softmax of ``x @ weights.T + bias``."""

    weights: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return softmax(np.asarray(x, dtype=np.float64) @ self.weights.T + self.bias)


def pretrained_encoder(classifier: TextClassifier) -> FrozenEncoder:
    """The pre-trained (never fine-tuned) encoder of ``classifier``, for cold starts and
    zero-shot scores; the frozen mode's own cached encoder when it has one."""
    if isinstance(classifier, FrozenClassifier):
        return classifier.encoder()
    encoder = getattr(classifier, "_pretrained_encoder", None)
    if encoder is None:  # loaded once per classifier, not once per use
        encoder = FrozenEncoder(classifier.settings, classifier._token_cache(()), classifier.device)
        classifier._pretrained_encoder = encoder
    return encoder

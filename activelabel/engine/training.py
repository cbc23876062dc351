"""Training a classifier from scratch on a labelled set, with the pool as unlabelled data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from activelabel.engine.data import StreamedPool
from activelabel.evaluation import Evaluation, evaluate
from activelabel.faults import checkpoint
from activelabel.model import TextClassifier, make_classifier, resolve_model, topic_descriptions
from activelabel.progress import Phase, silent
from activelabel.workspace import Workspace


class Trainer:
    """Builds the workspace's classifier once (tokeniser, token and embedding caches) and
    trains it from the pre-trained weights on any labelled set.

    ``fit`` retrains the one classifier; ``fit_separate`` trains another model that shares the
    caches (e.g. the random arm's), leaving the first one as it was.
    """

    def __init__(self, classifier: TextClassifier, phase: Phase = silent):
        self.classifier = classifier
        self.phase = phase

    @classmethod
    def for_workspace(
        cls,
        ws: Workspace,
        texts: Sequence[str],
        *,
        mode: str | None = None,
        seed: int | None = None,
        phase: Phase = silent,
        overrides: Mapping[str, object] | None = None,
    ) -> Trainer:
        """The classifier of the workspace's model and mode (or ``mode``), prepared on
        ``texts`` (every text it will see: pool and test); ``overrides`` replace model
        settings (e.g. the plain learner's, :mod:`activelabel.learner_variants`)."""
        config = ws.config
        settings = replace(
            config.model_settings(resolve_model(config.model.name)),
            cache_dir=str(ws.cache_dir),  # pre-trained embeddings are computed once per text
            **(overrides or {}),
        )
        if settings.prior in ("test", "lift"):
            settings = replace(settings, target_shares=test_shares(ws))
        classifier = make_classifier(
            mode or config.model.mode,
            len(ws.class_names),
            settings,
            config.loop.seed if seed is None else seed,
            topic_descriptions(ws.taxonomy.topics, settings.topic_vectors),
        )
        classifier.prepare(texts)
        return cls(classifier, phase)

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        unlabelled: Sequence[str] = (),
        *,
        seed: int | None = None,
        what: str = "train",
    ) -> TextClassifier:
        """Train the classifier from scratch on ``texts`` with classes ``y``."""
        if seed is not None:
            self.classifier.seed = seed
        self._fit(self.classifier, texts, y, unlabelled, what)
        return self.classifier

    def fit_separate(
        self, texts: Sequence[str], y: np.ndarray, unlabelled: Sequence[str] = (), what: str = ""
    ) -> TextClassifier:
        other = self.classifier.sibling()
        self._fit(other, texts, y, unlabelled, what or "train")
        return other

    def _fit(
        self,
        classifier: TextClassifier,
        texts: Sequence[str],
        y: np.ndarray,
        unlabelled: Sequence[str],
        what: str,
    ) -> None:
        advance = (
            self.phase(f"{what} on {len(texts)} labels", _training_total(classifier, texts))
            if len(texts)
            else (lambda n: None)
        )

        def progress(n: int) -> None:
            checkpoint("train")
            advance(n)

        classifier.fit(
            list(texts), np.asarray(y, dtype=np.int64), progress, unlabelled=list(unlabelled)
        )

    def evaluate(
        self, classifier: TextClassifier, texts: Sequence[str], gold: np.ndarray
    ) -> Evaluation | None:
        """Scores on a test set, or None without one."""
        if not len(texts):
            return None
        predicted = classifier.predict(
            list(texts), self.phase("evaluate", len(texts)), embeddings=False
        )
        return evaluate(predicted.probabilities, gold, classifier.n_classes)


def test_shares(ws: Workspace) -> tuple[float, ...] | None:
    """Each class's share of the labelled test set (None without a test set)."""
    test = ws.store.items("test")
    if not test:
        return None
    index = {name: i for i, name in enumerate(ws.class_names)}
    counts = np.bincount([index[i.gold] for i in test if i.gold in index], minlength=len(index))
    return tuple(float(c) for c in counts / max(1, counts.sum()))


def _training_total(classifier: TextClassifier, texts: Sequence[str]) -> int:
    planned = getattr(classifier, "planned_steps", None)
    if planned is None:
        return len(texts)
    epochs, _ = planned(len(texts))
    return epochs * len(texts)


def trained_on(classifier: TextClassifier, n_labels: int) -> dict:
    """What the model learned from, as recorded with a round: its labels, plus whatever the
    learner reports (topic descriptions, pseudo-labels, the mode ``auto`` chose)."""
    summary = dict(getattr(classifier, "training_summary", None) or {})
    summary["labels"] = n_labels
    summary.setdefault("mode", classifier.mode)
    return summary


def informed(classifier: TextClassifier, n_labels: int) -> bool:
    """Whether the model's predictions mean anything: it has labels or a topic prior."""
    summary = getattr(classifier, "training_summary", None) or {}
    return n_labels > 0 or bool(summary.get("topic_examples"))


def train_on_workspace(ws: Workspace, phase: Phase = silent) -> tuple[TextClassifier, StreamedPool]:
    """The workspace's classifier trained on every current label, as the next round would train
    it (the pool streamed; a learner's unlabelled texts sampled with that round's seed), and the
    data it was trained on."""
    data = StreamedPool.from_workspace(ws)
    trainer = Trainer.for_workspace(ws, data.sample_texts(), phase=phase)
    rng = np.random.default_rng([ws.config.loop.seed, ws.store.next_round(), 5])
    classifier = trainer.fit(data.labelled_texts, data.y, data.unlabelled_texts(rng))
    return classifier, data

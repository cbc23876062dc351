"""``auto`` mode: per fit, the mode that cross-validates best on the labelled set alone.

Candidates follow what was measured on news headlines: the frozen head always (cheap, strong
from a few hundred labels), SetFit while labels are few, end-to-end fine-tuning only from the
label count where it can win; between those counts nothing is cross-validated. Every fit
decides afresh from its labelled set and seed alone, so a live round and a simulation with the
same labels choose the same mode. The test set is never seen: ``fit`` gets the labelled
headlines and the unlabelled pool only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from activelabel.model.base import Prediction, Progress, ScaledProgress, TextClassifier, TopicsArg
from activelabel.model.settings import ModelSettings
from activelabel.model.shares_cv import folds_of


class AutoClassifier(TextClassifier):
    """Chooses frozen, setfit or finetune by k-fold cross-validation, then trains it on all."""

    mode = "auto"

    def __init__(
        self, n_classes: int, settings: ModelSettings, seed: int = 0, topics: TopicsArg = ()
    ):
        super().__init__(n_classes, settings, seed, topics)
        self.members: dict[str, TextClassifier] = {}  # kept across fits: their caches stay warm
        self.chosen = self.member("frozen")

    def member(self, mode: str) -> TextClassifier:
        if mode not in self.members:
            from activelabel.model.registry import MODES

            model = MODES[mode](self.n_classes, self.settings, self.seed, self.topics)
            if hasattr(model, "teacher") and mode != "frozen":
                model.teacher = self.member("frozen")  # one set of cached pool embeddings
            self.members[mode] = model
        self.members[mode].tokens = self.tokens
        return self.members[mode]

    def candidates(self, n_labels: int) -> tuple[str, ...]:
        s = self.settings
        found = ["frozen"]
        if 0 < n_labels <= s.auto_setfit_max_labels:
            found.append("setfit")
        if n_labels >= s.auto_finetune_min_labels:
            found.append("finetune")
        return tuple(found)

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        progress: Progress | None = None,
        *,
        unlabelled: Sequence[str] = (),
    ) -> None:
        texts, y = list(texts), np.asarray(y, dtype=np.int64)
        n = len(texts)
        self._token_cache(texts)
        candidates = self.candidates(n)
        scores: dict[str, dict[str, float]] = {}
        folds = self.folds(y)
        if len(candidates) == 1 or not folds:
            choice = candidates[0]
        else:
            for mode in candidates:
                scores[mode] = self._cross_validate(mode, texts, y, folds, unlabelled)
            # best accuracy; ties go to the earlier (cheaper) candidate
            choice = max(candidates, key=lambda m: (scores[m]["accuracy"], -candidates.index(m)))
        self.chosen = self.member(choice)
        planned = getattr(self.chosen, "planned_steps", None)
        units = planned(n)[0] * n if planned and n else n
        self.chosen.fit(texts, y, ScaledProgress(progress, n, units), unlabelled=unlabelled)
        self.training_summary = {
            **self.chosen.training_summary,  # what the chosen model trained on
            "mode": self.mode,
            "chosen": choice,
            "labels": n,
            "candidates": list(candidates),
            "cv": scores,
            "folds": len(folds) if scores else 0,
        }

    def folds(self, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Stratified folds of the labelled set (:func:`~activelabel.model.shares_cv.folds_of`)."""
        return folds_of(y, self.settings.auto_folds, self.seed)

    def _cross_validate(
        self,
        mode: str,
        texts: list[str],
        y: np.ndarray,
        folds: list[tuple[np.ndarray, np.ndarray]],
        unlabelled: Sequence[str],
    ) -> dict[str, float]:
        """Mean accuracy and macro-F1 over the folds; each held-out fold joins the pool."""
        from activelabel.evaluation import evaluate

        model = self.member(mode)
        accuracy, macro_f1 = [], []
        for train, held_out in folds:
            held_texts = [texts[i] for i in held_out]
            model.fit([texts[i] for i in train], y[train], unlabelled=held_texts + list(unlabelled))
            result = evaluate(
                model.predict(held_texts, embeddings=False).probabilities,
                y[held_out],
                self.n_classes,
            )
            accuracy.append(result.accuracy)
            macro_f1.append(result.macro_f1)
        return {
            "accuracy": round(float(np.mean(accuracy)), 4),
            "macro_f1": round(float(np.mean(macro_f1)), 4),
        }

    def predict(
        self, texts: Sequence[str], progress: Progress | None = None, *, embeddings: bool = True
    ) -> Prediction:
        return self.chosen.predict(texts, progress, embeddings=embeddings)

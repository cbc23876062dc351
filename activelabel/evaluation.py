"""Test-set metrics of one model, and the learning-curve record that reports are drawn from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass
class Evaluation:
    """Scores on the held-out test set. Per-class lists follow the workspace class order."""

    accuracy: float
    macro_f1: float
    eval_loss: float
    per_class_correct: list[int]
    per_class_total: list[int]
    confusion: list[list[int]]  # confusion[true][predicted]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        return cls(**data)


def evaluate(probabilities: np.ndarray, gold: np.ndarray, n_classes: int) -> Evaluation:
    """Score predicted ``probabilities`` (n, n_classes) against gold class indices (n,)."""
    gold = np.asarray(gold, dtype=np.int64)
    if len(gold) == 0:
        raise ValueError("cannot evaluate on an empty test set")
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (gold, predicted), 1)
    correct = np.diag(confusion)
    total = confusion.sum(axis=1)
    predicted_total = confusion.sum(axis=0)
    present = total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted_total > 0, correct / predicted_total, 0.0)
        recall = np.where(total > 0, correct / total, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    picked = np.clip(probabilities[np.arange(len(gold)), gold], 1e-12, 1.0)
    return Evaluation(
        accuracy=float((predicted == gold).mean()),
        macro_f1=float(f1[present].mean()),
        eval_loss=float(-np.log(picked).mean()),
        per_class_correct=correct.tolist(),
        per_class_total=total.tolist(),
        confusion=confusion.tolist(),
    )


@dataclass
class CurvePoint:
    """One point of a learning curve: a model trained on ``n_labels`` labels and evaluated.

    ``run`` names the curve (a strategy in a simulation, or an arm of live rounds);
    ``selected_counts`` counts the labels per class of everything selected so far.
    """

    run: str
    seed: int
    step: int
    n_labels: int
    mode: str  # "frozen" (encoder frozen, linear head) or "finetune"
    evaluation: Evaluation
    selected_counts: list[int] = field(default_factory=list)
    wall_seconds: float = 0.0

"""When to stop labelling: a plain-language suggestion from the rounds so far.

Two signals, both computed from stored rounds:
- stability: the KappaAverage criterion (Bloodgood & Vijay-Shanker 2009, as in small-text) over
  the predictions on a fixed stopping set of pool headlines: Cohen's kappa between consecutive
  rounds, averaged over a window of 3, at least 0.99;
- progress: the change of test accuracy over the last rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from activelabel.store import RoundRecord

WINDOW = 3
KAPPA = 0.99
MIN_GAIN = 0.005  # half a point of accuracy


@dataclass(frozen=True)
class StopSignal:
    stable: bool  # predictions on the stopping set stopped changing
    kappa: float | None  # mean kappa over the window
    flat: bool  # accuracy moved less than MIN_GAIN over the window
    accuracy_change: float | None
    weakest: list[tuple[str, int, int]]  # (topic, correct, total), worst recall first
    message: str

    @property
    def suggest_stop(self) -> bool:
        return self.stable or self.flat


def _kappa(a: np.ndarray, b: np.ndarray, n_classes: int) -> float:
    """Cohen's kappa between two rounds' predictions, 1.0 when they are identical (the
    adaptation small-text's KappaAverage makes for constant predictions)."""
    from sklearn.metrics import cohen_kappa_score

    if np.array_equal(a, b):
        return 1.0
    return float(cohen_kappa_score(a, b, labels=np.arange(n_classes)))


def _kappas(rounds: Sequence[RoundRecord], n_classes: int) -> list[float]:
    """Kappa between consecutive rounds' stopping-set predictions (the statistic of
    small-text's KappaAverage, computed here without importing small-text on every status)."""
    kappas: list[float] = []
    usable = [np.asarray(r.stopping_predictions) for r in rounds if r.stopping_predictions]
    for previous, current in zip(usable, usable[1:], strict=False):
        if len(previous) != len(current):
            kappas = []  # the stopping set changed: start the window again
            continue
        kappas.append(_kappa(previous, current, n_classes))
    return kappas


def stop_signal(rounds: Sequence[RoundRecord], class_names: Sequence[str]) -> StopSignal | None:
    """The signal after the last round, or None before there are enough trained rounds."""
    trained = [r for r in rounds if r.n_labels > 0]
    if len(trained) < 2:
        return None
    kappas = _kappas(trained, len(class_names))
    window = kappas[-WINDOW:]
    kappa = float(np.mean(window)) if len(window) == WINDOW else None
    stable = kappa is not None and kappa >= KAPPA
    evaluated = [r for r in trained if r.evaluation is not None]
    change = None
    if len(evaluated) > WINDOW:
        accuracies = [r.evaluation.accuracy for r in evaluated[-(WINDOW + 1) :]]
        change = max(accuracies) - min(accuracies)
    flat = change is not None and change < MIN_GAIN
    weakest: list[tuple[str, int, int]] = []
    if evaluated:
        e = evaluated[-1].evaluation
        rows = [
            (n, c, t)
            for n, c, t in zip(class_names, e.per_class_correct, e.per_class_total, strict=True)
            if t
        ]
        weakest = sorted(rows, key=lambda r: (r[1] / r[2], -r[2]))[:2]
    return StopSignal(
        stable,
        kappa,
        flat,
        change,
        weakest,
        _message(stable, kappa, flat, change, weakest, len(trained)),
    )


def _message(stable, kappa, flat, change, weakest, n_rounds) -> str:
    weak = ", ".join(f"{name} {c}/{t}" for name, c, t in weakest)
    if stable or flat:
        reasons = []
        if flat:
            reasons.append(
                f"the last {WINDOW} rounds changed the test accuracy by "
                f"{100 * change:.1f} points (< {100 * MIN_GAIN:.1f})"
            )
        if stable:
            reasons.append(
                f"the predictions on the stopping set agree between rounds "
                f"(kappa {kappa:.3f} ≥ {KAPPA})"
            )
        return (
            f"{' and '.join(reasons)}; consider stopping, or targeting the weakest topics: {weak}"
        )
    detail = f"kappa {kappa:.3f}" if kappa is not None else f"{n_rounds} trained rounds so far"
    gain = f", accuracy still moving by {100 * change:.1f} points" if change is not None else ""
    return f"keep labelling ({detail}{gain}); weakest topics: {weak}"

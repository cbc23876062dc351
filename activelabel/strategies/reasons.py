"""Why a headline was picked, in words an annotator reads on the labelling page.

The reason is derived from what the round knows about the headline (the model's probabilities,
the arm, the strategy and how many labels each topic has), so every strategy keeps its
``select(...) -> indices`` contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["explain"]

_UNCERTAIN = ("margin", "least-confidence", "entropy", "badge")
_DIVERSE = ("kmeans", "coreset")


def _pct(p: float) -> str:
    return f"{100 * p:.0f} %"


def explain(
    probabilities: np.ndarray | None,
    class_names: Sequence[str],
    arm: str,
    strategy: str,
    label_counts: Mapping[str, int] | None = None,
) -> str:
    """One sentence: why this headline is in the batch.

    ``probabilities`` is the model's row for the headline (None before the first label),
    ``arm`` ``"active"`` or ``"random"``, ``strategy`` the spec that picked the active arm.
    """
    if arm == "random":
        return "Picked at random: the baseline that shows what active learning gains."
    spec = strategy.replace(" ", "").lower()
    if probabilities is None:
        if "topics" in spec:
            return "First batch: close to a topic's description, to give every topic a start."
        if "kmeans" in spec or "coreset" in spec:
            return "First batch: spread over the kinds of headlines in the pool."
        return f"First batch, picked by {strategy} before the model has any label."
    order = np.argsort(-np.asarray(probabilities, dtype=float))
    first, second = int(order[0]), int(order[1])
    top, p_top = class_names[first], float(probabilities[first])
    parts = []
    counts = dict(label_counts or {})
    if spec.startswith("balanced(") and counts:
        have = counts.get(top, 0)
        median = float(np.median([counts.get(name, 0) for name in class_names]))
        if have <= median:
            parts.append(f"topic {top} has few labels ({have})")
    if any(name in spec for name in _UNCERTAIN):
        parts.append(
            f"the model is unsure between {top} ({_pct(p_top)}) and "
            f"{class_names[second]} ({_pct(float(probabilities[second]))})"
        )
    elif any(name in spec for name in _DIVERSE):
        parts.append(f"unlike the headlines labelled so far (the model leans to {top})")
    if "+kmeans" in spec and parts:
        parts[-1] += ", and unlike the others in this batch"
    if not parts:
        if "zero-shot" in spec:
            return (
                "First batch, before any label: a typical headline of one topic (by the topic "
                "descriptions), so that every topic gets a start."
            )
        return f"Picked by the {strategy} strategy; the model's guess is {top}."
    return f"Picked because {'; '.join(parts)}."

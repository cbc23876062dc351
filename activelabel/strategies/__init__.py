"""Query strategies: which headlines a person should label next.

Build one from a spec string with :func:`make_strategy`. The grammar (case and spaces ignored)::

    spec    := wrapper "(" spec ")" | spec "+kmeans" | name
    wrapper := "balanced" | "hunt" | "subsample"
    name    := one of STRATEGIES

Examples: ``"margin"``, ``"margin+kmeans"`` (k-means over the 10·n most uncertain),
``"balanced(margin)"`` (batch split across under-represented topics, margin within each),
``"balanced(margin+kmeans)"``, ``"subsample(badge)"`` (BADGE on 4,096 random candidates),
``"hunt(margin)"`` (topics short of labels get candidates first, margin the rest),
``"zero-shot"`` (a first batch covering every topic by its description).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from activelabel.errors import ConfigError
from activelabel.strategies.balance import Balanced
from activelabel.strategies.base import Need, PoolView, QueryStrategy, Reason
from activelabel.strategies.cold_start import TopicSeed, ZeroShotSeed, zero_shot_probabilities
from activelabel.strategies.coreset import GreedyCoreset
from activelabel.strategies.diversity import (
    BADGE,
    Diversified,
    EmbeddingKMeans,
    gradient_embeddings,
)
from activelabel.strategies.hunt import Hunted
from activelabel.strategies.random_sampling import RandomSampling
from activelabel.strategies.subsample import Subsampled
from activelabel.strategies.uncertainty import (
    BreakingTies,
    LeastConfidence,
    PredictionEntropy,
    UncertaintySampling,
)

STRATEGIES: dict[str, Callable[[], QueryStrategy]] = {
    "random": RandomSampling,
    "least-confidence": LeastConfidence,
    "entropy": PredictionEntropy,
    "margin": BreakingTies,
    "kmeans": EmbeddingKMeans,
    "badge": BADGE,
    "topics": TopicSeed,
    "zero-shot": ZeroShotSeed,
    "coreset": GreedyCoreset,
}
"""Base strategies by name; each factory takes no arguments."""

WRAPPERS: dict[str, Callable[[QueryStrategy], QueryStrategy]] = {
    "balanced": Balanced,
    "hunt": Hunted,
    "subsample": Subsampled,
}
"""Wrappers by name; each takes the strategy it wraps."""

DIVERSIFY_SUFFIX = "+kmeans"
_WRAPPED = re.compile(r"^([a-z_-]+)\((.+)\)$")


def make_strategy(spec: str) -> QueryStrategy:
    """The strategy a spec string names (grammar in the module docstring).

    Raises ``ConfigError`` for an unknown name or a malformed spec.
    """
    text = re.sub(r"\s+", "", str(spec)).lower()
    if text.endswith(DIVERSIFY_SUFFIX) and len(text) > len(DIVERSIFY_SUFFIX):
        return Diversified(make_strategy(text[: -len(DIVERSIFY_SUFFIX)]))
    wrapped = _WRAPPED.match(text)
    if wrapped and wrapped.group(1) in WRAPPERS:
        return WRAPPERS[wrapped.group(1)](make_strategy(wrapped.group(2)))
    if text in STRATEGIES:
        return STRATEGIES[text]()
    raise ConfigError(
        f"unknown query strategy {spec!r}: use one of {', '.join(STRATEGIES)}, optionally "
        f"followed by {DIVERSIFY_SUFFIX} or wrapped as {'(...), '.join(WRAPPERS)}(...)"
    )


__all__ = [
    "BADGE",
    "STRATEGIES",
    "WRAPPERS",
    "Balanced",
    "BreakingTies",
    "Diversified",
    "EmbeddingKMeans",
    "GreedyCoreset",
    "Hunted",
    "LeastConfidence",
    "Need",
    "PoolView",
    "PredictionEntropy",
    "QueryStrategy",
    "RandomSampling",
    "Reason",
    "Subsampled",
    "TopicSeed",
    "UncertaintySampling",
    "ZeroShotSeed",
    "gradient_embeddings",
    "make_strategy",
    "zero_shot_probabilities",
]

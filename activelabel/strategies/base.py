"""The query-strategy contract: given what the model knows about the pool, pick ``n`` items."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class Need(StrEnum):
    """A :class:`PoolView` field a strategy can ask for. The engine fills exactly the fields a
    strategy's ``needs`` declare, and leaves the others empty."""

    PROBABILITIES = "probabilities"
    EMBEDDINGS = "embeddings"
    LABELED_EMBEDDINGS = "labeled_embeddings"
    LABELED_CLASSES = "labeled_classes"
    CLASS_NAMES = "class_names"
    CLASS_RECALL = "class_recall"
    TOPIC_EMBEDDINGS = "topic_embeddings"


@dataclass(frozen=True)
class Reason:
    """Why a strategy picked one row: a sentence an annotator reads, the kind of pick
    (``"uncertain"``, ``"hunt"``, ``"balance"``, ``"cluster"``, ``"topic"``, ``"diverse"``,
    ``"random"``, ``"picked"``) and the topics the sentence names."""

    kind: str
    text: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class PoolView:
    """What a strategy may look at. Row ``i`` of every pool array describes candidate ``i``.

    Candidates are the unlabelled, non-test items only, so whatever a strategy returns can be
    sent to annotators. Arrays a strategy does not need may be ``None``.
    """

    probabilities: np.ndarray | None = None  # (n_pool, n_classes) predicted class probabilities
    embeddings: np.ndarray | None = None  # (n_pool, dim) sentence embeddings
    labeled_embeddings: np.ndarray | None = None  # (n_labeled, dim)
    labeled_classes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    class_names: tuple[str, ...] = ()
    class_recall: np.ndarray | None = None  # (n_classes,) recall on picked items, NaN if unknown
    topic_embeddings: np.ndarray | None = None  # (n_classes, dim) embedded topic descriptions
    n_candidates: int | None = None  # the pool size, for strategies that need no array

    @property
    def size(self) -> int:
        if self.n_candidates is not None:
            return self.n_candidates
        for array in (self.probabilities, self.embeddings):
            if array is not None:
                return int(array.shape[0])
        return 0

    def subset(self, rows: np.ndarray) -> PoolView:
        """The same view restricted to the candidate rows ``rows``."""

        def take(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[rows]

        return PoolView(
            probabilities=take(self.probabilities),
            embeddings=take(self.embeddings),
            labeled_embeddings=self.labeled_embeddings,
            labeled_classes=self.labeled_classes,
            class_names=self.class_names,
            class_recall=self.class_recall,
            topic_embeddings=self.topic_embeddings,
            n_candidates=None if self.n_candidates is None else len(rows),
        )


class QueryStrategy(ABC):
    """Select ``n`` candidates from a pool. Deterministic given ``rng``.

    ``select`` returns distinct row indices into the pool, at most ``n`` of them and at most the
    pool size, most wanted first. An empty pool gives an empty array.
    ``select_with_reasons`` returns the same rows (for the same ``rng`` state) and, per row, the
    :class:`Reason` it was picked for. A strategy whose reason follows from the row alone
    overrides :meth:`reasons`; one that decides per row while selecting (a wrapper) overrides
    :meth:`select_with_reasons` and lets ``select`` take its rows.
    """

    name: str = "strategy"
    needs: frozenset[Need] = frozenset()  # the PoolView fields it reads

    @abstractmethod
    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def select_with_reasons(
        self, pool: PoolView, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[Reason]]:
        """The rows ``select`` picks and why each was picked."""
        rows = self.select(pool, n, rng)
        return rows, self.reasons(pool, rows)

    def reasons(self, pool: PoolView, rows: np.ndarray) -> list[Reason]:
        """Why each of ``rows`` (picked by this strategy) was picked."""
        return [Reason("picked", f"Picked by {self.name}.") for _ in rows]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def topic_name(pool: PoolView, topic: int) -> str:
    """The name of class ``topic`` (``topic N`` when the view has no class names)."""
    return pool.class_names[topic] if topic < len(pool.class_names) else f"topic {topic}"


def percent(p: float) -> str:
    return f"{100 * p:.0f} %"

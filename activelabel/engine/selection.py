"""Selecting a batch: the strategy's picks plus the live random baseline, seeded per round."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from activelabel.compute import ScoredPool
from activelabel.config import ComputeConfig
from activelabel.engine.data import Candidates
from activelabel.engine.training import informed
from activelabel.engine.view import build_view, score, scoring_needed
from activelabel.errors import StrategyError
from activelabel.model import TextClassifier
from activelabel.strategies import Need, PoolView, QueryStrategy, Reason
from activelabel.strategies.random_sampling import RANDOM_REASON


def selection_rng(seed: int, round: int) -> np.random.Generator:
    """The random stream of one selection: the same seed and round give the same picks."""
    return np.random.default_rng([seed, round])


def declared_needs(strategy) -> frozenset[Need]:
    try:
        return frozenset(Need(need) for need in strategy.needs)
    except ValueError as exc:
        raise StrategyError(f"strategy {strategy.name!r} declares an unknown need: {exc}") from None


def select_batch(
    view: PoolView,
    strategy: QueryStrategy,
    n: int,
    random_share: float,
    rng: np.random.Generator,
    view_rows: np.ndarray | None = None,
    pool_size: int | None = None,
) -> tuple[np.ndarray, list[str], list[Reason]]:
    """Rows of the batch, the arm of each and why each was picked: the strategy's picks (with
    the strategy's own reasons), then uniform random draws from the whole pool
    (``random_share`` of the batch, at least one when the share is positive). A random strategy
    is the random arm as a whole. When ``view`` covers a subsample of a pool of ``pool_size``
    candidates, its row ``i`` is pool row ``view_rows[i]``."""
    rows_of = np.arange(view.size) if view_rows is None else np.asarray(view_rows)
    size = view.size if pool_size is None else pool_size
    if strategy.name == "random":
        rows = np.asarray(strategy.select(view, n, rng), dtype=np.int64)
        return rows_of[rows].astype(np.int64), ["random"] * len(rows), [RANDOM_REASON] * len(rows)
    n_random = min(n, max(1, round(random_share * n))) if random_share > 0 and n > 1 else 0
    picks, reasons = strategy.select_with_reasons(view, n - n_random, rng)
    active = rows_of[np.asarray(picks, dtype=np.int64)].astype(np.int64)
    rest = np.setdiff1d(np.arange(size), active)
    drawn = rng.permutation(rest)[:n_random]
    rows = np.concatenate([active, drawn]).astype(np.int64)
    arms = ["active"] * len(active) + ["random"] * len(drawn)
    return rows, arms, [*reasons, *[RANDOM_REASON] * len(drawn)]


class SeenRecall:
    """Per-class recall of the model's suggestions on the items it picked, once labelled: what
    the model gets wrong, measured without the test set."""

    def __init__(self, n_classes: int):
        self.correct = np.zeros(n_classes)
        self.total = np.zeros(n_classes)

    def add(self, predicted: np.ndarray, gold: np.ndarray) -> None:
        predicted, gold = np.asarray(predicted, dtype=np.int64), np.asarray(gold, dtype=np.int64)
        np.add.at(self.total, gold, 1)
        np.add.at(self.correct, gold[predicted == gold], 1)

    def state(self) -> dict:
        return {"seen_correct": self.correct.tolist(), "seen_total": self.total.tolist()}

    def restore(self, state: dict) -> None:
        self.correct = np.array(state.get("seen_correct", self.correct), dtype=float)
        self.total = np.array(state.get("seen_total", self.total), dtype=float)

    @property
    def recall(self) -> np.ndarray | None:
        if not self.total.any():
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.total > 0, self.correct / self.total, np.nan)


@dataclass
class Pick:
    rows: np.ndarray  # candidate rows, most wanted first, then the random draws
    arms: list[str]
    scored: ScoredPool | None  # the model's scores of the candidates, where computed
    reasons: list[Reason] = field(default_factory=list)  # why each row was picked


def pick(
    classifier: TextClassifier,
    strategy: QueryStrategy,
    n: int,
    *,
    candidates: Sequence[str] | Candidates,
    labelled_texts: Sequence[str],
    labelled_classes: np.ndarray,
    class_names: Sequence[str],
    seen: SeenRecall | None,
    random_share: float,
    rng: np.random.Generator,
    score_candidates: bool = False,
    progress: Callable[[int], None] | None = None,
    compute: ComputeConfig | None = None,
) -> Pick:
    """Score what the strategy needs (or everything, with ``score_candidates``), build its view
    and select ``n`` candidates. ``candidates`` may be texts or a stream from the store; a pool
    larger than the candidate subsample gives strategies that need embeddings the subsample."""
    if not isinstance(candidates, Candidates):
        candidates = Candidates.of(candidates)
    needs = declared_needs(strategy)
    if candidates.size == 0 or n <= 0:  # nothing left to pick (a fully labelled pool)
        return Pick(np.empty(0, dtype=np.int64), [], None)
    scored, prediction, view_rows = None, None, None
    if candidates.size and (score_candidates or scoring_needed(needs)):
        trusted = informed(classifier, len(labelled_texts))
        scored = score(
            classifier, candidates, needs, rng, informed=trusted, compute=compute, progress=progress
        )
        prediction, view_rows = scored.for_view(Need.EMBEDDINGS in needs)
    view = build_view(
        classifier,
        needs,
        n_candidates=candidates.size if view_rows is None else len(view_rows),
        scored=prediction,
        labelled_texts=labelled_texts,
        labelled_classes=labelled_classes,
        class_names=class_names,
        class_recall=None if seen is None else seen.recall,
    )
    rows, arms, reasons = select_batch(
        view, strategy, min(n, candidates.size), random_share, rng, view_rows, candidates.size
    )
    return Pick(rows, arms, scored, reasons)

"""``activelabel review``: flag suspect labels and send them back to the annotators.

A review (under the round lock, so never beside a running round) first records the answers to
earlier reviews, then computes out-of-sample probabilities for every label
(:mod:`~activelabel.review.folds`), ranks the labels with cleanlab
(:mod:`~activelabel.review.rank`) and sends the most suspect ones, never flagged before, as
review tasks. An answer that keeps the label marks it confirmed; another topic supersedes the
label (source ``review``, with the reviewer and the time), so the next round trains on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from activelabel.annotators.base import Annotator, ReviewTask
from activelabel.engine.data import StreamedPool
from activelabel.engine.training import Trainer
from activelabel.progress import Phase, silent
from activelabel.review.folds import DEFAULT_FOLDS, check_folds, out_of_sample
from activelabel.review.rank import DEFAULT_METHOD, Ranking, rank_labels
from activelabel.store import ReviewFlag
from activelabel.workspace import Workspace


@dataclass
class ReviewResult:
    batch: int | None  # the review batch recorded, None when nothing was flagged
    flags: list[ReviewFlag]
    n_labels: int  # labels ranked
    cleanlab_issues: int  # labels cleanlab's confident learning calls issues
    already_reviewed: int  # of the ranked labels, those flagged before (never again)
    answers: tuple[int, int, int] = (0, 0, 0)  # (confirmed, changed, skipped) pulled now
    later_answers: tuple[int, int, int] = (0, 0, 0)  # answered at once (the oracle)
    problems: list[str] = field(default_factory=list)


def percent(p: float) -> str:
    return f"{100 * p:.0f} %" if p >= 0.01 or p == 0 else "under 1 %"


def reason(label: str, suggested: str, p_label: float, p_suggested: float, folds: int) -> str:
    """Why a label is suspect, in words, for the reviewer."""
    return (
        f"Suspected: a model trained without this headline ({folds}-fold) gives its label "
        f"'{label}' {percent(p_label)} and '{suggested}' {percent(p_suggested)}."
    )


def pull_answers(ws: Workspace, annotator: Annotator) -> tuple[int, int, int]:
    """Record the answers to waiting reviews: (confirmed, changed, skipped)."""
    if not ws.store.reviews(waiting=True):
        return 0, 0, 0
    classes = set(ws.class_names)
    answers = [a for a in annotator.pull_review() if a.label is None or a.label in classes]
    return ws.store.record_review_answers(answers)


def push_waiting(ws: Workspace, annotator: Annotator) -> int:
    """Send the flagged labels not sent yet (e.g. a review that died after recording them)."""
    pending = ws.store.reviews(unpushed=True, waiting=True)
    if not pending:
        return 0
    texts = ws.store.texts(r.item_id for r in pending)
    tasks = [
        ReviewTask(r.id, r.item_id, texts[r.item_id], r.label, r.suggested, r.reason, r.batch)
        for r in pending
    ]
    ws.store.mark_reviews_pushed(annotator.push_review(tasks))
    return len(tasks)


def rank_workspace(
    ws: Workspace,
    *,
    folds: int = DEFAULT_FOLDS,
    method: str = DEFAULT_METHOD,
    phase: Phase = silent,
) -> tuple[StreamedPool, np.ndarray, Ranking]:
    """Every current label's out-of-sample probabilities (the next round's learner, in K folds)
    and cleanlab's ranking of them."""
    data = StreamedPool.from_workspace(ws)
    check_folds(data.y, data.class_names, folds)
    trainer = Trainer.for_workspace(ws, data.sample_texts(), phase=phase)
    number = ws.store.next_round()
    unlabelled = data.unlabelled_texts(np.random.default_rng([ws.config.loop.seed, number, 5]))
    probabilities = out_of_sample(
        trainer,
        data.labelled_texts,
        data.y,
        unlabelled,
        folds=folds,
        seed=ws.config.loop.seed + number,
    )
    return data, probabilities, rank_labels(data.y, probabilities, method)


def run_review(
    ws: Workspace,
    annotator: Annotator,
    *,
    top: int | None = None,
    folds: int = DEFAULT_FOLDS,
    method: str = DEFAULT_METHOD,
    phase: Phase = silent,
) -> ReviewResult:
    """Pull review answers, flag the most suspect labels (``top`` of them, or those cleanlab
    calls issues) and send them for review; under the workspace's round lock."""
    with ws.lock():
        answers = pull_answers(ws, annotator)
        push_waiting(ws, annotator)
        data, probabilities, ranking = rank_workspace(ws, folds=folds, method=method, phase=phase)
        reviewed = ws.store.reviewed_items()
        names = data.class_names
        rows = [int(r) for r in ranking.order if data.labelled[int(r)].id not in reviewed]
        rows = [r for r in rows if ranking.flagged[r]] if top is None else rows[:top]
        flags = []
        for rank, row in enumerate(rows):
            p = probabilities[row]
            own = int(data.y[row])
            others = p.copy()
            others[own] = -1.0
            suggested = int(others.argmax())
            flags.append(
                ReviewFlag(
                    item_id=data.labelled[row].id,
                    rank=rank,
                    label=names[own],
                    suggested=names[suggested],
                    p_label=float(p[own]),
                    p_suggested=float(p[suggested]),
                    score=float(ranking.scores[row]),
                    reason=reason(names[own], names[suggested], p[own], p[suggested], folds),
                )
            )
        batch = ws.store.add_review_batch(flags) if flags else None
        push_waiting(ws, annotator)
        immediate = pull_answers(ws, annotator)  # the oracle answers at once
        return ReviewResult(
            batch,
            flags,
            len(data.labelled),
            int(ranking.flagged.sum()),
            sum(1 for item in data.labelled if item.id in reviewed),
            answers,
            immediate,
        )

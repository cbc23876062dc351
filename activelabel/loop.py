"""One active-learning round: pull -> train -> eval -> select -> push.

A round computes everything in memory and writes its outcome (metrics and the selected batch)
in one transaction, then pushes. A round that dies before the write leaves the workspace as it
was; one that dies after it is finished by the next run, which pushes what was not pushed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from activelabel.annotators.base import Annotator, BatchItem
from activelabel.errors import ActiveLabelError
from activelabel.evaluation import Evaluation, evaluate
from activelabel.model import make_classifier, resolve_model
from activelabel.model.classifier import FrozenEncoder, Prediction, TextClassifier
from activelabel.store import RoundRecord, Selection, now
from activelabel.strategies import PoolView, make_strategy, zero_shot_probabilities
from activelabel.workspace import Workspace

Phase = Callable[[str, int], Callable[[int], None]]  # (description, total) -> advance(n)


class NotEnoughLabels(ActiveLabelError):
    """Fewer new labels arrived than the last batch asked for."""


@dataclass
class RoundResult:
    round: int
    n_labels: int
    new_labels: int
    changed_labels: int
    evaluation: Evaluation | None
    zero_shot: Evaluation | None
    selected: list[Selection]
    mode: str
    strategy: str
    wall_seconds: float
    problems: list[str] = field(default_factory=list)


def _silent(description: str, total: int) -> Callable[[int], None]:
    return lambda n: None


def pull(ws: Workspace, annotator: Annotator) -> tuple[int, int, list[str]]:
    """Apply the annotator's labels to the state; returns (new, changed, problems)."""
    pulled = annotator.pull()
    known = {item.id for item in ws.store.items("pool")}
    classes = set(ws.class_names)
    problems = list(pulled.problems)
    labels = []
    for label in pulled.labels:
        if label.item_id not in known:
            problems.append(f"label for unknown item {label.item_id} ignored")
        elif label.label not in classes:
            problems.append(f"item {label.item_id}: '{label.label}' is not a workspace class")
        else:
            labels.append(label)
    with ws.store.transaction() as db:
        new, changed, _ = ws.store.apply_labels(labels, pulled.retracted, db=db)
        ws.store.mark_skipped(pulled.skipped, db=db)
    return new, changed, problems


def push_pending(ws: Workspace, annotator: Annotator) -> int:
    """Push selections recorded but not yet pushed (e.g. the previous run died after the write)."""
    pending = ws.store.selections(unpushed=True)
    if not pending:
        return 0
    texts = {item.id: item.text for item in ws.store.items("pool")}
    batch = [
        BatchItem(s.item_id, texts[s.item_id], s.round, s.predicted, s.confidence, s.arm)
        for s in pending
    ]
    ws.store.mark_pushed(annotator.push(batch))
    return len(batch)


def round_rng(seed: int, round: int) -> np.random.Generator:
    return np.random.default_rng([seed, round])


def run_round(
    ws: Workspace,
    annotator: Annotator,
    *,
    force: bool = False,
    batch_size: int | None = None,
    phase: Phase = _silent,
) -> RoundResult:
    """Run one round under the workspace lock."""
    with ws.lock():
        return _run_round(ws, annotator, force, batch_size or ws.config.loop.batch_size, phase)


def _run_round(
    ws: Workspace, annotator: Annotator, force: bool, batch_size: int, phase: Phase
) -> RoundResult:
    started, clock = now(), time.perf_counter()
    store, config = ws.store, ws.config
    number = store.next_round()
    push_pending(ws, annotator)
    new, changed, problems = pull(ws, annotator)
    if number > 0 and not force:
        _check_enough_labels(ws, number)

    names = ws.class_names
    index = {name: i for i, name in enumerate(names)}
    pool, test = store.items("pool"), store.items("test")
    labels = store.active_labels()
    labelled = [item for item in pool if item.id in labels]
    y = np.array([index[labels[item.id]] for item in labelled], dtype=np.int64)

    settings = config.model_settings(resolve_model(config.model.name))
    classifier = make_classifier(config.model.mode, len(names), settings, seed=config.loop.seed)
    classifier.prepare([item.text for item in pool + test])
    if len(labelled):
        advance = phase(
            f"train on {len(labelled)} labels", _training_total(classifier, len(labelled))
        )
        classifier.fit([item.text for item in labelled], y, advance)

    evaluation = None
    gold_test = [item for item in test if item.gold in index]
    if gold_test:
        prediction = classifier.predict(
            [i.text for i in gold_test], phase("evaluate", len(gold_test))
        )
        gold = np.array([index[i.gold] for i in gold_test])
        evaluation = evaluate(prediction.probabilities, gold, len(names))

    excluded = set(labels) | store.awaiting() | store.skipped()
    candidates = [item for item in pool if item.id not in excluded]
    scored = classifier.predict([i.text for i in candidates], phase("score pool", len(candidates)))

    zero_shot, topic_embeddings = None, None
    strategy_spec = config.loop.strategy if len(labelled) else config.loop.cold_start
    if number == 0 or "topic" in strategy_spec:
        topic_embeddings, zero_shot = _zero_shot(ws, classifier, gold_test, index, phase)

    view = _pool_view(classifier, scored, labelled, y, names, evaluation, topic_embeddings)
    strategy = make_strategy(strategy_spec)
    picked = strategy.select(
        view, min(batch_size, len(candidates)), round_rng(config.loop.seed, number)
    )
    selections = [
        Selection(
            number,
            candidates[row].id,
            rank,
            predicted=names[int(scored.probabilities[row].argmax())] if len(labelled) else None,
            confidence=float(scored.probabilities[row].max()) if len(labelled) else None,
        )
        for rank, row in enumerate(picked)
    ]
    wall = time.perf_counter() - clock
    record = RoundRecord(
        number,
        started,
        now(),
        len(labelled),
        new,
        classifier.mode,
        strategy_spec,
        evaluation,
        zero_shot,
        wall,
    )
    store.record_round(record, selections)
    push_pending(ws, annotator)
    return RoundResult(
        number,
        len(labelled),
        new,
        changed,
        evaluation,
        zero_shot,
        selections,
        classifier.mode,
        strategy_spec,
        wall,
        problems,
    )


def _check_enough_labels(ws: Workspace, number: int) -> None:
    previous = ws.store.selections(round=number - 1)
    labels = ws.store.active_labels()
    skipped = ws.store.skipped()
    done = sum(1 for s in previous if s.item_id in labels or s.item_id in skipped)
    if previous and done < len(previous):
        raise NotEnoughLabels(
            f"only {done} of the {len(previous)} headlines sent in round {number - 1} are labelled "
            f"or skipped; label the rest, or run 'activelabel round --force' to retrain anyway"
        )


def _training_total(classifier: TextClassifier, n_labels: int) -> int:
    planned = getattr(classifier, "planned_steps", None)
    if planned is None:
        return n_labels
    epochs, _ = planned(n_labels)
    return epochs * n_labels


def _zero_shot(ws: Workspace, classifier: TextClassifier, gold_test, index, phase: Phase):
    """Topic-description embeddings and, where the test set has gold labels, zero-shot scores."""
    encoder = getattr(classifier, "encoder", None)
    frozen = (
        encoder(())
        if callable(encoder)
        else FrozenEncoder(classifier.settings, classifier._token_cache(()), classifier.device)
    )
    topic_embeddings = frozen.encode([topic.prompt for topic in ws.taxonomy.topics])
    if not gold_test:
        return topic_embeddings, None
    texts = [item.text for item in gold_test]
    embeddings = frozen.encode(texts, phase("zero-shot", len(texts)))
    probabilities = zero_shot_probabilities(embeddings, topic_embeddings)
    gold = np.array([index[item.gold] for item in gold_test])
    return topic_embeddings, evaluate(probabilities, gold, len(index))


def _pool_view(
    classifier: TextClassifier,
    scored: Prediction,
    labelled,
    y: np.ndarray,
    names: list[str],
    evaluation: Evaluation | None,
    topic_embeddings: np.ndarray | None,
) -> PoolView:
    labelled_embeddings = (
        classifier.predict([i.text for i in labelled]).embeddings
        if len(labelled)
        else np.zeros((0, scored.embeddings.shape[1]))
    )
    return PoolView(
        probabilities=scored.probabilities,
        embeddings=scored.embeddings,
        labeled_embeddings=labelled_embeddings,
        labeled_classes=y,
        class_names=tuple(names),
        class_recall=None if evaluation is None else evaluation.per_class_recall,
        topic_embeddings=topic_embeddings,
        n_candidates=len(scored.probabilities),
    )

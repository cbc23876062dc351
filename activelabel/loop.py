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
from activelabel.faults import checkpoint
from activelabel.model import (
    Prediction,
    TextClassifier,
    make_classifier,
    pretrained_encoder,
    resolve_model,
)
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
    random_arm_labels: int = 0
    random_arm: Evaluation | None = None


def _silent(description: str, total: int) -> Callable[[int], None]:
    return lambda n: None


def pull(ws: Workspace, annotator: Annotator) -> tuple[int, int, list[str]]:
    """Apply the annotator's labels to the state; returns (new, changed, problems)."""
    pulled = annotator.pull()
    checkpoint("pull")
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
        checkpoint("pull-write")
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
    task_ids = annotator.push(batch)
    checkpoint("push")
    ws.store.mark_pushed(task_ids)
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
    for key, spec in (
        ("loop.strategy", config.loop.strategy),
        ("loop.cold_start", config.loop.cold_start),
    ):
        try:
            make_strategy(spec)
        except ActiveLabelError as exc:
            raise ActiveLabelError(f"{ws.path / 'activelabel.toml'}: {key}: {exc}") from None
    if store.selections(unpushed=True):
        return _finish_push(ws, annotator, number - 1, clock)
    new, changed, problems = pull(ws, annotator)
    if number > 0 and not force:
        _check_enough_labels(ws, number)

    names = ws.class_names
    index = {name: i for i, name in enumerate(names)}
    pool, test = store.items("pool"), store.items("test")
    labels = store.active_labels()
    labelled = [item for item in pool if item.id in labels]
    y = np.array([index[labels[item.id]] for item in labelled], dtype=np.int64)
    gold_test = [item for item in test if item.gold in index]
    test_gold = np.array([index[i.gold] for i in gold_test], dtype=np.int64)

    settings = config.model_settings(resolve_model(config.model.name))
    classifier = make_classifier(
        config.model.mode, len(names), settings, config.loop.seed, ws.taxonomy.prompts
    )
    classifier.prepare([item.text for item in pool + test])
    excluded = set(labels) | store.awaiting() | store.skipped()
    candidates = [item for item in pool if item.id not in excluded]
    unlabelled = [item.text for item in candidates]
    _fit(classifier, labelled, y, phase, "train", unlabelled)
    evaluation = None
    if gold_test:
        predicted = classifier.predict(
            [i.text for i in gold_test], phase("evaluate", len(gold_test))
        )
        evaluation = evaluate(predicted.probabilities, test_gold, len(names))
    stopping = None
    if labelled:
        stopping_items = _stopping_set(ws, pool)
        stopping = classifier.predict(stopping_items).probabilities.argmax(axis=1).tolist()

    random_arm_items = _random_arm_items(ws, labels)
    random_evaluation = None
    if random_arm_items and gold_test:
        arm_labelled = [item for item in labelled if item.id in random_arm_items]
        arm_y = np.array([index[labels[item.id]] for item in arm_labelled], dtype=np.int64)
        arm_classifier = classifier.sibling()
        _fit(arm_classifier, arm_labelled, arm_y, phase, "train random arm", unlabelled)
        arm_probabilities = arm_classifier.predict([i.text for i in gold_test]).probabilities
        random_evaluation = evaluate(arm_probabilities, test_gold, len(names))

    scored = classifier.predict(unlabelled, phase("score pool", len(candidates)))

    zero_shot, topic_embeddings = None, None
    strategy_spec = config.loop.strategy if len(labelled) else config.loop.cold_start
    if number == 0 or "topic" in strategy_spec:
        topic_embeddings, zero_shot = _zero_shot(ws, classifier, gold_test, index, phase)

    view = _pool_view(
        classifier,
        scored,
        labelled,
        y,
        names,
        _seen_recall(ws, labels, index),
        topic_embeddings,
        make_strategy(strategy_spec).needs,
    )
    rows, arms = _select(
        view,
        strategy_spec,
        min(batch_size, len(candidates)),
        config.loop.random_share,
        round_rng(config.loop.seed, number),
    )
    checkpoint("select")
    trained = len(labelled) > 0
    selections = [
        Selection(
            number,
            candidates[row].id,
            rank,
            arm=arm,
            predicted=names[int(scored.probabilities[row].argmax())] if trained else None,
            confidence=float(scored.probabilities[row].max()) if trained else None,
        )
        for rank, (row, arm) in enumerate(zip(rows, arms, strict=True))
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
        random_arm_labels=len(random_arm_items),
        random_arm=random_evaluation,
        stopping_predictions=stopping,
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
        random_arm_labels=len(random_arm_items),
        random_arm=random_evaluation,
    )


def _fit(
    classifier: TextClassifier, items, y: np.ndarray, phase: Phase, what: str, unlabelled
) -> None:
    if not len(items):
        return
    advance = phase(f"{what} on {len(items)} labels", _training_total(classifier, len(items)))

    def progress(n: int) -> None:
        checkpoint("train")
        advance(n)

    classifier.fit([item.text for item in items], y, progress, unlabelled=unlabelled)


def _select(
    view: PoolView, spec: str, n: int, random_share: float, rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    """Rows of the batch and the arm of each: the strategy's picks, then uniform random draws
    (``random_share`` of the batch, at least one when the share is positive). A random cold
    start is the random arm as a whole."""
    if spec == "random":
        return np.asarray(make_strategy("random").select(view, n, rng), dtype=np.int64), [
            "random"
        ] * n
    n_random = min(n, max(1, round(random_share * n))) if random_share > 0 and n > 1 else 0
    active = np.asarray(make_strategy(spec).select(view, n - n_random, rng), dtype=np.int64)
    rest = np.setdiff1d(np.arange(view.size), active)
    drawn = rng.permutation(rest)[:n_random]
    rows = np.concatenate([active, drawn]).astype(np.int64)
    return rows, ["active"] * len(active) + ["random"] * len(drawn)


def _random_arm_items(ws: Workspace, labels: dict[int, str]) -> set[int]:
    rows = ws.store.db.execute("SELECT item_id FROM selections WHERE arm = 'random'")
    return {item for (item,) in rows if item in labels}


def _seen_recall(ws: Workspace, labels: dict[int, str], index: dict[str, int]) -> np.ndarray | None:
    """Per-topic recall of the model's suggestions on the headlines people then labelled:
    what the model gets wrong, measured without the test set."""
    correct = np.zeros(len(index))
    total = np.zeros(len(index))
    for s in ws.store.selections():
        if s.predicted is not None and s.item_id in labels:
            truth = index[labels[s.item_id]]
            total[truth] += 1
            correct[truth] += s.predicted == labels[s.item_id]
    if not total.any():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, correct / total, np.nan)


STOPPING_SET_SIZE = 1000


def _stopping_set(ws: Workspace, pool) -> list[str]:
    """Texts of a fixed, seeded sample of pool headlines, the same every round."""
    import json

    stored = ws.store.get("stopping_set")
    if stored is None:
        rng = np.random.default_rng([ws.config.loop.seed, 7])
        chosen = sorted(rng.permutation([item.id for item in pool])[:STOPPING_SET_SIZE].tolist())
        ws.store.set("stopping_set", json.dumps(chosen))
    else:
        chosen = json.loads(stored)
    texts = {item.id: item.text for item in pool}
    return [texts[i] for i in chosen]


def _finish_push(ws: Workspace, annotator: Annotator, number: int, clock: float) -> RoundResult:
    """The last round was recorded but died while pushing its batch: push the rest, and that
    is the round."""
    push_pending(ws, annotator)
    record = ws.store.rounds()[-1]
    return RoundResult(
        number,
        record.n_labels,
        0,
        0,
        record.evaluation,
        record.zero_shot,
        ws.store.selections(round=number),
        record.mode,
        record.strategy,
        time.perf_counter() - clock,
        [f"round {number} was interrupted while sending its batch; the batch is sent now"],
        random_arm_labels=record.random_arm_labels,
        random_arm=record.random_arm,
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
    frozen = pretrained_encoder(classifier)
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
    seen_recall: np.ndarray | None,
    topic_embeddings: np.ndarray | None,
    needs: frozenset[str],
) -> PoolView:
    labelled_embeddings = None
    if "labeled_embeddings" in needs:  # a second pass over every label: only when asked for
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
        class_recall=seen_recall,
        topic_embeddings=topic_embeddings,
        n_candidates=len(scored.probabilities),
    )

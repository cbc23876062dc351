"""One active-learning round: pull -> train -> eval -> select -> push.

This module holds only the I/O of a round (lock, pull, record, push, crash points); training and
selecting are the engine's (:mod:`activelabel.engine`), shared with ``simulate``, ``serve`` and
``export``. A round computes everything in memory and writes its outcome (metrics and the
selected batch) in one transaction, then pushes. A round that dies before the write leaves the
workspace as it was; one that dies after it is finished by the next run, which pushes what was
not pushed.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

import numpy as np

from activelabel.annotators.base import Annotator, BatchItem, Pulled
from activelabel.engine import Phase, SeenRecall, Trainer, pick, selection_rng, silent
from activelabel.engine.data import StreamedPool
from activelabel.engine.training import informed, trained_on
from activelabel.engine.view import zero_shot_evaluation
from activelabel.errors import ActiveLabelError
from activelabel.evaluation import Evaluation
from activelabel.faults import checkpoint
from activelabel.model.calibration import fit_calibration, scaled
from activelabel.review.session import pull_answers
from activelabel.store import RoundRecord, Selection, now
from activelabel.workspace import Workspace

STOPPING_SET_SIZE = 1000


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
    training: dict | None = None
    review_answers: tuple[int, int, int] = (0, 0, 0)  # (confirmed, changed, skipped) pulled


def pull(ws: Workspace, annotator: Annotator) -> tuple[Pulled, list[str]]:
    """Record everything the annotator reports in one transaction; returns what was pulled and
    the problems to tell the user."""
    pulled = annotator.pull()
    checkpoint("pull")
    known = set(ws.store.texts((label.item_id for label in pulled.labels), split="pool"))
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
    store = ws.store
    with store.transaction() as db:
        store.apply_labels(labels, pulled.retracted, db=db)
        checkpoint("pull-write")
        store.mark_skipped(pulled.skipped, db=db)
        if pulled.present_annotations is not None:
            store.record_annotations(
                pulled.source, pulled.annotations, pulled.present_annotations, db=db
            )
        store.unpush(pulled.resend, db=db)
    return pulled, problems


def push_pending(ws: Workspace, annotator: Annotator) -> int:
    """Push selections recorded but not yet pushed (e.g. the previous run died after the write)."""
    pending = ws.store.selections(unpushed=True)
    if not pending:
        return 0
    texts = ws.store.texts(s.item_id for s in pending)
    batch = [
        BatchItem(s.item_id, texts[s.item_id], s.round, s.predicted, s.confidence, s.arm, s.reason)
        for s in pending
    ]
    task_ids = annotator.push(batch)
    checkpoint("push")
    ws.store.mark_pushed(task_ids)
    return len(batch)


def run_round(
    ws: Workspace,
    annotator: Annotator,
    *,
    force: bool = False,
    batch_size: int | None = None,
    phase: Phase = silent,
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
    if store.selections(unpushed=True):
        return _finish_push(ws, annotator, number - 1, clock)
    pulled, problems = pull(ws, annotator)
    reviewed = pull_answers(ws, annotator)  # the round trains on the corrected labels
    if pulled.resend and not force:
        return _finish_push(ws, annotator, number - 1, clock, problems)
    if number > 0 and not force:
        _check_enough_labels(ws, number)
    new, changed = _labels_since_last_round(ws)

    data = StreamedPool.from_workspace(ws)
    trainer = Trainer.for_workspace(ws, data.sample_texts(), phase=phase)
    unlabelled = data.unlabelled_texts(np.random.default_rng([config.loop.seed, number, 5]))
    classifier = trainer.fit(data.labelled_texts, data.y, unlabelled)
    calibration = _calibration(classifier, data, unlabelled, config.loop.seed, number)
    temperature = calibration["temperature"] if calibration else 1.0
    watermark = store.label_watermark()
    evaluation = trainer.evaluate(classifier, [i.text for i in data.test], data.test_gold)
    stopping = None
    if data.labelled:
        stopping_texts = _stopping_set(ws, data)
        stopping = classifier.predict(stopping_texts).probabilities.argmax(axis=1).tolist()
    random_arm_items, random_evaluation = _random_arm(ws, trainer, data, unlabelled)
    zero_shot = None
    if number == 0:
        zero_shot = zero_shot_evaluation(
            classifier, [i.text for i in data.test], data.test_gold, phase
        )

    spec = config.loop.strategy if data.labelled else config.loop.cold_start
    strategy = config.loop.query_strategy if data.labelled else config.loop.cold_start_strategy
    trusted = informed(classifier, len(data.labelled))
    choice = pick(
        classifier,
        strategy,
        batch_size,
        candidates=data.candidates,
        labelled_texts=data.labelled_texts,
        labelled_classes=data.y,
        class_names=data.class_names,
        seen=_seen_recall(ws, data),
        random_share=config.loop.random_share,
        rng=selection_rng(config.loop.seed, number),
        score_candidates=True,
        progress=phase("score pool", len(data.candidate_ids)),
        compute=config.compute,
    )
    checkpoint("select")
    names = data.class_names
    probabilities = choice.scored.probabilities if choice.scored is not None else None
    if probabilities is not None:  # what people read; the strategy picked on the raw ones
        probabilities = scaled(probabilities, temperature)
    selections = []
    picks = list(zip(choice.rows, choice.arms, choice.reasons, strict=True))
    if not data.labelled:  # a cold start lists topic after topic: people see them mixed
        order = np.random.default_rng([config.loop.seed, number, 11]).permutation(len(picks))
        picks = [picks[i] for i in order]
    for rank, (row, arm, reason) in enumerate(picks):
        p = probabilities[row] if trusted and probabilities is not None else None
        selections.append(
            Selection(
                number,
                int(data.candidate_ids[row]),
                rank,
                arm=arm,
                predicted=None if p is None else names[int(p.argmax())],
                confidence=None if p is None else float(p.max()),
                reason=reason.text,
            )
        )
    training = trained_on(classifier, len(data.labelled))
    if calibration:
        training["calibration"] = calibration
    wall = time.perf_counter() - clock
    record = RoundRecord(
        number,
        started,
        now(),
        len(data.labelled),
        new,
        classifier.mode,
        spec,
        evaluation,
        zero_shot,
        wall,
        random_arm_labels=len(random_arm_items),
        random_arm=random_evaluation,
        stopping_predictions=stopping,
        label_watermark=watermark,
        training=training,
    )
    store.record_round(record, selections)
    push_pending(ws, annotator)
    if trusted:
        problems += _refresh_waiting(ws, annotator, classifier, number, temperature)
    return RoundResult(
        number,
        len(data.labelled),
        new,
        changed,
        evaluation,
        zero_shot,
        selections,
        classifier.mode,
        spec,
        wall,
        problems,
        random_arm_labels=len(random_arm_items),
        random_arm=random_evaluation,
        training=training,
        review_answers=reviewed,
    )


def _calibration(
    classifier, data: StreamedPool, unlabelled: list[str], seed: int, number: int
) -> dict | None:
    """The temperature that calibrates the confidence shown (fitted on held-out folds of the
    labels), for the frozen learner, whose folds cost little; None: shown as the model says."""
    if classifier.mode != "frozen" or not data.labelled:
        return None
    return fit_calibration(
        classifier, data.labelled_texts, data.y, unlabelled, seed=seed * 1000 + number
    )


_SENT_IN = re.compile(r"^Sent in round \d+\. ")


def _refresh_waiting(
    ws: Workspace,
    annotator: Annotator,
    classifier,
    number: int,
    temperature: float = 1.0,
) -> list[str]:
    """Give the headlines sent in earlier rounds, still waiting, this round's guess and reason;
    returns the problems to tell the user (a failed refresh never undoes the round)."""
    store = ws.store
    awaiting = store.awaiting()
    latest = {  # an item sent again waits from its latest round
        s.item_id: s
        for s in store.selections()
        if s.round < number and s.item_id in awaiting and s.task_id
    }
    waiting = list(latest.values())
    if not waiting:
        return []
    texts = store.texts(s.item_id for s in waiting)
    probabilities = scaled(
        classifier.predict([texts[s.item_id] for s in waiting], embeddings=False).probabilities,
        temperature,
    )
    names = ws.class_names
    batch = []
    for s, p in zip(waiting, probabilities, strict=True):
        why = _SENT_IN.sub("", s.reason or "")  # the strategy's own reason, without an old prefix
        batch.append(
            BatchItem(
                s.item_id,
                texts[s.item_id],
                s.round,
                names[int(p.argmax())],
                float(p.max()),
                s.arm,
                f"Sent in round {s.round}. {why}".strip(),
            )
        )
    try:
        refreshed = annotator.refresh(batch, number)
    except ActiveLabelError as exc:
        return [
            f"the {len(batch)} headlines still waiting from earlier rounds keep their old guess "
            f"({exc}); the next round updates them"
        ]
    if refreshed:
        store.refresh_guesses([(b.item_id, b.predicted, b.confidence, b.reason) for b in batch])
    return []


def _labels_since_last_round(ws: Workspace) -> tuple[int, int]:
    """(new, changed) labels since the data the last round trained on — also when an earlier
    run of this round died after pulling them."""
    rounds = ws.store.rounds()
    if not rounds:
        return ws.store.labels_since(0)
    last = rounds[-1]
    if last.label_watermark is None:  # a round recorded before watermarks existed
        return max(0, len(ws.store.active_labels()) - last.n_labels), 0
    return ws.store.labels_since(last.label_watermark)


def _random_arm(
    ws: Workspace, trainer: Trainer, data: StreamedPool, unlabelled: list[str]
) -> tuple[set[int], Evaluation | None]:
    """The labels drawn at random so far, and a model trained on them alone."""
    drawn = {s.item_id for s in ws.store.selections(arm="random")}
    rows = [row for row, item in enumerate(data.labelled) if item.id in drawn]
    if not rows or not data.test:
        return {data.labelled[r].id for r in rows}, None
    model = trainer.fit_separate(
        [data.labelled[r].text for r in rows], data.y[rows], unlabelled, "train random arm"
    )
    evaluation = trainer.evaluate(model, [i.text for i in data.test], data.test_gold)
    return {data.labelled[r].id for r in rows}, evaluation


def _seen_recall(ws: Workspace, data: StreamedPool) -> SeenRecall:
    """The model's suggestions on the headlines people then labelled."""
    index = {name: i for i, name in enumerate(data.class_names)}
    labels = dict(zip((i.id for i in data.labelled), data.y.tolist(), strict=True))
    seen = SeenRecall(len(index))
    pairs = [
        (index[s.predicted], labels[s.item_id])
        for s in ws.store.selections()
        if s.predicted in index and s.item_id in labels
    ]
    if pairs:
        predicted, gold = zip(*pairs, strict=True)
        seen.add(np.array(predicted), np.array(gold))
    return seen


def _stopping_set(ws: Workspace, data: StreamedPool) -> list[str]:
    """Texts of a fixed, seeded sample of pool headlines, the same every round."""
    stored = ws.store.get_json("stopping_set", list)
    if stored is None:
        rng = np.random.default_rng([ws.config.loop.seed, 7])
        chosen = sorted(rng.permutation(data.pool_ids)[:STOPPING_SET_SIZE].tolist())
        ws.store.set("stopping_set", json.dumps(chosen))
    else:
        chosen = stored
    texts = ws.store.texts(chosen)
    return [texts[i] for i in chosen]


def _finish_push(
    ws: Workspace,
    annotator: Annotator,
    number: int,
    clock: float,
    problems: list[str] | None = None,
) -> RoundResult:
    """The last round's batch (or part of it) was not sent: a run that died while pushing, or
    tasks lost in Label Studio. Send it, and that is the round."""
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
        problems or [f"round {number} was interrupted while sending its batch; it is sent now"],
        random_arm_labels=record.random_arm_labels,
        random_arm=record.random_arm,
        training=record.training,
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

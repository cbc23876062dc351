"""Confident predictions sent to the workspace's Label Studio project for review: tasks with
the prediction pre-selected (arm ``review``), remembered in the store so that a later export
does not send them again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from activelabel.annotators.base import BatchItem
from activelabel.export.predictions import Predictions
from activelabel.store import now
from activelabel.workspace import Workspace

#: settings key of the store holding the headlines already sent to Label Studio for review
REVIEW_KEY = "review_pushed"
REVIEW_ARM = "review"


def reviewed(ws: Workspace) -> dict[int, dict[str, Any]]:
    """Items already sent for review: item id -> {task_id, round, predicted, confidence,
    pushed_at}."""
    raw = ws.store.get_json(REVIEW_KEY, dict) or {}
    return {int(k): v for k, v in raw.items()}


@dataclass
class ReviewPush:
    sent: int  # new review tasks
    already: int  # above the threshold but sent for review before
    in_label_studio: int  # above the threshold but already a task of the active loop
    project_id: int | None


def push_for_review(
    ws: Workspace, predictions: Predictions, min_confidence: float, annotator=None
) -> ReviewPush:
    """Send the unlabelled headlines predicted with at least ``min_confidence`` to the
    workspace's Label Studio project as tasks with the prediction pre-selected (arm
    ``review``), and remember them in the store so that a later export does not send them again.

    Headlines that already have a task (the active loop's batches, skipped ones) are left out.
    The record lives in the store's settings (``review_pushed``), not in ``selections``, so the
    round loop neither waits for the reviews nor counts them as its own picks.
    """
    with ws.lock("an export for review"):
        store = ws.store
        if annotator is None:
            from .annotator import LabelStudioAnnotator

            annotator = LabelStudioAnnotator.for_workspace(ws)
        labels = store.active_labels()
        done = reviewed(ws)
        has_task = store.awaiting() | store.skipped()
        round_ = max(store.next_round() - 1, 0)  # the model version the project pre-selects
        todo, already, in_ls = [], 0, 0
        for i in predictions.above(min_confidence).tolist():
            item_id = int(predictions.item_ids[i])
            if item_id in labels:
                continue
            if item_id in done:
                already += 1
            elif item_id in has_task:
                in_ls += 1
            else:
                todo.append(i)
        batch = [
            BatchItem(
                int(predictions.item_ids[i]),
                row["text"],
                round_,
                row["predicted"],
                row["confidence"],
                arm=REVIEW_ARM,
            )
            for i, row in zip(
                todo, predictions.rows(store, np.array(todo, dtype=np.int64)), strict=True
            )
        ]
        if batch:
            tasks = annotator.push(batch)
            stamp = now()
            for b in batch:
                done[b.item_id] = {
                    "task_id": tasks.get(b.item_id),
                    "round": b.round,
                    "predicted": b.predicted,
                    "confidence": b.confidence,
                    "pushed_at": stamp,
                }
            store.set(REVIEW_KEY, json.dumps({str(k): v for k, v in sorted(done.items())}))
        return ReviewPush(len(batch), already, in_ls, getattr(annotator, "project_id", None))

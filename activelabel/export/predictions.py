"""The model's predictions for every unlabelled headline: trained on every label so far and
scored through the engine (the same training and pool scoring as a round, in this process or on
Ray as ``[compute]`` says). The file becomes a "silver" corpus with ``activelabel init NEW
--corpus FILE --id-column id --label-column predicted``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from activelabel.compute.stream import CHUNK_SIZE
from activelabel.export.formats import ExportError, check_output, resolve_format, write_rows
from activelabel.export.labels import plain_id
from activelabel.progress import Advance, Phase, silent
from activelabel.store import Store
from activelabel.workspace import Workspace

PREDICTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "str"),
    ("text", "str"),
    ("predicted", "str"),
    ("confidence", "float"),
    ("top2", "str"),
    ("top2_confidence", "float"),
)


@dataclass
class Predictions:
    """The model's predictions for every unlabelled pool item, as arrays in pool order (the
    texts stay in the store), and how it did on the test set."""

    item_ids: np.ndarray  # (n,) int64
    top: np.ndarray  # (n, 2) the best and the second-best class
    confidence: np.ndarray  # (n, 2) their probabilities, rounded to 6 places
    class_names: list[str]
    n_labels: int  # labels the model was trained on
    test_confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    test_correct: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.item_ids)

    def above(self, min_confidence: float) -> np.ndarray:
        """Positions whose confidence is at least ``min_confidence``."""
        return np.flatnonzero(self.confidence[:, 0] >= min_confidence)

    def rows(
        self, store: Store, positions: np.ndarray | None = None, progress: Advance | None = None
    ) -> Iterator[dict[str, Any]]:
        """Rows of PREDICTION_COLUMNS at ``positions`` (default: all), ids and texts read from
        the store a chunk at a time."""
        if positions is None:
            positions = np.arange(len(self))
        for start in range(0, len(positions), CHUNK_SIZE):
            part = positions[start : start + CHUNK_SIZE]
            items = store.ext_ids_and_texts(self.item_ids[part].tolist())
            for i in part.tolist():
                ext_id, text = items[int(self.item_ids[i])]
                first, second = self.top[i]
                yield {
                    "id": plain_id(ext_id),
                    "text": text,
                    "predicted": self.class_names[first],
                    "confidence": float(self.confidence[i, 0]),
                    "top2": self.class_names[second],
                    "top2_confidence": float(self.confidence[i, 1]),
                }
            if progress:
                progress(len(part))

    @property
    def test_accuracy(self) -> float | None:
        return float(self.test_correct.mean()) if len(self.test_correct) else None

    def test_at(self, min_confidence: float) -> tuple[float, float | None] | None:
        """On the test set: (share of headlines at or above the threshold, their accuracy)."""
        if not len(self.test_confidence):
            return None
        kept = self.test_confidence >= min_confidence
        share = float(kept.mean())
        return share, (float(self.test_correct[kept].mean()) if kept.any() else None)


def top_two(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best and second-best class of each row, and their probabilities rounded to 6 places
    (as Python's ``round`` does, which is what the files show)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :2]
    chosen = np.take_along_axis(probabilities, order, axis=1)
    rounded = [[round(float(p), 6) for p in pair] for pair in chosen]
    return order.astype(np.int32), np.array(rounded, dtype=np.float64).reshape(-1, 2)


def train_classifier(ws: Workspace, phase: Phase = silent):
    """A classifier of the workspace's model and mode, fitted on every current pool label."""
    from activelabel.engine import train_on_workspace

    if not ws.store.active_labels():
        raise ExportError(
            f"{ws.path} has no labels yet, so there is no model to predict with; run "
            f"'activelabel round {ws.path}' and label a batch first"
        )
    classifier, data = train_on_workspace(ws, phase)
    return classifier, len(data.labelled)


def predict_unlabelled(
    ws: Workspace, classifier=None, n_labels: int | None = None, phase: Phase = silent
) -> Predictions:
    """Train on every current label (unless a fitted ``classifier`` is given) and predict
    every unlabelled pool item, streamed from the store in chunks (scored where ``[compute]``
    says); the test set, where it has gold labels, is scored too."""
    from activelabel.engine.data import Candidates
    from activelabel.engine.view import score
    from activelabel.strategies.base import Need

    if classifier is None:
        classifier, n_labels = train_classifier(ws, phase)
    store, names = ws.store, ws.class_names
    labelled = np.fromiter(store.active_labels(), dtype=np.int64)
    todo = len(np.setdiff1d(store.item_ids("pool"), labelled))
    ids = np.zeros(0, dtype=np.int64)
    top = np.zeros((0, 2), dtype=np.int32)
    confidence = np.zeros((0, 2), dtype=np.float64)
    if todo:
        candidates = Candidates(
            todo, lambda: store.item_chunks("pool", CHUNK_SIZE, exclude=labelled)
        )
        try:
            scored = score(
                classifier,
                candidates,
                frozenset({Need.PROBABILITIES}),
                np.random.default_rng(0),  # draws nothing: no embeddings are kept
                informed=False,
                compute=ws.config.compute,
                progress=phase("predict unlabelled", todo),
            )
        except ValueError:  # the store gave more or fewer rows than it counted
            raise ExportError(
                f"{ws.path}: the pool changed during the export; run it again"
            ) from None
        ids = scored.ids
        top, confidence = top_two(scored.probabilities)
    result = Predictions(
        ids,
        top,
        confidence,
        names,
        n_labels if n_labels is not None else len(labelled),
    )
    index = {name: i for i, name in enumerate(names)}
    test = [item for item in store.items("test") if item.gold in index]
    if test:
        scored = classifier.predict(
            [item.text for item in test], phase("check on test set", len(test)), embeddings=False
        ).probabilities
        gold = np.array([index[item.gold] for item in test])
        result.test_confidence = scored.max(axis=1)
        result.test_correct = scored.argmax(axis=1) == gold
    return result


@dataclass
class PredictionExport:
    path: Path | None
    format: str | None
    rows: int  # rows written (at or above min_confidence)
    unlabelled: int  # every unlabelled pool item
    predictions: Predictions


def export_predictions(
    ws: Workspace,
    path: str | Path | None,
    fmt: str | None = None,
    *,
    min_confidence: float = 0.0,
    overwrite: bool = False,
    predictions: Predictions | None = None,
    classifier=None,
    phase: Phase = silent,
) -> PredictionExport:
    """Write predictions for the unlabelled pool to ``path`` (rows with confidence at least
    ``min_confidence``). ``predictions`` (from :func:`predict_unlabelled`) or a fitted
    ``classifier`` avoid training again; ``path=None`` only computes them."""
    if not 0.0 <= min_confidence <= 1.0:
        raise ExportError(f"--min-confidence must be between 0 and 1, not {min_confidence}")
    if path is not None:
        path = Path(path)
        fmt = resolve_format(path, fmt)
        check_output(path, fmt, overwrite)  # refuse before minutes of training, not after
    if predictions is None:
        predictions = predict_unlabelled(ws, classifier, phase=phase)
    kept = predictions.above(min_confidence)
    if path is not None and fmt == "dataset" and not len(kept):
        raise ExportError(
            f"no unlabelled headline is predicted with confidence ≥ {min_confidence:g}, and a "
            f"dataset folder with no rows cannot be loaded again; nothing was written to {path}. "
            f"Lower --min-confidence, or export to .csv, .jsonl or .parquet"
        )
    if path is not None:
        rows = predictions.rows(ws.store, kept, phase(f"write {path.name}", len(kept)))
        write_rows(path, rows, PREDICTION_COLUMNS, fmt, overwrite=overwrite)
    return PredictionExport(path, fmt, len(kept), len(predictions), predictions)

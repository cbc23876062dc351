"""Exporting a workspace: the labelled set with provenance, and the model's predictions for
every unlabelled headline, as CSV, JSON Lines, Parquet or a Hugging Face dataset folder.

Every export loads back with ``activelabel init NEW --corpus FILE --id-column id`` (the labels
file has its label in ``label``; a predictions file becomes a "silver" corpus with
``--label-column predicted``). Predictions above a confidence threshold can also be sent to the
workspace's Label Studio project as pre-annotated tasks, for people to review rather than label.

Only item data and label provenance are written: never a token, password or server address.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from activelabel.errors import ActiveLabelError
from activelabel.progress import Phase, silent
from activelabel.store import now
from activelabel.workspace import Workspace

FORMATS = ("csv", "jsonl", "parquet", "dataset")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
#: settings key of the store holding the headlines already sent to Label Studio for review
REVIEW_KEY = "review_pushed"
REVIEW_ARM = "review"

# (column, type) in file order; types: "str", "int", "float"
LABEL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "str"),
    ("text", "str"),
    ("label", "str"),
    ("source", "str"),
    ("annotator", "str"),
    ("round", "int"),
    ("task_id", "int"),
    ("annotation_id", "int"),
    ("labelled_at", "str"),
)
SPLIT_COLUMN = ("split", "str")
PREDICTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "str"),
    ("text", "str"),
    ("predicted", "str"),
    ("confidence", "float"),
    ("top2", "str"),
    ("top2_confidence", "float"),
)
#: the source written for test-set rows: their label is the gold label of the corpus file
TEST_SOURCE = "corpus"


class ExportError(ActiveLabelError):
    """An export cannot be written as asked (existing output, unknown format, no labels...)."""


# -- formats and writing ---------------------------------------------------------------------


def resolve_format(path: str | Path, fmt: str | None = None) -> str:
    """The format to write ``path`` in: ``fmt`` if given, else from the suffix (.csv, .jsonl,
    .parquet) or a folder (no suffix, or an existing folder) for ``datasets.save_to_disk``.

    A file format must agree with the suffix, because ``activelabel init`` reads the format
    from the suffix: a CSV written to ``out.txt`` would not load back.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    known = ", ".join(SUFFIXES)
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise ExportError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
        if fmt != "dataset" and SUFFIXES.get(suffix) != fmt:
            wanted = [s for s, f in SUFFIXES.items() if f == fmt][0]
            raise ExportError(
                f"{path}: a {fmt} export needs a '{wanted}' file name (activelabel init reads "
                f"the format from the suffix); rename it, e.g. {path.with_suffix(wanted).name}"
            )
        return fmt
    if suffix in SUFFIXES and not path.is_dir():
        return SUFFIXES[suffix]
    if not suffix or path.is_dir():
        return "dataset"
    raise ExportError(
        f"{path}: unknown format '{suffix}'; use a {known} file, a folder name without a "
        f"suffix (a Hugging Face dataset), or --format"
    )


def _is_dataset_folder(path: Path) -> bool:
    return path.is_dir() and any(
        (path / name).exists() for name in ("dataset_info.json", "state.json", "dataset_dict.json")
    )


def _check_output(path: Path, fmt: str, overwrite: bool) -> None:
    if not path.exists() and not path.is_symlink():
        return
    if not overwrite:
        raise ExportError(f"{path} already exists; choose another name or pass --overwrite")
    if fmt == "dataset":
        if path.is_dir() and not _is_dataset_folder(path) and any(path.iterdir()):
            raise ExportError(
                f"{path} is a folder that does not hold a saved dataset; --overwrite only "
                f"replaces an earlier export, choose another name"
            )
        if not path.is_dir():
            raise ExportError(
                f"{path} is a file; a dataset export is a folder, choose another name"
            )
    elif path.is_dir():
        raise ExportError(f"{path} is a folder; choose a file name for a {fmt} export")


def write_rows(
    path: str | Path,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    fmt: str | None = None,
    *,
    overwrite: bool = False,
) -> str:
    """Write ``rows`` (dicts keyed by the ``columns`` names) to ``path``; returns the format.

    The file is written next to its destination first and moved into place at the end, so an
    interrupted export never leaves half a file under the asked name.
    """
    path = Path(path)
    fmt = resolve_format(path, fmt)
    _check_output(path, fmt, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if partial.is_dir():
        shutil.rmtree(partial)
    else:
        partial.unlink(missing_ok=True)
    try:
        {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}.get(
            fmt, _write_dataset
        )(partial, rows, columns)
        if fmt == "dataset" and path.is_dir():
            shutil.rmtree(path)
        os.replace(partial, path)
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()
    return fmt


def _write_csv(path: Path, rows, columns) -> None:
    names = [name for name, _ in columns]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row[n] is None else row[n] for n in names])


def _write_jsonl(path: Path, rows, columns) -> None:
    names = [name for name, _ in columns]
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({n: row[n] for n in names}, ensure_ascii=False) + "\n")


def _arrow_table(rows, columns):
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}
    schema = pa.schema([(name, types[kind]) for name, kind in columns])
    return pa.table({name: [row[name] for row in rows] for name, _ in columns}, schema=schema)


def _write_parquet(path: Path, rows, columns) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_arrow_table(rows, columns), path)


def _write_dataset(path: Path, rows, columns) -> None:
    import datasets

    types = {"str": "string", "int": "int64", "float": "float64"}
    features = datasets.Features({name: datasets.Value(types[kind]) for name, kind in columns})
    data = {name: [row[name] for row in rows] for name, _ in columns}
    dataset = datasets.Dataset.from_dict(data, features=features)
    shown = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # the export has its own one-line summary
    try:
        dataset.save_to_disk(str(path))
    finally:
        if shown:
            datasets.enable_progress_bars()


# -- the labelled set ------------------------------------------------------------------------


def _plain_id(ext_id: str) -> str:
    """The id the corpus file gave (``init`` stores ``pool:<id>`` and ``test:<id>``)."""
    return ext_id.split(":", 1)[1] if ext_id.startswith(("pool:", "test:")) else ext_id


def label_rows(ws: Workspace, include_test: bool = False) -> list[dict[str, Any]]:
    """One row per pool item with an active label, with its provenance; with ``include_test``
    also the test set's gold labels (source ``corpus``) and a ``split`` column.

    Where a test id is also a pool id (a separate ``--test`` file numbered from 1 like the
    pool), the test rows keep their ``test:`` prefix so that ids stay unique.
    """
    rows = []
    for ext_id, text, *rest in ws.store.active_label_rows():
        row = dict(
            zip([n for n, _ in LABEL_COLUMNS], [_plain_id(ext_id), text, *rest], strict=True)
        )
        if include_test:
            row["split"] = "pool"
        rows.append(row)
    if include_test:
        test = [item for item in ws.store.items("test") if item.gold is not None]
        pool_ids = {_plain_id(item.ext_id) for item in ws.store.items("pool")}
        clash = any(_plain_id(item.ext_id) in pool_ids for item in test)
        for item in test:
            rows.append(
                {
                    "id": item.ext_id if clash else _plain_id(item.ext_id),
                    "text": item.text,
                    "label": item.gold,
                    "source": TEST_SOURCE,
                    "annotator": None,
                    "round": None,
                    "task_id": None,
                    "annotation_id": None,
                    "labelled_at": None,
                    "split": "test",
                }
            )
    return rows


@dataclass
class LabelExport:
    path: Path
    format: str
    rows: int
    sources: dict[str, int]  # rows per label source (test rows: 'corpus')


def export_labels(
    ws: Workspace,
    path: str | Path,
    fmt: str | None = None,
    *,
    include_test: bool = False,
    overwrite: bool = False,
) -> LabelExport:
    """Write the labelled set of ``ws`` to ``path``."""
    path = Path(path)
    fmt = resolve_format(path, fmt)
    _check_output(path, fmt, overwrite)
    rows = label_rows(ws, include_test)
    if not rows:
        raise ExportError(
            f"{ws.path} has no labels yet; run 'activelabel round {ws.path}' and label a batch "
            f"first (or pass --include-test to export the test set)"
        )
    columns = LABEL_COLUMNS + ((SPLIT_COLUMN,) if include_test else ())
    write_rows(path, rows, columns, fmt, overwrite=overwrite)
    return LabelExport(path, fmt, len(rows), dict(Counter(r["source"] for r in rows)))


# -- predictions -----------------------------------------------------------------------------


@dataclass
class Predictions:
    """The model's predictions for every unlabelled pool item, and how it did on the test set."""

    item_ids: list[int]
    rows: list[dict[str, Any]]  # PREDICTION_COLUMNS, in pool order
    n_labels: int  # labels the model was trained on
    test_confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    test_correct: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def above(self, min_confidence: float) -> list[int]:
        """Row positions whose confidence is at least ``min_confidence``."""
        return [i for i, r in enumerate(self.rows) if r["confidence"] >= min_confidence]

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


def prediction_rows(
    items: Sequence, probabilities: np.ndarray, class_names: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows of PREDICTION_COLUMNS: the best and second-best class with their probabilities."""
    if len(items) == 0:
        return []
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :2]
    rows = []
    for item, probs, (first, second) in zip(items, probabilities, order, strict=True):
        rows.append(
            {
                "id": _plain_id(item.ext_id),
                "text": item.text,
                "predicted": class_names[int(first)],
                "confidence": round(float(probs[first]), 6),
                "top2": class_names[int(second)],
                "top2_confidence": round(float(probs[second]), 6),
            }
        )
    return rows


def train_classifier(ws: Workspace, phase: Phase = silent):
    """A classifier of the workspace's model and mode, fitted on every current pool label."""
    from activelabel.engine import LabelledPool, Trainer

    data = LabelledPool.from_workspace(ws, exclude_waiting=False)
    if not data.labelled:
        raise ExportError(
            f"{ws.path} has no labels yet, so there is no model to predict with; run "
            f"'activelabel round {ws.path}' and label a batch first"
        )
    trainer = Trainer.for_workspace(ws, data.all_texts, phase=phase)
    classifier = trainer.fit(data.labelled_texts, data.y, data.unlabelled_texts)
    return classifier, len(data.labelled)


def predict_unlabelled(
    ws: Workspace, classifier=None, n_labels: int | None = None, phase: Phase = silent
) -> Predictions:
    """Train on every current label (unless a fitted ``classifier`` is given) and predict
    every unlabelled pool item; the test set, where it has gold labels, is scored too."""
    if classifier is None:
        classifier, n_labels = train_classifier(ws, phase)
    names = ws.class_names
    labels = ws.store.active_labels()
    todo = [item for item in ws.store.items("pool") if item.id not in labels]
    texts = [item.text for item in todo]
    probabilities = (
        classifier.predict(
            texts, phase("predict unlabelled", len(texts)), embeddings=False
        ).probabilities
        if todo
        else np.zeros((0, len(names)))
    )
    result = Predictions(
        [item.id for item in todo],
        prediction_rows(todo, probabilities, names),
        n_labels if n_labels is not None else len(labels),
    )
    index = {name: i for i, name in enumerate(names)}
    test = [item for item in ws.store.items("test") if item.gold in index]
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
        _check_output(path, fmt, overwrite)  # refuse before minutes of training, not after
    if predictions is None:
        predictions = predict_unlabelled(ws, classifier, phase=phase)
    rows = [predictions.rows[i] for i in predictions.above(min_confidence)]
    if path is not None:
        write_rows(path, rows, PREDICTION_COLUMNS, fmt, overwrite=overwrite)
    return PredictionExport(path, fmt, len(rows), len(predictions.rows), predictions)


# -- review in Label Studio ------------------------------------------------------------------


def reviewed(ws: Workspace) -> dict[int, dict[str, Any]]:
    """Items already sent for review: item id -> {task_id, round, predicted, confidence,
    pushed_at}."""
    raw = ws.store.get(REVIEW_KEY)
    return {int(k): v for k, v in json.loads(raw).items()} if raw else {}


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
    from activelabel.annotators.base import BatchItem

    with ws.lock():
        store = ws.store
        if annotator is None:
            from activelabel.integrations.labelstudio.annotator import LabelStudioAnnotator

            annotator = LabelStudioAnnotator.for_workspace(ws)
        labels = store.active_labels()
        done = reviewed(ws)
        has_task = store.awaiting() | store.skipped()
        round_ = max(store.next_round() - 1, 0)  # the model version the project pre-selects
        batch, already, in_ls = [], 0, 0
        for i in predictions.above(min_confidence):
            item_id, row = predictions.item_ids[i], predictions.rows[i]
            if item_id in labels:
                continue
            if item_id in done:
                already += 1
            elif item_id in has_task:
                in_ls += 1
            else:
                batch.append(
                    BatchItem(
                        item_id,
                        row["text"],
                        round_,
                        row["predicted"],
                        row["confidence"],
                        arm=REVIEW_ARM,
                    )
                )
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


def count_by(rows: Iterable[dict[str, Any]], column: str) -> dict[str, int]:
    return dict(Counter(r[column] for r in rows).most_common())

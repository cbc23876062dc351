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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from activelabel.compute.stream import CHUNK_SIZE
from activelabel.errors import ActiveLabelError
from activelabel.progress import Advance, Phase, silent
from activelabel.store import Store, now
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
    rows: Iterable[dict[str, Any]],
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
    _staging(partial).unlink(missing_ok=True)  # what a killed dataset export left
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


def _arrow_schema(columns):
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}
    return pa.schema([(name, types[kind]) for name, kind in columns])


def _arrow_batches(rows: Iterable[dict[str, Any]], schema) -> Iterator:
    """Record batches of at most ``CHUNK_SIZE`` rows (so a large export never holds them all)."""
    import pyarrow as pa

    def batch_of(part: list[dict[str, Any]]):
        return pa.record_batch(
            [[row[name] for row in part] for name in schema.names], schema=schema
        )

    part: list[dict[str, Any]] = []
    for row in rows:
        part.append(row)
        if len(part) == CHUNK_SIZE:
            yield batch_of(part)
            part = []
    if part:
        yield batch_of(part)


def _write_parquet(path: Path, rows, columns) -> None:
    import pyarrow.parquet as pq

    schema = _arrow_schema(columns)
    with pq.ParquetWriter(path, schema) as writer:
        for batch in _arrow_batches(rows, schema):
            writer.write_batch(batch)


def _write_dataset(path: Path, rows, columns) -> None:
    """Rows streamed to an Arrow file next to ``path``, memory-mapped as a dataset and saved
    with ``datasets.save_to_disk``."""
    import datasets
    import pyarrow as pa

    types = {"str": "string", "int": "int64", "float": "float64"}
    features = datasets.Features({name: datasets.Value(types[kind]) for name, kind in columns})
    schema = features.arrow_schema
    staging = _staging(path)
    try:
        with pa.OSFile(str(staging), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            for batch in _arrow_batches(rows, schema):
                writer.write_batch(batch)
        dataset = datasets.Dataset.from_file(str(staging))
        shown = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()  # the export has its own one-line summary
        try:
            dataset.save_to_disk(str(path))
        finally:
            if shown:
                datasets.enable_progress_bars()
    finally:
        staging.unlink(missing_ok=True)


def _staging(path: Path) -> Path:
    return path.with_name(f"{path.name}.arrow")


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
        clash = _clashes(ws, {_plain_id(item.ext_id) for item in test})
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


def _clashes(ws: Workspace, plain_ids: set[str]) -> bool:
    """Whether a pool item's id (as the corpus file gave it) is one of ``plain_ids``."""
    named = [prefix + plain for plain in plain_ids for prefix in ("pool:", "test:", "")]
    return any(_plain_id(e) in plain_ids for e in ws.store.existing_ext_ids(named, "pool"))


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
                    "id": _plain_id(ext_id),
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
    from activelabel.compute import pool_predictor

    if classifier is None:
        classifier, n_labels = train_classifier(ws, phase)
    store, names = ws.store, ws.class_names
    labelled = np.fromiter(store.active_labels(), dtype=np.int64)
    todo = len(np.setdiff1d(store.item_ids("pool"), labelled))
    ids = np.zeros(todo, dtype=np.int64)
    top = np.zeros((todo, 2), dtype=np.int32)
    confidence = np.zeros((todo, 2), dtype=np.float64)
    done = 0

    def numbered() -> Iterator[tuple[int, list[str]]]:
        nonlocal done
        for chunk_ids, texts in store.item_chunks("pool", CHUNK_SIZE, exclude=labelled):
            if done + len(chunk_ids) > todo:
                raise ExportError(f"{ws.path}: the pool grew during the export; run it again")
            ids[done : done + len(chunk_ids)] = chunk_ids
            yield done, texts
            done += len(chunk_ids)

    if todo:
        progress = phase("predict unlabelled", todo)
        predict = pool_predictor(ws.config.compute, classifier, progress)
        for rows, prediction in predict(numbered(), False):
            top[rows], confidence[rows] = top_two(prediction.probabilities)
    result = Predictions(
        ids[:done],
        top[:done],
        confidence[:done],
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
        _check_output(path, fmt, overwrite)  # refuse before minutes of training, not after
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


# -- review in Label Studio ------------------------------------------------------------------


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
    from activelabel.annotators.base import BatchItem

    with ws.lock("an export for review"):
        store = ws.store
        if annotator is None:
            from activelabel.integrations.labelstudio.annotator import LabelStudioAnnotator

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


def count_by(rows: Iterable[dict[str, Any]], column: str) -> dict[str, int]:
    return dict(Counter(r[column] for r in rows).most_common())

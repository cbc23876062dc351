"""Load a corpus from the user's file: CSV/TSV, JSON Lines, Parquet or a saved HF dataset folder."""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from activelabel.corpus.records import Corpus, Record
from activelabel.errors import CorpusError

FORMATS = ".csv, .tsv, .jsonl, .parquet or a folder saved with datasets.save_to_disk"


def load_corpus_file(
    path: str | Path,
    text_column: str = "text",
    label_column: str | None = "label",
    id_column: str | None = None,
) -> Corpus:
    """Read records from ``path``. ``label_column`` may be absent from the file when it is the
    default ``label`` (an unlabelled pool); a missing id column falls back to the row number."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    rows = _rows(path)
    return Corpus(str(path), list(_records(path, rows, text_column, label_column, id_column)))


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    suffix = path.suffix.lower()
    if path.is_dir():
        return _dataset_rows(path)
    if suffix in (".csv", ".tsv"):
        return _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl_rows(path)
    if suffix == ".parquet":
        return _parquet_rows(path)
    raise CorpusError(f"{path}: unknown format '{suffix}'; use {FORMATS}")


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            f"{path}: line {line} is not UTF-8 (byte {exc.start}); re-save the file as UTF-8, "
            f"e.g. iconv -f latin1 -t utf-8"
        ) from exc


def _csv_rows(path: Path, delimiter: str) -> Iterator[dict[str, Any]]:
    # newline="": only \n, \r and \r\n end a row, as the csv module expects; characters such
    # as U+2028 or form feed stay inside the text (str.splitlines would break rows there).
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""), delimiter=delimiter)
    try:
        if not reader.fieldnames:
            raise CorpusError(f"{path}: the file is empty; it needs a header row and data rows")
        for row in reader:
            if None in row:
                raise CorpusError(
                    f"{path}: row {reader.line_num} has more fields than the header; "
                    f"quote texts that contain '{delimiter}'"
                )
            yield row
    except csv.Error as exc:
        raise CorpusError(f"{path}: row {reader.line_num}: {_one_line(exc)}") from exc


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    # JSON Lines are separated by \n only (a \r before it is whitespace to the JSON parser).
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}: line {number} is not valid JSON ({exc.msg})") from exc
        except (ValueError, RecursionError) as exc:  # e.g. a 5,000-digit number, deep nesting
            raise CorpusError(
                f"{path}: line {number} is not valid JSON ({_one_line(exc)})"
            ) from exc
        if not isinstance(row, dict):
            raise CorpusError(
                f"{path}: line {number} is not a JSON object; each line needs one "
                f'{{"text": ..., "label": ...}} object'
            )
        yield row


def _parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise CorpusError(
            f"{path}: not a readable Parquet file ({_one_line(exc)}); write it with "
            f"pandas.DataFrame.to_parquet or pyarrow, or use .csv/.jsonl"
        ) from exc
    yield from rows


def _dataset_rows(path: Path) -> Iterator[dict[str, Any]]:
    import datasets

    try:
        dataset = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises FileNotFoundError, ValueError, ...
        raise CorpusError(
            f"{path}: not a folder saved with datasets.save_to_disk ({_one_line(exc)}); "
            f"use {FORMATS}"
        ) from exc
    if isinstance(dataset, datasets.DatasetDict):
        split = "train" if "train" in dataset else next(iter(dataset))
        dataset = dataset[split]
    names = dataset.features
    label_feature = next((f for f in names.values() if isinstance(f, datasets.ClassLabel)), None)
    for row in dataset:
        if label_feature is not None:
            row = {
                k: names[k].int2str(v) if isinstance(names[k], datasets.ClassLabel) else v
                for k, v in row.items()
            }
        yield row


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, shortened: for messages quoted inside ours."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_columns(path: Path, columns: Iterable[str], wanted: dict[str, str | None]) -> None:
    columns = list(columns)
    for option, column in wanted.items():
        if column is None or column in columns:
            continue
        same_case = [c for c in columns if c.lower() == column.lower()]
        close = same_case or difflib.get_close_matches(column, columns, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise CorpusError(
            f"{path}: no column '{column}' (given by {option}); the file has "
            f"{', '.join(map(repr, columns)) or 'no columns'}{hint}"
        )


def _records(
    path: Path,
    rows: Iterator[dict[str, Any]],
    text_column: str,
    label_column: str | None,
    id_column: str | None,
) -> Iterator[Record]:
    """Records of ``rows``: text, id and label are stripped of surrounding white space; an
    empty label means 'unlabelled'; an empty text or id, or a repeated id, is an error."""
    seen_ids: dict[str, int] = {}
    checked = False
    label_column = label_column or None  # '' (--label-column ''): ignore labels
    for number, row in enumerate(rows, start=1):
        if not checked:
            label_column = _check_first_row(path, row, text_column, label_column, id_column)
            checked = True
        text = row.get(text_column)
        text = "" if text is None else str(text).strip()
        if not text:
            raise CorpusError(
                f"{path}: row {number} has an empty '{text_column}'; fill it in or remove the row"
            )
        if id_column:
            raw_id = row.get(id_column)
            ext_id = "" if raw_id is None else str(raw_id).strip()
            if not ext_id:
                raise CorpusError(
                    f"{path}: row {number} has an empty id in '{id_column}'; fill it in, or "
                    f"leave out --id-column to number the rows"
                )
        else:
            ext_id = str(number)
        if ext_id in seen_ids:
            raise CorpusError(
                f"{path}: row {number} repeats id '{ext_id}' of row {seen_ids[ext_id]}; "
                f"ids in '{id_column}' must be unique"
            )
        seen_ids[ext_id] = number
        label = row.get(label_column) if label_column else None
        label = None if label is None or str(label).strip() == "" else str(label).strip()
        yield Record(ext_id, text, label)
    if not checked:
        raise CorpusError(f"{path}: the file has no data rows")


def _check_first_row(
    path: Path, row: dict[str, Any], text_column: str, label_column: str | None, id: str | None
) -> str | None:
    """Check the columns named by the options; returns the label column to use (``None``:
    unlabelled). The default ``label`` may be absent (an unlabelled pool), unless a column
    with a near-identical name (``Label``, ``labels``) suggests a typo."""
    columns = list(row.keys())
    wanted = {"--text-column": text_column, "--id-column": id}
    if label_column not in (None, "label") or (label_column and label_column in row):
        wanted["--label-column"] = label_column
    elif label_column:
        lowered = {c.lower(): c for c in columns}
        close = difflib.get_close_matches("label", list(lowered), n=1, cutoff=0.8)
        if close:
            raise CorpusError(
                f"{path}: no column 'label', but there is '{lowered[close[0]]}'; pass "
                f"--label-column '{lowered[close[0]]}' (or --label-column '' for an "
                f"unlabelled pool)"
            )
        label_column = None
    _check_columns(path, columns, wanted)
    return label_column

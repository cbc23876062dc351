"""Load a corpus from the user's file: CSV/TSV, JSON Lines, Parquet or a saved HF dataset folder."""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import unicodedata
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
    source, split = split_of(str(path))
    path = Path(source)
    check_readable(path)
    if label_column and label_column == text_column:
        raise CorpusError(
            f"{path}: --text-column and --label-column both name '{text_column}'; the labels "
            f"must be in another column (or pass --label-column '' for an unlabelled pool)"
        )
    rows = _rows(path, split)
    name = Path(f"{path}::{split}") if split else path
    return Corpus(str(name), list(_records(name, rows, text_column, label_column, id_column)))


def check_readable(path: Path) -> None:
    """A regular file or a folder: a FIFO, socket or device would block or never end."""
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    if not (path.is_file() or path.is_dir()):
        raise CorpusError(
            f"{path}: not a regular file (a pipe, socket or device); save the data to a file "
            f"and pass that"
        )


def dataset_splits(path: str | Path) -> list[str]:
    """The split names of a ``datasets.DatasetDict`` folder (``[]`` for anything else)."""
    path = Path(path)
    if not path.is_dir() or not (path / "dataset_dict.json").is_file():
        return []
    try:
        splits = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8"))["splits"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [str(s) for s in splits] if isinstance(splits, list) else []


def split_of(source: str) -> tuple[str, str | None]:
    """``folder::test`` names the split ``test`` of a saved DatasetDict; returns (path, split)."""
    path, sep, split = source.rpartition("::")
    return (path, split) if sep and path else (source, None)


def _rows(path: Path, split: str | None = None) -> Iterator[dict[str, Any]]:
    suffix = path.suffix.lower()
    if path.is_dir():
        return _dataset_rows(path, split)
    if suffix in (".csv", ".tsv"):
        return _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    if suffix == ".json" and _starts_an_array(path):
        return _json_array_rows(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl_rows(path)
    if suffix == ".parquet":
        return _parquet_rows(path)
    raise CorpusError(f"{path}: unknown format '{suffix}'; use {FORMATS}")


def _starts_an_array(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"[")


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:200].count(b"\x00") * 4 > len(
            data[:200]
        ):
            raise CorpusError(
                f"{path}: the file is UTF-16, not UTF-8; re-save it as UTF-8, e.g. "
                f"iconv -f utf-16 -t utf-8 (or 'Save as CSV UTF-8' in a spreadsheet)"
            ) from exc
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            f"{path}: line {line} is not UTF-8 (byte {exc.start}); re-save the file as UTF-8, "
            f"e.g. iconv -f latin1 -t utf-8"
        ) from exc


#: longest CSV field read (the csv module's default, 128 KiB, refused long texts that the
#: project's own exports write)
FIELD_LIMIT = 1 << 30


def _csv_rows(path: Path, delimiter: str) -> Iterator[dict[str, Any]]:
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    # newline="": only \n, \r and \r\n end a row, as the csv module expects; characters such
    # as U+2028 or form feed stay inside the text (str.splitlines would break rows there).
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""), delimiter=delimiter)
    try:
        if not reader.fieldnames:
            raise CorpusError(f"{path}: the file is empty; it needs a header row and data rows")
        _check_header(path, list(reader.fieldnames), delimiter)
        for row in reader:
            if None in row:
                raise CorpusError(
                    f"{path}: row {reader.line_num} has more fields than the header; "
                    f"quote texts that contain '{delimiter}'"
                )
            yield row
    except csv.Error as exc:
        raise CorpusError(f"{path}: row {reader.line_num}: {_one_line(exc)}") from exc


def _check_header(path: Path, header: list[str], delimiter: str) -> None:
    names = [name.strip() for name in header]
    for i, name in enumerate(names):
        if name and name in names[:i]:
            raise CorpusError(
                f"{path}: the header names column '{name}' twice (columns {names.index(name) + 1} "
                f"and {i + 1}); rename one of them"
            )
    if len(header) == 1:
        for other, word in ((";", "';'"), ("\t", "tab"), ("|", "'|'"), (",", "','")):
            if other != delimiter and other in header[0]:
                expected = "tab" if delimiter == "\t" else f"'{delimiter}'"
                raise CorpusError(
                    f"{path}: the header is separated by {word}, but a {path.suffix} file is "
                    f"read with {expected} between columns; re-save it with {expected} "
                    f"(e.g. 'CSV UTF-8 (comma delimited)')"
                    + (" or name it .tsv" if other == "\t" else "")
                )


class DuplicateKey(ValueError):
    """A JSON object names a key twice (``json`` would keep the last silently)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in pairs:
        if key in row:
            raise DuplicateKey(key)
        row[key] = value
    return row


def _json_array_rows(path: Path) -> Iterator[dict[str, Any]]:
    """A ``.json`` file holding one array of objects (instead of JSON Lines)."""
    try:
        rows = json.loads(_read_text(path), object_pairs_hook=_unique_keys)
    except DuplicateKey as exc:
        raise CorpusError(
            f"{path}: an object of the JSON array names the key '{exc}' twice; keep one"
        ) from exc
    except (ValueError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else _one_line(exc)
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise CorpusError(f"{path}: not valid JSON{where} ({detail})") from exc
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise CorpusError(
                f"{path}: element {number} of the JSON array is not an object; each element "
                f'needs one {{"text": ..., "label": ...}} object'
            )
        yield row


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    # JSON Lines are separated by \n only (a \r before it is whitespace to the JSON parser).
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, object_pairs_hook=_unique_keys)
        except DuplicateKey as exc:
            raise CorpusError(
                f"{path}: line {number} names the key '{exc}' twice (only the last would be "
                f"read); keep one"
            ) from exc
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


def _dataset_rows(path: Path, split: str | None = None) -> Iterator[dict[str, Any]]:
    import datasets

    try:
        dataset = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises FileNotFoundError, ValueError, ...
        raise CorpusError(
            f"{path}: not a folder saved with datasets.save_to_disk ({_one_line(exc)}); "
            f"use {FORMATS}"
        ) from exc
    if isinstance(dataset, datasets.DatasetDict):
        if split is None:
            split = "train" if "train" in dataset else next(iter(dataset))
        if split not in dataset:
            raise CorpusError(
                f"{path}: the saved dataset has no split '{split}'; it has "
                f"{', '.join(map(repr, dataset))}"
            )
        dataset = dataset[split]
    elif split is not None:
        raise CorpusError(f"{path}: '::{split}' names a split, but the folder holds one dataset")
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
        if text is not None and not isinstance(text, str):
            raise CorpusError(
                f"{path}: row {number} has {_kind(text)} in '{text_column}', not a text; "
                f"texts must be strings (quote numbers, join lists before loading)"
            )
        text = "" if text is None else text.strip()
        if not text:
            raise CorpusError(
                f"{path}: row {number} has an empty '{text_column}'; fill it in or remove the row"
            )
        if is_invisible(text):
            raise CorpusError(
                f"{path}: row {number} has only invisible characters in '{text_column}' "
                f"({_codepoints(text)}); fill it in or remove the row"
            )
        if id_column:
            raw_id = row.get(id_column)
            if isinstance(raw_id, bool | dict | list | tuple | bytes) or (
                isinstance(raw_id, float) and not raw_id.is_integer()
            ):
                raise CorpusError(
                    f"{path}: row {number} has {_kind(raw_id)} as its id in '{id_column}'; ids "
                    f"must be texts or whole numbers"
                )
            if isinstance(raw_id, float):  # 7.0 from pandas: the id 7
                raw_id = int(raw_id)
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
        if isinstance(label, float):  # a class number from pandas; NaN: no label
            label = None if math.isnan(label) else int(label) if label.is_integer() else label
        if isinstance(label, dict | list | tuple | bytes | float):
            raise CorpusError(
                f"{path}: row {number} has {_kind(label)} in '{label_column}', not a label; "
                f"labels must be topic names (or class numbers of a datasets ClassLabel)"
            )
        label = None if label is None or str(label).strip() == "" else str(label).strip()
        yield Record(ext_id, text, label)
    if not checked:
        raise CorpusError(f"{path}: the file has no data rows")


#: characters that are letters or symbols to Unicode but show as blank space
BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_blank(char: str) -> bool:
    """A character that shows nothing: white space, a control or format character (NUL,
    zero-width space, soft hyphen, ...), a lone combining mark or variation selector (U+034F,
    U+FE0F) or a blank letter (Hangul fillers, the blank Braille pattern)."""
    return char.isspace() or char in BLANKS or unicodedata.category(char) in ("Cc", "Cf", "Mn")


def is_ignorable(char: str) -> bool:
    """A character that changes nothing a reader sees in a text: a control or format
    character (not white space), the combining grapheme joiner, a variation selector or a
    blank letter. Accents (other combining marks) are not ignorable."""
    code = ord(char)
    return (
        (unicodedata.category(char) in ("Cc", "Cf") and not char.isspace())
        or char in BLANKS
        or code == 0x034F
        or 0x180B <= code <= 0x180F
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def is_invisible(text: str) -> bool:
    """True when ``text`` shows nothing: only characters for which :func:`is_blank` holds."""
    return all(is_blank(c) for c in text)


def _codepoints(text: str, limit: int = 3) -> str:
    shown = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(text))
    return shown if len(set(text)) <= limit else ", ".join(shown.split(", ")[:limit]) + ", …"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


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

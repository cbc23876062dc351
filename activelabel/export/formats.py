"""Writing rows to a file a workspace can be created from again: CSV, JSON Lines, Parquet or a
Hugging Face dataset folder, chosen by suffix or ``--format``, written next to the destination
and moved into place at the end.

Every export loads back with ``activelabel init NEW --corpus FILE --id-column id``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from activelabel.errors import ActiveLabelError

FORMATS = ("csv", "jsonl", "parquet", "dataset")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
ARROW_BATCH = 8_192  # rows per Arrow record batch, so a large export never holds them all


class ExportError(ActiveLabelError):
    """An export cannot be written as asked (existing output, unknown format, no labels...)."""


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


def check_output(path: Path, fmt: str, overwrite: bool) -> None:
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
    check_output(path, fmt, overwrite)
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
    """Record batches of at most ``ARROW_BATCH`` rows."""
    import pyarrow as pa

    def batch_of(part: list[dict[str, Any]]):
        return pa.record_batch(
            [[row[name] for row in part] for name in schema.names], schema=schema
        )

    part: list[dict[str, Any]] = []
    for row in rows:
        part.append(row)
        if len(part) == ARROW_BATCH:
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

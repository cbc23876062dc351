"""The labelled set of a workspace with its provenance (who labelled what, when, in which
round and task), and optionally the test set's gold labels. The file loads back with
``activelabel init NEW --corpus FILE --id-column id``; its label is in ``label``.

Only item data and label provenance are written: never a token, password or server address.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activelabel.export.formats import ExportError, check_output, resolve_format, write_rows
from activelabel.workspace import Workspace

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
#: the source written for test-set rows: their label is the gold label of the corpus file
TEST_SOURCE = "corpus"


def plain_id(ext_id: str) -> str:
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
        row = dict(zip([n for n, _ in LABEL_COLUMNS], [plain_id(ext_id), text, *rest], strict=True))
        if include_test:
            row["split"] = "pool"
        rows.append(row)
    if include_test:
        test = [item for item in ws.store.items("test") if item.gold is not None]
        clash = _clashes(ws, {plain_id(item.ext_id) for item in test})
        for item in test:
            rows.append(
                {
                    "id": item.ext_id if clash else plain_id(item.ext_id),
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
    return any(plain_id(e) in plain_ids for e in ws.store.existing_ext_ids(named, "pool"))


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
    check_output(path, fmt, overwrite)
    rows = label_rows(ws, include_test)
    if not rows:
        raise ExportError(
            f"{ws.path} has no labels yet; run 'activelabel round {ws.path}' and label a batch "
            f"first (or pass --include-test to export the test set)"
        )
    columns = LABEL_COLUMNS + ((SPLIT_COLUMN,) if include_test else ())
    write_rows(path, rows, columns, fmt, overwrite=overwrite)
    return LabelExport(path, fmt, len(rows), dict(Counter(r["source"] for r in rows)))

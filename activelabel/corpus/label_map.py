"""A user's label mapping (``init --label-map FILE``): CSV rows ``from,to`` that rename the
corpus's own labels to topics of the taxonomy."""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from pathlib import Path

from activelabel.corpus.loaders import check_readable
from activelabel.corpus.records import Corpus, Record
from activelabel.errors import ConfigError, CorpusError


@dataclass(frozen=True)
class LabelMap:
    path: str
    targets: dict[str, str]  # user label -> taxonomy topic
    rows: dict[str, int]  # user label -> row number in the file

    def apply(self, corpus: Corpus) -> Corpus:
        """``corpus`` with every mapped label renamed; other labels stay as they are."""
        return Corpus(
            corpus.name,
            [
                Record(r.ext_id, r.text, self.targets.get(r.label, r.label))
                if r.label is not None
                else r
                for r in corpus.records
            ],
        )


def _closest(name: str, topics: list[str]) -> str:
    lowered = {t.lower(): t for t in topics}
    contains = [t for t in topics if name.lower() in t.lower() or t.lower() in name.lower()]
    close = contains or [
        lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=1)
    ]
    return f"; did you mean '{close[0]}'?" if close else f"; the topics are: {', '.join(topics)}"


def load_label_map(path: str | Path, topics: list[str], taxonomy: str) -> LabelMap:
    """Read ``path`` (CSV with a ``from,to`` header); every ``to`` must be one of ``topics``."""
    path = Path(path)
    try:
        check_readable(path)
    except CorpusError as exc:
        raise ConfigError(f"--label-map {exc}") from None
    if path.is_dir():
        raise ConfigError(f"--label-map {path}: a folder; give a CSV file with columns from,to")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"--label-map {path}: not UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip() for name in reader.fieldnames or []]
    if "from" not in header or "to" not in header:
        raise ConfigError(
            f"--label-map {path}: the first row must be the header 'from,to' (your label, the "
            f"taxonomy topic); it is {','.join(header) or 'empty'}"
        )
    reader.fieldnames = header
    targets: dict[str, str] = {}
    rows: dict[str, int] = {}
    try:
        for row in reader:
            number = reader.line_num
            source = (row.get("from") or "").strip()
            target = (row.get("to") or "").strip()
            if not source and not target:
                continue
            if not source or not target:
                raise ConfigError(
                    f"--label-map {path}: row {number} needs both a 'from' label and a 'to' "
                    f"topic; it has from='{source}', to='{target}'"
                )
            if target not in topics:
                raise ConfigError(
                    f"--label-map {path}: row {number} maps '{source}' to '{target}', which is "
                    f"not a topic of the taxonomy '{taxonomy}'{_closest(target, topics)}"
                )
            if source in targets and targets[source] != target:
                raise ConfigError(
                    f"--label-map {path}: row {number} maps '{source}' to '{target}', but row "
                    f"{rows[source]} maps it to '{targets[source]}'; keep one of them"
                )
            targets[source], rows[source] = target, rows.get(source, number)
    except csv.Error as exc:
        raise ConfigError(f"--label-map {path}: row {reader.line_num}: {exc}") from exc
    if not targets:
        raise ConfigError(f"--label-map {path}: no rows below the header 'from,to'")
    return LabelMap(str(path), targets, rows)

"""The in-memory corpus: ordered records with an id, a text and an optional gold label."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    ext_id: str
    text: str
    label: str | None = None


@dataclass
class Corpus:
    """Records from one source. ``name`` says where they came from (file path or built-in name)."""

    name: str
    records: list[Record]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.records]

    @property
    def labels(self) -> list[str | None]:
        return [r.label for r in self.records]

    def label_counts(self) -> Counter[str]:
        return Counter(r.label for r in self.records if r.label is not None)

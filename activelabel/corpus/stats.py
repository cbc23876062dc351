"""Corpus statistics: label counts and shares, headline length per label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activelabel.corpus.records import Corpus


@dataclass(frozen=True)
class LabelStats:
    label: str
    count: int
    share: float
    mean_words: float
    sd_words: float


def label_stats(corpus: Corpus) -> list[LabelStats]:
    """One row per label (``(unlabelled)`` for records without one), most frequent first."""
    lengths: dict[str, list[int]] = {}
    for record in corpus.records:
        lengths.setdefault(record.label or "(unlabelled)", []).append(len(record.text.split()))
    total = len(corpus) or 1
    rows = [
        LabelStats(
            label,
            len(words),
            len(words) / total,
            float(np.mean(words)),
            float(np.std(words, ddof=1)) if len(words) > 1 else 0.0,
        )
        for label, words in lengths.items()
    ]
    return sorted(rows, key=lambda row: (-row.count, row.label))

"""Shared fixtures: a tiny random BERT (fast, offline) and small corpora written to disk."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from activelabel.testing import tiny_bert

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # one test process per core: torch's own threads would only fight over the same cores
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A 2-layer, 64-wide random BERT with the MiniLM tokenizer, saved as a local model folder."""
    return tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


TOPICS = {
    "sport": [
        "wins the cup final",
        "striker scores twice",
        "coach sacked after defeat",
        "tennis star reaches semi-final",
        "rugby team names captain",
    ],
    "politics": [
        "minister resigns over vote",
        "election date announced",
        "party leader attacks plan",
        "parliament debates new bill",
        "government faces rebellion",
    ],
    "science and technology": [
        "new phone chip unveiled",
        "software flaw found in browser",
        "internet speeds double",
        "games console sales soar",
        "researchers build faster laptop",
    ],
}


def write_corpus(
    path: Path,
    repeats: int = 6,
    template: str = "{phrase} ({copy})",
    topics: dict[str, list[str]] = TOPICS,
) -> Path:
    """A small labelled CSV corpus (ids r1, r2, ...): topics x phrasings x repeats, with unique
    texts made by ``template``."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        n = 0
        for copy in range(repeats):
            for label, phrases in topics.items():
                for phrase in phrases:
                    n += 1
                    text = template.format(phrase=phrase, copy=copy)
                    writer.writerow([f"r{n}", text, label])
    return path


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus.csv")


def label_history(store, item_id: int) -> list[tuple]:
    """Every label an item has had, oldest first, with its provenance and status."""
    return store.db.execute(
        "SELECT label, source, annotator, round, task_id, annotation_id, status FROM labels "
        "WHERE item_id = ? ORDER BY id",
        (item_id,),
    ).fetchall()

"""A workspace's pool, labels and test set as the engine uses them: texts and class indices."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from activelabel.compute import CHUNK_SIZE
from activelabel.errors import ActiveLabelError
from activelabel.store import Item
from activelabel.workspace import Workspace

Chunk = tuple[np.ndarray, list[str]]  # item ids (or row numbers), texts
MAX_LENGTH_SAMPLE = 5000  # texts a classifier's max length is fitted on (see fit_max_length)
UNLABELLED_SAMPLE = 20_000  # unlabelled texts a learner of a streamed round trains on, at most


class UnknownLabels(ActiveLabelError):
    """Labels in the state are not classes of the workspace (e.g. the taxonomy was edited)."""


def _check_labels(ws: Workspace, labels: dict[int, str], index: dict[str, int]) -> None:
    unknown = sorted({label for label in labels.values() if label not in index})
    if unknown:
        count = sum(1 for label in labels.values() if label not in index)
        raise UnknownLabels(
            f"{ws.path}: {count} labels are not classes of this workspace "
            f"({', '.join(map(repr, unknown[:3]))}{', ...' if len(unknown) > 3 else ''}); "
            f"add them back to taxonomy.labels in {ws.path / 'activelabel.toml'} "
            f"(labels are kept, never dropped)"
        )


@dataclass
class Candidates:
    """The texts a selection chooses from, as chunks of ``(ids, texts)``: a list in memory, or
    the pool streamed from the store. Row ``i`` of a scoring is the ``i``-th text streamed."""

    size: int
    chunks: Callable[[], Iterator[Chunk]]

    @classmethod
    def of(cls, texts: Sequence[str], size: int = CHUNK_SIZE) -> Candidates:
        def chunks() -> Iterator[Chunk]:
            for start in range(0, len(texts), size):
                part = list(texts[start : start + size])
                yield np.arange(start, start + len(part)), part

        return cls(len(texts), chunks)


@dataclass
class StreamedPool:
    """A live round's view of the workspace that never holds the pool as Python objects: the
    labelled and test items (small), the candidates' ids (an array) and their texts streamed
    from the store in chunks."""

    ws: Workspace
    class_names: list[str]
    pool_ids: np.ndarray  # every pool item, in id order
    labelled: list[Item]
    y: np.ndarray
    candidate_ids: np.ndarray  # not labelled, not waiting for a label, not skipped; id order
    excluded: np.ndarray
    test: list[Item]
    test_gold: np.ndarray

    @classmethod
    def from_workspace(cls, ws: Workspace) -> StreamedPool:
        store, names = ws.store, ws.class_names
        index = {name: i for i, name in enumerate(names)}
        labels = store.active_labels()
        _check_labels(ws, labels, index)
        texts = store.texts(labels, split="pool")
        labelled = [Item(i, "", texts[i], None, "pool") for i in sorted(texts)]
        pool_ids = store.item_ids("pool")
        excluded = np.array(
            sorted(set(labels) | store.awaiting() | store.skipped()), dtype=np.int64
        )
        test = [item for item in store.items("test") if item.gold in index]
        return cls(
            ws=ws,
            class_names=names,
            pool_ids=pool_ids,
            labelled=labelled,
            y=np.array([index[labels[item.id]] for item in labelled], dtype=np.int64),
            candidate_ids=np.setdiff1d(pool_ids, excluded),
            excluded=excluded,
            test=test,
            test_gold=np.array([index[item.gold] for item in test], dtype=np.int64),
        )

    @property
    def labelled_texts(self) -> list[str]:
        return [item.text for item in self.labelled]

    @property
    def candidates(self) -> Candidates:
        store, excluded = self.ws.store, self.excluded
        return Candidates(
            len(self.candidate_ids),
            lambda: store.item_chunks("pool", CHUNK_SIZE, exclude=excluded),
        )

    def sample_texts(self) -> list[str]:
        """The texts a classifier fits its max length on: the first ``MAX_LENGTH_SAMPLE`` of the
        pool, then the test set."""
        return self.ws.store.first_texts(MAX_LENGTH_SAMPLE)

    def unlabelled_texts(self, rng: np.random.Generator) -> list[str]:
        """Pool texts without a label, for learners that train on unlabelled data: all of them
        in pool order up to ``UNLABELLED_SAMPLE``, a seeded sample of that many beyond."""
        labelled = np.array([item.id for item in self.labelled], dtype=np.int64)
        ids = np.setdiff1d(self.pool_ids, labelled)
        if len(ids) > UNLABELLED_SAMPLE:
            ids = np.sort(rng.choice(ids, UNLABELLED_SAMPLE, replace=False))
        texts = self.ws.store.texts(ids.tolist())
        return [texts[int(i)] for i in ids]

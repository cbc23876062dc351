"""A workspace's pool, labels and test set as the engine uses them: texts and class indices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activelabel.errors import ActiveLabelError
from activelabel.store import Item
from activelabel.workspace import Workspace


class UnknownLabels(ActiveLabelError):
    """Labels in the state are not classes of the workspace (e.g. the taxonomy was edited)."""


@dataclass
class LabelledPool:
    """The pool in item order, which of its items are labelled (as class indices), which may
    still be picked, and the test items that have a gold class."""

    class_names: list[str]
    pool: list[Item]
    labelled: list[Item]
    y: np.ndarray  # class index of each labelled item
    candidates: list[Item]  # not labelled, not waiting for a label, not skipped
    test: list[Item]
    test_gold: np.ndarray

    @classmethod
    def from_workspace(cls, ws: Workspace, *, exclude_waiting: bool = True) -> LabelledPool:
        store, names = ws.store, ws.class_names
        index = {name: i for i, name in enumerate(names)}
        labels = store.active_labels()
        unknown = sorted({label for label in labels.values() if label not in index})
        if unknown:
            count = sum(1 for label in labels.values() if label not in index)
            raise UnknownLabels(
                f"{ws.path}: {count} labels are not classes of this workspace "
                f"({', '.join(map(repr, unknown[:3]))}{', ...' if len(unknown) > 3 else ''}); "
                f"add them back to taxonomy.labels in {ws.path / 'activelabel.toml'} "
                f"(labels are kept, never dropped)"
            )
        pool = store.items("pool")
        excluded = set(labels)
        if exclude_waiting:
            excluded |= store.awaiting() | store.skipped()
        labelled = [item for item in pool if item.id in labels]
        test = [item for item in store.items("test") if item.gold in index]
        return cls(
            class_names=names,
            pool=pool,
            labelled=labelled,
            y=np.array([index[labels[item.id]] for item in labelled], dtype=np.int64),
            candidates=[item for item in pool if item.id not in excluded],
            test=test,
            test_gold=np.array([index[item.gold] for item in test], dtype=np.int64),
        )

    @property
    def labelled_texts(self) -> list[str]:
        return [item.text for item in self.labelled]

    @property
    def candidate_texts(self) -> list[str]:
        return [item.text for item in self.candidates]

    @property
    def unlabelled_texts(self) -> list[str]:
        """Every pool text without a label (what a learner may use as unlabelled data)."""
        labelled = {item.id for item in self.labelled}
        return [item.text for item in self.pool if item.id not in labelled]

    @property
    def all_texts(self) -> list[str]:
        return [item.text for item in self.pool] + [item.text for item in self.test]

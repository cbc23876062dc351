"""The oracle: reveals the held-back gold label of every pushed item (simulations, demos)."""

from __future__ import annotations

from activelabel.annotators.base import Annotator, BatchItem, Pulled, ReviewTask
from activelabel.errors import AnnotatorError
from activelabel.store import NewLabel, ReviewAnswer, Store, now


class OracleAnnotator(Annotator):
    name = "oracle"

    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def for_workspace(cls, ws) -> OracleAnnotator:
        return cls(ws.store)

    def push(self, batch: list[BatchItem]) -> dict[int, int | None]:
        return {item.item_id: None for item in batch}

    def pull(self) -> Pulled:
        rows = self.store.pushed_with_gold()
        missing = [item for item, _, gold in rows if gold is None]
        if missing:
            raise AnnotatorError(
                f"the oracle annotator needs gold labels, but {len(missing)} selected items have "
                f"none; set loop.annotator = 'labelstudio' for an unlabelled corpus"
            )
        return Pulled(
            labels=[NewLabel(item, gold, "oracle", "oracle", rnd) for item, rnd, gold in rows]
        )

    def push_review(self, tasks: list[ReviewTask]) -> dict[int, int | None]:
        return {task.review_id: None for task in tasks}

    def pull_review(self) -> list[ReviewAnswer]:
        """Every waiting review answered with the gold label (a perfect reviewer)."""
        waiting = self.store.reviews(waiting=True)
        gold = self.store.golds(r.item_id for r in waiting)
        missing = [r.item_id for r in waiting if gold.get(r.item_id) is None]
        if missing:
            raise AnnotatorError(
                f"the oracle reviewer needs gold labels, but {len(missing)} flagged items have "
                f"none; review them in Label Studio (loop.annotator = 'labelstudio')"
            )
        stamp = now()
        return [
            ReviewAnswer(r.item_id, gold[r.item_id], "oracle", answered_at=stamp) for r in waiting
        ]

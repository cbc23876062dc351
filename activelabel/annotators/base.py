"""The annotator contract: ``push`` a batch to people (or an oracle), ``pull`` their labels."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from activelabel.store import NewLabel


@dataclass(frozen=True)
class BatchItem:
    item_id: int
    text: str
    round: int
    predicted: str | None = None
    confidence: float | None = None
    arm: str = "active"


@dataclass
class Pulled:
    """What the annotators did since the last pull."""

    labels: list[NewLabel] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # item ids the annotators skipped
    retracted: list[int] = field(default_factory=list)  # item ids whose labels were deleted
    problems: list[str] = field(default_factory=list)  # e.g. a choice outside the taxonomy


class Annotator(ABC):
    name: str

    @abstractmethod
    def push(self, batch: list[BatchItem]) -> dict[int, int | None]:
        """Send the batch; returns item id -> task id (None where the backend has no tasks).

        Pushing an item that was pushed before must not create a second task.
        """

    @abstractmethod
    def pull(self) -> Pulled:
        """Every label made so far; applying the same pull twice changes nothing."""

"""The annotator contract: ``push`` a batch to people (or an oracle), ``pull`` their labels."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from activelabel.errors import AnnotatorError
from activelabel.store import NewLabel, ReviewAnswer


@dataclass(frozen=True)
class BatchItem:
    item_id: int
    text: str
    round: int
    predicted: str | None = None
    confidence: float | None = None
    arm: str = "active"
    reason: str | None = None  # why it was picked, for the annotator


@dataclass
class Pulled:
    """What the annotators did since the last pull: everything the round records, in its one
    transaction (an annotator reads, it never writes the state itself)."""

    labels: list[NewLabel] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # item ids the annotators skipped
    retracted: list[int] = field(default_factory=list)  # item ids whose labels were deleted
    problems: list[str] = field(default_factory=list)  # e.g. a choice outside the taxonomy
    resend: list[int] = field(default_factory=list)  # items whose tasks vanished: push again
    source: str = ""  # the annotator's name, for the raw annotations below
    # raw annotations (annotation_id, item_id, task_id, annotator, choice, cancelled,
    # created_at, updated_at), and the ids still present (the rest were deleted); None: no
    # raw annotations to keep (the oracle)
    annotations: list[tuple] = field(default_factory=list)
    present_annotations: set[int] | None = None


@dataclass(frozen=True)
class ReviewTask:
    """A flagged label sent back for review: the label it has and the model's suggestion."""

    review_id: int
    item_id: int
    text: str
    label: str
    suggested: str
    reason: str
    batch: int


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

    def push_review(self, tasks: list[ReviewTask]) -> dict[int, int | None]:
        """Send flagged labels for review; returns review id -> task id (None: no tasks)."""
        raise AnnotatorError(f"the {self.name} annotator cannot review labels")

    def pull_review(self) -> list[ReviewAnswer]:
        """The reviewers' answers so far (one per answered review); pulling twice is harmless."""
        return []

    def refresh(self, waiting: list[BatchItem], round: int) -> int:
        """Show the guess of round ``round``'s model on items pushed earlier and still waiting
        (``waiting[i].round`` is the round each was sent in); returns how many were updated.

        Backends without a labelling page have nothing to update.
        """
        return 0

"""Turning the annotations of one item into one label (pure logic, no server).

Rules:

- a *cancelled* annotation (the annotator pressed Skip) never counts as a vote;
- a non-cancelled annotation whose choice is not exactly one topic of the taxonomy is
  *invalid*: it is reported, never used as a label;
- the label is the topic with most valid votes; a tie goes to the tied topic whose latest vote
  was updated last (then the higher annotation id);
- an item whose annotations are all cancelled is *skipped*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "Annotation",
    "InvalidAnnotation",
    "Resolution",
    "extract_choices",
    "resolve_item",
]

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Annotation:
    """One annotation of one task, as plain data."""

    annotation_id: int
    task_id: int
    item_id: int | None
    annotator: int | None  # Label Studio user id (completed_by)
    created_at: str  # ISO 8601, as Label Studio gives it
    updated_at: str
    choices: tuple[str, ...]  # the topic choice(s) in the result; normally exactly one
    was_cancelled: bool = False
    annotator_email: str | None = None

    @property
    def choice(self) -> str | None:
        """The single chosen topic, or None when there is none or more than one."""
        return self.choices[0] if len(self.choices) == 1 else None


@dataclass(frozen=True)
class InvalidAnnotation:
    """A non-cancelled annotation that cannot be used as a label."""

    annotation_id: int
    task_id: int
    item_id: int | None
    choice: str | None  # what was chosen (several choices joined with " | "), None if nothing
    reason: str


@dataclass(frozen=True)
class Resolution:
    """The outcome for one item."""

    item_id: int
    label: str | None  # None when skipped, or when every vote is invalid
    skipped: bool  # every annotation was cancelled
    votes: Mapping[str, int] = field(default_factory=dict)
    decided_by: int | None = None  # annotation id of the latest vote for ``label``
    tie: bool = False  # the label was chosen among tied topics by recency
    annotations: tuple[Annotation, ...] = ()
    invalid: tuple[InvalidAnnotation, ...] = ()

    @property
    def annotator(self) -> int | None:
        """Label Studio user id behind ``decided_by``."""
        for ann in self.annotations:
            if ann.annotation_id == self.decided_by:
                return ann.annotator
        return None


def extract_choices(result: Any, from_name: str | None = None) -> tuple[str, ...]:
    """The chosen values of the ``choices`` results (of ``from_name`` when given) of an
    annotation result list."""
    if not isinstance(result, Sequence) or isinstance(result, str | bytes):
        return ()
    picked: list[str] = []
    for region in result:
        if not isinstance(region, Mapping) or region.get("type") != "choices":
            continue
        if from_name is not None and region.get("from_name") != from_name:
            continue
        value = region.get("value")
        values = value.get("choices") if isinstance(value, Mapping) else None
        if isinstance(values, Sequence) and not isinstance(values, str | bytes):
            picked.extend(str(v) for v in values)
    return tuple(picked)


def _when(stamp: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return _EPOCH
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _recency(ann: Annotation) -> tuple[datetime, int]:
    return (_when(ann.updated_at or ann.created_at), ann.annotation_id)


def resolve_item(
    item_id: int, annotations: Iterable[Annotation], topic_names: Collection[str]
) -> Resolution:
    """Resolve the annotations of one item into a :class:`Resolution` (see module rules)."""
    anns = tuple(sorted(annotations, key=lambda a: a.annotation_id))
    topics = set(topic_names)
    valid: list[Annotation] = []
    invalid: list[InvalidAnnotation] = []
    for ann in anns:
        if ann.was_cancelled:
            continue
        if not ann.choices:
            invalid.append(
                InvalidAnnotation(ann.annotation_id, ann.task_id, item_id, None, "no topic chosen")
            )
        elif len(ann.choices) > 1:
            invalid.append(
                InvalidAnnotation(
                    ann.annotation_id,
                    ann.task_id,
                    item_id,
                    " | ".join(ann.choices),
                    "more than one topic chosen",
                )
            )
        elif ann.choices[0] not in topics:
            invalid.append(
                InvalidAnnotation(
                    ann.annotation_id,
                    ann.task_id,
                    item_id,
                    ann.choices[0],
                    "not a topic of the taxonomy",
                )
            )
        else:
            valid.append(ann)
    if not valid:
        return Resolution(
            item_id=item_id,
            label=None,
            skipped=bool(anns) and not invalid,
            annotations=anns,
            invalid=tuple(invalid),
        )
    votes = Counter(ann.choices[0] for ann in valid)
    top = max(votes.values())
    tied = {label for label, count in votes.items() if count == top}
    latest = max((ann for ann in valid if ann.choices[0] in tied), key=_recency)
    return Resolution(
        item_id=item_id,
        label=latest.choices[0],
        skipped=False,
        votes=dict(sorted(votes.items())),
        decided_by=latest.annotation_id,
        tie=len(tied) > 1,
        annotations=anns,
        invalid=tuple(invalid),
    )

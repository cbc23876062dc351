"""Pulling the annotations of a project and resolving them into one label per item."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from label_studio_sdk import LabelStudio

from .client import call
from .errors import LabelStudioError
from .project import CHOICES_NAME
from .resolve import Annotation, InvalidAnnotation, Resolution, extract_choices, resolve_item
from .tasks import item_id_from_data, list_tasks

__all__ = ["PullResult", "pull_annotations", "parse_annotation", "EXPORT_TIMEOUT"]

#: the export of a large project may take a while
EXPORT_TIMEOUT = 600.0


@dataclass
class PullResult:
    """Everything a pull found in a project.

    ``tasks`` maps every task present on the server to its item id (None for tasks activelabel
    did not create), so the caller can see which pushed tasks were deleted there.
    ``items`` holds one :class:`Resolution` per item with at least one annotation.
    """

    project_id: int
    tasks: dict[int, int | None] = field(default_factory=dict)
    items: dict[int, Resolution] = field(default_factory=dict)
    #: item ids that have more than one task in the project (their annotations are merged)
    duplicate_tasks: dict[int, list[int]] = field(default_factory=dict)
    #: annotations of tasks that activelabel did not create (no ``activelabel_id``)
    foreign_annotations: list[Annotation] = field(default_factory=list)

    @property
    def task_ids(self) -> set[int]:
        """Ids of all tasks present in the project."""
        return set(self.tasks)

    @property
    def labels(self) -> dict[int, str]:
        """``{item_id: label}`` for every item with a resolved label."""
        return {i: r.label for i, r in self.items.items() if r.label is not None}

    @property
    def skipped(self) -> list[int]:
        """Item ids whose annotations were all cancelled (skipped by the annotator)."""
        return sorted(i for i, r in self.items.items() if r.skipped)

    @property
    def invalid(self) -> list[InvalidAnnotation]:
        """Annotations whose choice is not one topic of the taxonomy (never used as labels)."""
        return [inv for r in self.items.values() for inv in r.invalid]

    @property
    def annotations(self) -> list[Annotation]:
        """Every annotation of every item (cancelled ones included)."""
        return [a for r in self.items.values() for a in r.annotations]

    @property
    def annotation_ids(self) -> set[int]:
        """Ids of all annotations present, to detect annotations deleted on the server."""
        return {a.annotation_id for a in self.annotations}

    def missing_tasks(self, pushed: Mapping[int, int]) -> dict[int, int]:
        """Of ``pushed`` (``{item_id: task_id}``), the entries whose task is no longer there."""
        return {item: task for item, task in pushed.items() if task not in self.tasks}


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def parse_annotation(
    raw: Mapping[str, Any],
    task_id: int,
    item_id: int | None,
    emails: Mapping[int, str] | None = None,
) -> Annotation:
    """One annotation of a Label Studio export as an :class:`Annotation`."""
    annotator = _int_or_none(raw.get("completed_by"))
    return Annotation(
        annotation_id=int(raw["id"]),
        task_id=task_id,
        item_id=item_id,
        annotator=annotator,
        annotator_email=(emails or {}).get(annotator) if annotator is not None else None,
        created_at=str(raw.get("created_at") or ""),
        updated_at=str(raw.get("updated_at") or raw.get("created_at") or ""),
        choices=extract_choices(raw.get("result"), CHOICES_NAME),
        was_cancelled=bool(raw.get("was_cancelled", False)),
    )


def _export_annotated(client: LabelStudio, project_id: int) -> list[dict[str, Any]]:
    action = f"exporting the annotations of project {project_id}"

    def fetch() -> bytes:
        return b"".join(
            client.projects.exports.download_sync(
                project_id,
                export_type="JSON",
                download_all_tasks=False,
                request_options={"timeout": EXPORT_TIMEOUT, "max_retries": 0},
            )
        )

    body = call(client, action, fetch, read=True)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise LabelStudioError(
            f"Label Studio sent an export that is not JSON while {action}: see the server log"
        ) from exc
    if not isinstance(data, list):
        raise LabelStudioError(
            f"Label Studio sent an unexpected export while {action}: see the server log"
        )
    return data


def _user_emails(client: LabelStudio) -> dict[int, str]:
    users = call(client, "listing the users", lambda: client.users.list(), read=True)
    return {int(u.id): str(u.email) for u in users or [] if u.id is not None and u.email}


def pull_annotations(
    client: LabelStudio, project_id: int, topic_names: Collection[str]
) -> PullResult:
    """Read every task and annotation of the project and resolve one label per item.

    Two to three requests for any project size up to a few thousand tasks: the task index
    (paged, ids and counts only), one export of the annotated tasks (with every annotation,
    cancelled ones included), and the user list (for annotator e-mails).
    """
    result = PullResult(project_id=project_id)
    refs = list_tasks(client, project_id)
    by_item: dict[int, list[int]] = defaultdict(list)
    for ref in refs:
        result.tasks[ref.task_id] = ref.item_id
        if ref.item_id is not None:
            by_item[ref.item_id].append(ref.task_id)
    if not any(ref.total_annotations or ref.cancelled_annotations for ref in refs):
        # nothing annotated yet; the export is skipped
        result.duplicate_tasks = {i: sorted(t) for i, t in by_item.items() if len(t) > 1}
        return result
    exported = _export_annotated(client, project_id)
    emails = _user_emails(client)
    anns_by_item: dict[int, list[Annotation]] = defaultdict(list)
    for task in exported:
        if not isinstance(task, Mapping) or "id" not in task:
            continue
        task_id = int(task["id"])
        item_id = item_id_from_data(task.get("data"))
        if task_id not in result.tasks:  # created between the index and the export
            result.tasks[task_id] = item_id
            if item_id is not None:
                by_item[item_id].append(task_id)
        for raw in task.get("annotations") or []:
            if not isinstance(raw, Mapping) or "id" not in raw:
                continue
            ann = parse_annotation(raw, task_id, item_id, emails)
            if item_id is None:
                result.foreign_annotations.append(ann)
            else:
                anns_by_item[item_id].append(ann)
    topics = set(topic_names)
    for item_id, anns in sorted(anns_by_item.items()):
        result.items[item_id] = resolve_item(item_id, anns, topics)
    result.duplicate_tasks = {i: sorted(t) for i, t in by_item.items() if len(t) > 1}
    return result

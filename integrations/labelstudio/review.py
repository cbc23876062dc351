"""Review tasks: labels sent back to the project for a second look.

A review task shows the headline, the label it has and the model's suggestion (pre-selected as
a prediction), and why the label is suspected. Its data carries ``activelabel_review`` (the
review id in the workspace) instead of ``activelabel_id``, so the ordinary pull never takes a
review answer for a first label; ``kind = "review"`` puts it in the project's own "Label review"
tab. Submitting the suggestion changes the label; picking the label it has confirms it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from label_studio_sdk import LabelStudio

from .client import call
from .errors import LabelStudioError
from .project import CHOICES_NAME, GUESS_KEY, TEXT_NAME, WHY_KEY
from .pull import _export_annotated, _user_emails, parse_annotation
from .resolve import Annotation, resolve_item
from .tasks import iter_tasks

__all__ = [
    "KIND_KEY",
    "REVIEW_KEY",
    "REVIEW_KIND",
    "VIEW_TITLE",
    "ReviewPush",
    "ReviewResponse",
    "ensure_review_view",
    "pull_review_answers",
    "push_review_tasks",
    "refresh_review_predictions",
    "review_payload",
]

#: task data key holding the review id of a review task
REVIEW_KEY = "activelabel_review"
#: task data key and value that mark a review task (the "Label review" tab filters on it)
KIND_KEY = "kind"
REVIEW_KIND = "review"
VIEW_TITLE = "Label review"


@dataclass(frozen=True)
class ReviewPush:
    review_id: int
    item_id: int
    text: str
    label: str  # the label it has
    suggested: str  # the model's suggestion, pre-selected
    reason: str
    batch: int


@dataclass(frozen=True)
class ReviewResponse:
    """The resolved answer of one review task: ``label`` None when skipped."""

    review_id: int
    item_id: int
    label: str | None
    annotator: str | None
    task_id: int
    annotation_id: int | None
    answered_at: str | None


def _choice(topic: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": CHOICES_NAME,
            "to_name": TEXT_NAME,
            "type": "choices",
            "value": {"choices": [topic]},
        }
    ]


def review_payload(item: ReviewPush, model_version: str) -> dict[str, Any]:
    """The import payload of one review task."""
    return {
        "data": {
            TEXT_NAME: item.text,
            REVIEW_KEY: item.review_id,
            "review_item": item.item_id,
            KIND_KEY: REVIEW_KIND,
            "review": item.batch,
            "label": item.label,
            "suggested": item.suggested,
            GUESS_KEY: (
                f"Label review: this headline is labelled '{item.label}'. The model suggests "
                f"'{item.suggested}' (pre-selected): Submit to change the label, or pick "
                f"'{item.label}' to keep it."
            ),
            WHY_KEY: item.reason,
        },
        "predictions": [{"model_version": model_version, "result": _choice(item.suggested)}],
    }


def _review_tasks(client: LabelStudio, project_id: int) -> list[tuple[int, dict, int]]:
    """(task id, data, annotations) of every review task of the project."""
    found: list[tuple[int, dict, int]] = []
    for task in iter_tasks(client, project_id):
        data = task.data if isinstance(task.data, dict) else {}
        if data.get(KIND_KEY) == REVIEW_KIND and isinstance(data.get(REVIEW_KEY), int):
            done = int(task.total_annotations or 0) + int(task.cancelled_annotations or 0)
            found.append((int(task.id), data, done))
    return found


def _model_version(client: LabelStudio, project_id: int, batch: int) -> str:
    """The version under which Label Studio shows predictions of the project (it shows only
    those of ``project.model_version`` when one is set)."""
    project = call(
        client,
        f"reading project {project_id}",
        lambda: client.projects.get(id=project_id),
        read=True,
    )
    return project.model_version or f"review-{batch}"


def push_review_tasks(
    client: LabelStudio, project_id: int, items: Sequence[ReviewPush]
) -> dict[int, int]:
    """Import review tasks (once per review id: a repeated push imports nothing) and return
    ``{review_id: task_id}``; makes sure the project has its "Label review" tab."""
    if not items:
        return {}
    ensure_review_view(client, project_id)
    existing = {data[REVIEW_KEY]: task for task, data, _ in _review_tasks(client, project_id)}
    todo = [it for it in items if it.review_id not in existing]
    result = {it.review_id: existing[it.review_id] for it in items if it.review_id in existing}
    if todo:
        version = _model_version(client, project_id, max(it.batch for it in todo))
        payload = [review_payload(it, version) for it in todo]
        response = call(
            client,
            f"importing {len(todo)} review tasks into project {project_id}",
            lambda: client.projects.import_tasks(
                id=project_id, request=payload, return_task_ids=True
            ),
        )
        ids = list(response.task_ids or [])
        if len(ids) != len(todo):
            listed = {d[REVIEW_KEY]: t for t, d, _ in _review_tasks(client, project_id)}
            missing = [it.review_id for it in todo if it.review_id not in listed]
            if missing:
                raise LabelStudioError(
                    f"Label Studio imported {len(ids)} of {len(todo)} review tasks into project "
                    f"{project_id}; run 'activelabel review' again to send the rest"
                )
            ids = [listed[it.review_id] for it in todo]
        result.update({it.review_id: int(t) for it, t in zip(todo, ids, strict=True)})
    return result


def refresh_review_predictions(client: LabelStudio, project_id: int) -> int:
    """Give review tasks not answered yet their suggestion under the project's current model
    version (a round changes it, and Label Studio pre-selects only that version's
    predictions); returns how many were refreshed."""
    project = call(
        client,
        f"reading project {project_id}",
        lambda: client.projects.get(id=project_id),
        read=True,
    )
    version = project.model_version
    if not version:
        return 0
    refreshed = 0
    for task_id, data, done in _review_tasks(client, project_id):
        suggested = data.get("suggested")
        if done or not isinstance(suggested, str):
            continue
        task = call(
            client, f"reading task {task_id}", lambda t=task_id: client.tasks.get(id=t), read=True
        )
        if any(getattr(p, "model_version", None) == version for p in task.predictions or []):
            continue
        call(
            client,
            f"adding the suggestion to review task {task_id}",
            lambda t=task_id, s=suggested: client.predictions.create(
                task=t, result=_choice(s), model_version=version
            ),
        )
        refreshed += 1
    return refreshed


def ensure_review_view(client: LabelStudio, project_id: int) -> None:
    """A "Label review" tab in the project showing only review tasks (made once)."""
    views = call(
        client, "listing the project's tabs", lambda: client.views.list(project=project_id)
    )
    for view in views or []:
        data = view.data if isinstance(view.data, dict) else {}
        if data.get("title") == VIEW_TITLE:
            return
    data = {
        "title": VIEW_TITLE,
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": f"filter:tasks:data.{KIND_KEY}",
                    "operator": "equal",
                    "type": "String",
                    "value": REVIEW_KIND,
                }
            ],
        },
        "hiddenColumns": {
            "explore": [f"tasks:data.{k}" for k in (GUESS_KEY, WHY_KEY, REVIEW_KEY)],
            "labeling": [],
        },
    }
    call(
        client,
        "creating the 'Label review' tab",
        lambda: client.views.create(project=project_id, data=data),
    )


def pull_review_answers(
    client: LabelStudio, project_id: int, topic_names: Collection[str]
) -> list[ReviewResponse]:
    """The resolved answer of every answered review task (same rules as ordinary tasks:
    majority of valid choices, skipped when every annotation was cancelled)."""
    tasks = {task: data for task, data, done in _review_tasks(client, project_id) if done}
    if not tasks:
        return []
    emails = _user_emails(client)
    by_review: dict[int, list[Annotation]] = defaultdict(list)
    where: dict[int, tuple[int, int]] = {}
    for task in _export_annotated(client, project_id):
        task_id = int(task.get("id", -1))
        data = tasks.get(task_id)
        if data is None:
            continue
        review, item = data[REVIEW_KEY], int(data.get("review_item", -1))
        where[review] = (task_id, item)
        for raw in task.get("annotations") or []:
            if isinstance(raw, dict) and "id" in raw:
                by_review[review].append(parse_annotation(raw, task_id, item, emails))
    answers = []
    for review, votes in sorted(by_review.items()):
        task_id, item = where[review]
        resolution = resolve_item(item, votes, set(topic_names))
        if resolution.label is None and not resolution.skipped:
            continue  # only invalid answers: the task stays open
        decisive = next((a for a in votes if a.annotation_id == resolution.decided_by), None)
        latest = max(votes, key=lambda a: a.updated_at)
        who = decisive or latest
        answers.append(
            ReviewResponse(
                review,
                item,
                resolution.label,
                who.annotator_email or (str(who.annotator) if who.annotator else None),
                task_id,
                resolution.decided_by,
                who.updated_at or None,
            )
        )
    return answers

"""Pushing headlines to a Label Studio project as tasks, with the model's prediction attached.

Every task carries ``data.activelabel_id`` (the item id in the workspace): that is how a push
is made idempotent and how annotations are mapped back to items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from label_studio_sdk import LabelStudio
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from .client import call
from .errors import LabelStudioError, LabelStudioNotFoundError, LabelStudioServerError
from .project import CHOICES_NAME, GUESS_KEY, QUEUE_SAMPLING, TEXT_NAME, WHY_KEY

__all__ = [
    "PushItem",
    "TaskRef",
    "ID_KEY",
    "IMPORT_CHUNK",
    "PAGE_SIZE",
    "task_payload",
    "item_id_from_data",
    "iter_tasks",
    "list_tasks",
    "existing_task_ids",
    "push_batch",
    "refresh_predictions",
    "set_model_version_of",
    "model_version",
]

#: task data key holding the workspace item id
ID_KEY = "activelabel_id"
#: tasks per import request (Label Studio imports 10,000 tasks in one request in seconds)
IMPORT_CHUNK = 5000
#: tasks per page when listing a project (larger pages get slower per task on the server)
PAGE_SIZE = 1000
#: an import request may take a while on a busy server
IMPORT_TIMEOUT = 600.0


@dataclass(frozen=True)
class PushItem:
    """One headline to send for labelling."""

    item_id: int
    text: str
    round: int
    predicted: str | None = None
    confidence: float | None = None
    arm: str = "active"
    reason: str | None = None


@dataclass(frozen=True)
class TaskRef:
    """A task present in a project, as listed by :func:`list_tasks`."""

    task_id: int
    item_id: int | None  # None for a task that activelabel did not create
    total_annotations: int  # not cancelled
    cancelled_annotations: int


def _as_item(item: PushItem | Mapping[str, Any]) -> PushItem:
    if isinstance(item, PushItem):
        obj = item
    else:
        try:
            obj = PushItem(
                item_id=item["item_id"],
                text=item["text"],
                round=item["round"],
                predicted=item.get("predicted"),
                confidence=item.get("confidence"),
                arm=item.get("arm", "active"),
                reason=item.get("reason"),
            )
        except (KeyError, TypeError) as exc:
            raise LabelStudioError(
                f"cannot push {item!r}: an item needs item_id, text and round"
            ) from exc
    if isinstance(obj.item_id, bool) or not isinstance(obj.item_id, int):
        raise LabelStudioError(f"cannot push item {obj.item_id!r}: item_id must be an integer")
    if not isinstance(obj.text, str) or not obj.text.strip():
        raise LabelStudioError(f"cannot push item {obj.item_id}: its text is empty")
    if obj.confidence is not None and not (
        isinstance(obj.confidence, int | float) and math.isfinite(obj.confidence)
    ):
        raise LabelStudioError(
            f"cannot push item {obj.item_id}: confidence {obj.confidence!r} is not a number"
        )
    return obj


_ARM_REASONS = {"review": "Sent for review: the model is confident; check its guess."}


def guess(predicted: str | None, confidence: float | None) -> str:
    """The model's guess as the labelling page shows it above the topics."""
    if predicted is None:
        return "No model guess yet (no labels so far): pick the topic yourself."
    sure = f" ({100 * confidence:.0f} % sure)" if confidence is not None else ""
    return f"The model's guess: {predicted}{sure}."


def model_version(round_: int) -> str:
    """The Label Studio model version of the model trained in round ``round_``."""
    return f"round-{round_}"


def task_data(it: PushItem) -> dict[str, Any]:
    """The task's data: headline, item id, round sent, arm, and the guess and reason lines."""
    return {
        TEXT_NAME: it.text,
        ID_KEY: it.item_id,
        "round": it.round,
        "arm": it.arm,
        GUESS_KEY: guess(it.predicted, it.confidence),
        WHY_KEY: it.reason or _ARM_REASONS.get(it.arm, ""),
    }


def prediction(it: PushItem, round_: int) -> dict[str, Any]:
    """The pre-annotation of ``it``: its predicted topic, by the model of round ``round_``."""
    body: dict[str, Any] = {
        "model_version": model_version(round_),
        "result": [
            {
                "from_name": CHOICES_NAME,
                "to_name": TEXT_NAME,
                "type": "choices",
                "value": {"choices": [it.predicted]},
            }
        ],
    }
    if it.confidence is not None:
        body["score"] = float(it.confidence)
    return body


def task_payload(item: PushItem | Mapping[str, Any]) -> dict[str, Any]:
    """The import payload of one task (data, and the prediction when there is one)."""
    it = _as_item(item)
    task: dict[str, Any] = {"data": task_data(it)}
    if it.predicted is not None:
        task["predictions"] = [prediction(it, it.round)]
    return task


def item_id_from_data(data: Any) -> int | None:
    if not isinstance(data, Mapping):
        return None
    value = data.get(ID_KEY)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def iter_tasks(client: LabelStudio, project_id: int, page_size: int = PAGE_SIZE) -> Iterator[Any]:
    """Every task of the project, page by page: id, data and annotation counts (no annotation
    bodies)."""
    page, seen = 1, 0
    while True:
        try:
            pager = call(
                client,
                f"listing the tasks of project {project_id}",
                lambda page=page: client.tasks.list(
                    project=project_id,
                    page=page,
                    page_size=page_size,
                    fields="task_only",
                    include="id,data,total_annotations,cancelled_annotations",
                ),
                read=True,
            )
        except LabelStudioNotFoundError:
            if page == 1:
                raise
            return  # tasks were deleted while listing: the last page went away
        items = pager.items or []
        yield from items
        seen += len(items)
        total = getattr(pager.response, "total", None)
        if not items or len(items) < page_size or (total is not None and seen >= total):
            return
        page += 1


def list_tasks(client: LabelStudio, project_id: int, page_size: int = PAGE_SIZE) -> list[TaskRef]:
    """Every task of the project: id, item id and annotation counts (no annotation bodies)."""
    return [
        TaskRef(
            task_id=int(task.id),
            item_id=item_id_from_data(task.data),
            total_annotations=int(task.total_annotations or 0),
            cancelled_annotations=int(task.cancelled_annotations or 0),
        )
        for task in iter_tasks(client, project_id, page_size)
    ]


def existing_task_ids(client: LabelStudio, project_id: int) -> dict[int, int]:
    """``{item_id: task_id}`` for the tasks activelabel created in the project (lowest task id
    wins when an item has several tasks)."""
    mapping: dict[int, int] = {}
    for ref in list_tasks(client, project_id):
        if ref.item_id is not None and (
            ref.item_id not in mapping or ref.task_id < mapping[ref.item_id]
        ):
            mapping[ref.item_id] = ref.task_id
    return mapping


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def push_batch(
    client: LabelStudio,
    project_id: int,
    items: Iterable[PushItem | Mapping[str, Any]],
    *,
    chunk_size: int = IMPORT_CHUNK,
    set_model_version: bool = True,
) -> dict[int, int]:
    """Import ``items`` as tasks and return ``{item_id: task_id}`` for every item.

    Items whose ``activelabel_id`` already has a task in the project are not imported again;
    their existing task id is returned. Tasks are imported ``chunk_size`` at a time (one request
    per chunk). If an import request fails on the way (server error, dropped connection), the
    project is listed again and only the items still missing are sent once more, so a retry
    never duplicates a task. With ``set_model_version`` the project's model version is set to
    the newest pushed round, so Label Studio pre-selects that round's predictions.
    """
    batch = [_as_item(item) for item in items]
    seen: set[int] = set()
    for it in batch:
        if it.item_id in seen:
            raise LabelStudioError(
                f"item {it.item_id} appears twice in one push: pass each item once"
            )
        seen.add(it.item_id)
    if not batch:
        return {}
    existing = existing_task_ids(client, project_id)
    result = {it.item_id: existing[it.item_id] for it in batch if it.item_id in existing}
    todo = [it for it in batch if it.item_id not in existing]
    for chunk in _chunks(todo, max(1, chunk_size)):
        result.update(_import_chunk(client, project_id, chunk))
    rounds = [it.round for it in todo if it.predicted is not None]
    if set_model_version and rounds:
        set_model_version_of(client, project_id, max(rounds))
    return result


def set_model_version_of(client: LabelStudio, project_id: int, round_: int) -> None:
    """Make round ``round_``'s predictions the ones Label Studio shows and orders by."""
    version = model_version(round_)
    call(
        client,
        f"setting the model version of project {project_id}",
        lambda: client.projects.update(
            id=project_id, model_version=version, sampling=QUEUE_SAMPLING
        ),
    )


def _versions_present(client: LabelStudio, project_id: int, version: str) -> set[int]:
    """Ids of the project's tasks that already hold a prediction of ``version``."""
    predictions = call(
        client,
        f"listing the predictions of project {project_id}",
        lambda: client.predictions.list(project=project_id),
        read=True,
    )
    return {int(p.task) for p in predictions or [] if p.model_version == version and p.task}


def refresh_predictions(
    client: LabelStudio,
    project_id: int,
    items: Iterable[PushItem | Mapping[str, Any]],
    task_ids: Mapping[int, int],
    round_: int,
) -> int:
    """Give tasks still waiting for a label the guess of the model of round ``round_``.

    Label Studio pre-selects only predictions of the project's current model version, so a
    task sent in an earlier round would open with nothing selected once a newer round is
    pushed. Each item (its ``round`` is the round it was sent in, ``predicted``, ``confidence``
    and ``reason`` are the newest model's) gets a prediction of version ``round-<round_>``
    (once: running this again adds none) and its guess and reason lines are rewritten; then the
    project's model version becomes ``round-<round_>``. Returns the number of tasks refreshed.
    Items without a task in ``task_ids`` or without a guess are left alone.
    """
    batch = [
        it
        for it in (_as_item(item) for item in items)
        if it.item_id in task_ids and it.predicted is not None
    ]
    if not batch:
        return 0
    version = model_version(round_)
    present = _versions_present(client, project_id, version)
    fresh = [it for it in batch if task_ids[it.item_id] not in present]
    for chunk in _chunks(fresh, max(1, IMPORT_CHUNK)):
        request = [{**prediction(it, round_), "task": task_ids[it.item_id]} for it in chunk]
        call(
            client,
            f"importing {len(chunk)} predictions into project {project_id}",
            lambda request=request: client.projects.import_predictions(
                id=project_id,
                request=request,
                request_options={"timeout": IMPORT_TIMEOUT, "max_retries": 0},
            ),
        )
    for it in batch:
        call(
            client,
            f"updating the guess of task {task_ids[it.item_id]}",
            lambda it=it: client.tasks.update(id=str(task_ids[it.item_id]), data=task_data(it)),
        )
    set_model_version_of(client, project_id, round_)
    return len(batch)


def _retryable_import_failure(exc: LabelStudioError) -> bool:
    """A failure after which the server may or may not hold the tasks, and is still up."""
    if isinstance(exc, LabelStudioServerError):
        return True
    cause = exc.__cause__
    return isinstance(cause, httpx.RemoteProtocolError | httpx.ReadError)


def _import_chunk(
    client: LabelStudio, project_id: int, chunk: Sequence[PushItem], retries: int = 2
) -> dict[int, int]:
    action = f"importing {len(chunk)} tasks into project {project_id}"
    pending = list(chunk)
    done: dict[int, int] = {}
    # a refused connection or a timeout is not retried: after a timeout the server may still
    # be importing, and sending again could duplicate tasks
    retrying = Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=0.5),
        retry=retry_if_exception(
            lambda exc: isinstance(exc, LabelStudioError) and _retryable_import_failure(exc)
        ),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                # the server may have imported part or all of it: look before sending again
                existing = existing_task_ids(client, project_id)
                done.update(
                    {it.item_id: existing[it.item_id] for it in pending if it.item_id in existing}
                )
                pending = [it for it in pending if it.item_id not in existing]
                if not pending:
                    return done
            payload = [task_payload(it) for it in pending]
            response = call(
                client,
                action,
                lambda payload=payload: client.projects.import_tasks(
                    id=project_id,
                    request=payload,
                    return_task_ids=True,
                    request_options={"timeout": IMPORT_TIMEOUT, "max_retries": 0},
                ),
            )
    task_ids = list(response.task_ids or [])
    if len(task_ids) == len(pending):
        done.update({it.item_id: int(tid) for it, tid in zip(pending, task_ids, strict=True)})
        return done
    # unexpected answer: map by listing the project
    existing = existing_task_ids(client, project_id)
    missing = [it.item_id for it in pending if it.item_id not in existing]
    if missing:
        raise LabelStudioError(
            f"Label Studio imported {len(task_ids)} of {len(pending)} tasks into project "
            f"{project_id}; items {missing[:5]} are missing: see the server log and push again"
        )
    done.update({it.item_id: existing[it.item_id] for it in pending})
    return done

"""Label Studio as the workspace's annotator: push batches as tasks, pull resolved labels."""

from __future__ import annotations

from collections.abc import Iterable

from activelabel.annotators.base import Annotator, BatchItem, Pulled, ReviewTask
from activelabel.integrations.labelstudio.client import connect
from activelabel.integrations.labelstudio.errors import LabelStudioNotFoundError
from activelabel.integrations.labelstudio.link import load_link, save_link
from activelabel.integrations.labelstudio.project import ensure_project
from activelabel.integrations.labelstudio.pull import pull_annotations
from activelabel.integrations.labelstudio.tasks import (
    PushItem,
    list_tasks,
    push_batch,
    refresh_predictions,
)
from activelabel.store import NewLabel, ReviewAnswer, Store
from activelabel.workspace import Workspace

INSTRUCTIONS = (
    "Pick the one topic that fits the headline best. The model's guess of the latest round is "
    "pre-selected: if it is right, just press Submit (Ctrl+Enter); if it is wrong, click the "
    "right topic or press its key. Pressing the key of the topic already selected clears it "
    "(press it again to select it). Skip a headline only if no topic fits."
)


class LabelStudioAnnotator(Annotator):
    name = "labelstudio"

    def __init__(
        self,
        client,
        project_id: int,
        store: Store,
        class_names: list[str],
        resend: Iterable[int] = (),
    ):
        self.client = client
        self.project_id = project_id
        self.store = store
        self.class_names = class_names
        self.resend = sorted(resend)  # the batch waiting in a project that was deleted
        self.last_pull: Pulled | None = None  # what the latest pull found, for its summary

    @classmethod
    def for_workspace(cls, ws: Workspace) -> LabelStudioAnnotator:
        """Connect, and re-use the workspace's project (a new one if it was deleted)."""
        config = ws.config.labelstudio
        link = load_link(ws.path, config.url, config.token_env)
        if not link.url:
            from activelabel.errors import ConfigError

            raise ConfigError(
                f"{ws.path}: no Label Studio server; run 'activelabel labelstudio "
                f"up {ws.path}' or set labelstudio.url and LABEL_STUDIO_API_KEY"
            )
        client = connect(link.url, link.token)
        resend: set[int] = set()
        topics = [(t.name, t.description) for t in ws.taxonomy.topics]
        title = config.project_title or f"activelabel · {ws.path.resolve().name}"
        try:
            project_id = ensure_project(
                client, title, topics, INSTRUCTIONS, link.project_id or None
            )
        except LabelStudioNotFoundError:
            project_id = ensure_project(client, title, topics, INSTRUCTIONS, None)
            resend = ws.store.awaiting()  # their tasks went with the old project
        if project_id != link.project_id:
            link.project_id = project_id
            save_link(ws.path, link)
        return cls(client, project_id, ws.store, ws.class_names, resend)

    def push(self, batch: list[BatchItem]) -> dict[int, int | None]:
        items = [
            PushItem(b.item_id, b.text, b.round, b.predicted, b.confidence, b.arm, b.reason)
            for b in batch
        ]
        pushed = dict(push_batch(self.client, self.project_id, items))
        if self.store.reviews(waiting=True):  # keep their suggestions pre-selected
            from activelabel.integrations.labelstudio.review import refresh_review_predictions

            refresh_review_predictions(self.client, self.project_id)
        return pushed

    def push_review(self, tasks: list[ReviewTask]) -> dict[int, int | None]:
        from activelabel.integrations.labelstudio.review import ReviewPush, push_review_tasks

        items = [
            ReviewPush(t.review_id, t.item_id, t.text, t.label, t.suggested, t.reason, t.batch)
            for t in tasks
        ]
        return dict(push_review_tasks(self.client, self.project_id, items))

    def pull_review(self) -> list[ReviewAnswer]:
        from activelabel.integrations.labelstudio.review import pull_review_answers

        waiting = {r.id: r.item_id for r in self.store.reviews(waiting=True)}
        return [
            ReviewAnswer(a.item_id, a.label, a.annotator, a.task_id, a.annotation_id, a.answered_at)
            for a in pull_review_answers(self.client, self.project_id, self.class_names)
            if waiting.get(a.review_id) == a.item_id
        ]

    def annotated_waiting(self) -> int:
        """Headlines waiting here that have an annotation (or a skip) in Label Studio."""
        waiting = self.store.awaiting()
        return sum(
            1
            for ref in list_tasks(self.client, self.project_id)
            if ref.item_id in waiting and ref.total_annotations + ref.cancelled_annotations > 0
        )

    def refresh(self, waiting: list[BatchItem], round: int) -> int:
        task_ids = {s.item_id: s.task_id for s in self.store.selections() if s.task_id}
        items = [
            PushItem(b.item_id, b.text, b.round, b.predicted, b.confidence, b.arm, b.reason)
            for b in waiting
        ]
        return refresh_predictions(self.client, self.project_id, items, task_ids, round)

    def pull(self) -> Pulled:
        result = pull_annotations(self.client, self.project_id, self.class_names)
        rounds = {s.item_id: s.round for s in self.store.selections()}
        pulled = Pulled(source=self.name, present_annotations=result.annotation_ids)
        for item_id, resolution in result.items.items():
            if resolution.label is not None:
                decisive = next(
                    (a for a in resolution.annotations if a.annotation_id == resolution.decided_by),
                    None,
                )
                pulled.labels.append(
                    NewLabel(
                        item_id,
                        resolution.label,
                        "labelstudio",
                        annotator=(decisive.annotator_email or str(decisive.annotator))
                        if decisive
                        else None,
                        round=rounds.get(item_id),
                        task_id=decisive.task_id if decisive else None,
                        annotation_id=resolution.decided_by,
                        labelled_at=decisive.updated_at if decisive else None,
                    )
                )
        pulled.skipped = result.skipped
        for invalid in result.invalid:
            pulled.problems.append(
                f"task {invalid.task_id}: {invalid.reason} (choice {invalid.choice!r}); "
                f"not used as a label"
            )
        labelled_here = self.store.active_labels_from(self.name)
        present_items = {i for i in result.tasks.values() if i is not None}
        # a label whose annotations were all deleted (task still there) is retracted
        pulled.retracted = sorted(
            i
            for i in labelled_here
            if i in present_items
            and i not in result.labels
            and not (i in result.items and result.items[i].invalid)
        )
        vanished = [
            i
            for i in self.store.awaiting()
            if i not in present_items
            and i in {s.item_id for s in self.store.selections() if s.task_id}
        ]
        if self.resend:
            pulled.problems.append(
                f"the Label Studio project was deleted; a new one was made and the "
                f"{len(self.resend)} headlines waiting for labels are sent to it again"
            )
        elif vanished:
            pulled.problems.append(
                f"{len(vanished)} tasks were deleted in Label Studio; they will be sent again"
            )
        pulled.resend = sorted(set(vanished) | set(self.resend))
        lost = sorted(i for i in labelled_here if i not in present_items)
        if lost:
            pulled.problems.append(
                f"{len(lost)} labelled tasks were deleted in Label Studio; "
                f"their labels are kept here"
            )
        pulled.annotations = [
            (
                a.annotation_id,
                a.item_id,
                a.task_id,
                a.annotator_email or str(a.annotator),
                " | ".join(a.choices),
                int(a.was_cancelled),
                a.created_at,
                a.updated_at,
            )
            for a in result.annotations
            if a.item_id is not None
        ]
        self.last_pull = pulled
        return pulled

"""`activelabel review` against the real Label Studio server: review tasks carry the label and
the suggestion, a changed answer supersedes the label, a confirmed one is never flagged again."""

from __future__ import annotations

import tomllib

import pytest

from activelabel.integrations.labelstudio.link import Link, credentials_path, save_link
from activelabel.integrations.labelstudio.review import REVIEW_KEY, VIEW_TITLE
from activelabel.workspace import Workspace
from tests.cli import init_workspace, run
from tests.labelstudio.test_rounds import choice

pytestmark = pytest.mark.labelstudio


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model, ls_server):
    path = tmp_path / "ws"
    options = ("--id-column", "id", "--batch-size", 8, "--mode", "frozen", "--seed", 1)
    init_workspace(path, small_corpus, tiny_model, *options, "--annotator", "labelstudio")
    save_link(path, Link(url=ls_server.url, token=ls_server.token))
    return path


def tasks_of(client, project_id: int) -> dict[int, object]:
    """{item id: task} of the ordinary tasks of the project."""
    tasks = client.tasks.list(project=project_id, fields="all")
    return {t.data["activelabel_id"]: t for t in tasks if "activelabel_id" in t.data}


def annotate(client, ws: Workspace, project_id: int, round_: int) -> None:
    """Label round ``round_``'s batch with the gold labels."""
    gold = {item.id: item.gold for item in ws.store.items()}
    tasks = tasks_of(client, project_id)
    for selection in ws.store.selections(round=round_):
        task = tasks[selection.item_id]
        client.annotations.create(id=task.id, result=choice(gold[selection.item_id]))


def review_tasks(client, project_id: int) -> dict[int, object]:
    """{item id: task} of the review tasks of the project."""
    tasks = client.tasks.list(project=project_id, fields="all")
    return {t.data["review_item"]: t for t in tasks if t.data.get("kind") == "review"}


def test_review_tasks_changed_and_confirmed_labels(workspace, client, ls_server):
    assert run("round", workspace).exit_code == 0
    ws = Workspace.open(workspace)
    project_id = tomllib.loads(credentials_path(workspace).read_text())["project_id"]
    annotate(client, ws, project_id, 0)  # the gold labels, through Label Studio
    wrong = ws.store.selections(round=0)[0].item_id
    gold = {item.id: item.gold for item in ws.store.items()}
    flipped = next(n for n in ws.class_names if n != gold[wrong])
    task = tasks_of(client, project_id)[wrong]
    client.annotations.update(id=task.annotations[0]["id"], result=choice(flipped))
    assert run("round", workspace).exit_code == 0
    assert ws.store.active_labels()[wrong] == flipped

    result = run("review", workspace, "--top", 8, "--folds", 2)
    assert result.exit_code == 0, result.output
    assert "sent 8 labels for review" in result.output
    reviews = {r.item_id: r for r in ws.store.reviews()}
    assert set(reviews) == set(ws.store.active_labels())
    assert all(r.task_id for r in reviews.values())

    tasks = review_tasks(client, project_id)
    assert set(tasks) == set(reviews)
    project = client.projects.get(id=project_id)
    for item_id, task in tasks.items():
        assert task.data["label"] == ws.store.active_labels()[item_id]
        assert task.data[REVIEW_KEY] == reviews[item_id].id
        suggested = reviews[item_id].suggested
        assert suggested in task.data["guess"] and suggested != task.data["label"]
        assert task.data["why"].startswith("Suspected: a model trained without this headline")
        # the suggestion is pre-selected: a prediction under the project's model version
        (prediction,) = task.predictions
        assert prediction.model_version == project.model_version
        assert prediction.result[0]["value"]["choices"] == [suggested]
    (view,) = [v for v in client.views.list(project=project_id) if v.data["title"] == VIEW_TITLE]
    in_tab = client.tasks.list(project=project_id, view=view.id, fields="all")
    assert {t.data.get("review_item") for t in in_tab} == set(reviews)  # only review tasks

    # the reviewer restores the gold label of the flipped one and keeps another as it is
    kept = next(i for i in tasks if i != wrong)
    client.annotations.create(id=tasks[wrong].id, result=choice(gold[wrong]))
    client.annotations.create(id=tasks[kept].id, result=choice(tasks[kept].data["label"]))

    # the next round pulls the answers first and trains on the corrected label; the ordinary
    # pull (which still sees the old annotation) does not take it back
    again = run("round", workspace, "--force")
    assert again.exit_code == 0, again.output
    assert "label review answers: 1 confirmed, 1 changed (trained on), 0 skipped" in again.output
    assert ws.store.active_labels()[wrong] == gold[wrong]
    history = ws.store.db.execute(
        "SELECT label, source, annotator, status, labelled_at FROM labels WHERE item_id = ? "
        "ORDER BY id",
        (wrong,),
    ).fetchall()
    assert [(h[0], h[1], h[3]) for h in history][-2:] == [
        (flipped, "labelstudio", "superseded"),
        (gold[wrong], "review", "active"),
    ]
    assert history[-1][2] == ls_server.username and history[-1][4]
    outcomes = {r.item_id: r for r in ws.store.reviews()}
    assert outcomes[wrong].outcome == "changed" and outcomes[wrong].new_label == gold[wrong]
    assert outcomes[wrong].reviewer == ls_server.username
    assert outcomes[kept].outcome == "confirmed"
    status = run("status", workspace)
    assert "8 labels flagged, 2 reviewed (1 confirmed, 1 changed); 6 wait" in status.output
    # the round changed the project's model version: waiting reviews keep their suggestion
    version = client.projects.get(id=project_id).model_version
    assert version != project.model_version
    for item_id, task in review_tasks(client, project_id).items():
        if item_id not in (wrong, kept):
            versions = [p.model_version for p in client.tasks.get(id=task.id).predictions]
            assert version in versions

    # a reviewed label is never flagged again, and no review task is sent twice
    annotate(client, ws, project_id, 1)
    assert run("round", workspace, "--force").exit_code == 0
    second = run("review", workspace, "--top", 20, "--folds", 2)
    assert second.exit_code == 0, second.output
    new = [r for r in ws.store.reviews() if r.batch == 2]
    assert new and not {r.item_id for r in new} & set(reviews)
    assert len(review_tasks(client, project_id)) == len(ws.store.reviews())

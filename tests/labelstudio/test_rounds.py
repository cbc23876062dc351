"""`activelabel round` with Label Studio as the annotator, against the real server."""

from __future__ import annotations

import pytest

from activelabel.config import load_config, save_config
from activelabel.integrations.labelstudio.link import Link, credentials_path, save_link
from activelabel.workspace import Workspace
from tests.cli import init_workspace, run
from tests.processes import activelabel

pytestmark = pytest.mark.labelstudio


def choice(topic: str) -> list[dict]:
    return [
        {"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": [topic]}}
    ]


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model, ls_server):
    path = tmp_path / "ws"
    options = ("--id-column", "id", "--batch-size", 8, "--mode", "frozen")
    init_workspace(
        path,
        small_corpus,
        tiny_model,
        *options,
        "--annotator",
        "labelstudio",
        "--strategy",
        "margin",
    )
    save_link(path, Link(url=ls_server.url, token=ls_server.token))
    return path


def tasks_of(client, project_id: int) -> dict[int, object]:
    tasks = client.tasks.list(project=project_id, fields="all")
    return {t.data["activelabel_id"]: t for t in tasks}


def annotate(
    client, ws: Workspace, project_id: int, round_: int, skip: int = 0, limit: int | None = None
) -> None:
    gold = {item.id: item.gold for item in ws.store.items()}
    tasks = tasks_of(client, project_id)
    for n, selection in enumerate(ws.store.selections(round=round_)[:limit]):
        task = tasks[selection.item_id]
        if n < skip:
            client.annotations.create(id=task.id, result=[], was_cancelled=True)
        else:
            client.annotations.create(id=task.id, result=choice(gold[selection.item_id]))


def test_rounds_push_pull_and_guard(workspace, client):
    assert oct(credentials_path(workspace).stat().st_mode & 0o777) == "0o600"
    first = run("round", str(workspace))
    assert first.exit_code == 0, first.output
    ws = Workspace.open(workspace)
    project_id = int(
        __import__("tomllib").loads(credentials_path(workspace).read_text())["project_id"]
    )
    tasks = tasks_of(client, project_id)
    assert set(tasks) == {s.item_id for s in ws.store.selections(round=0)}
    assert all(s.task_id for s in ws.store.selections(round=0))

    # nothing labelled yet: the next round refuses without --force
    refused = run("round", str(workspace))
    assert refused.exit_code == 1 and "only 0 of the 8 headlines" in refused.output
    assert "--force" in refused.output and len(ws.store.rounds()) == 1

    annotate(client, ws, project_id, 0, skip=1)
    second = run("round", str(workspace))
    assert second.exit_code == 0, second.output
    labels = ws.store.active_labels()
    assert len(labels) == 7 and len(ws.store.skipped()) == 1
    history = ws.store.db.execute(
        "SELECT source, round, task_id, annotation_id FROM labels"
    ).fetchall()
    assert all(s == "labelstudio" and r == 0 and t and a for s, r, t, a in history)

    # round 1's batch carries the model's prediction as a pre-annotation
    tasks = tasks_of(client, project_id)
    pushed = [tasks[s.item_id] for s in ws.store.selections(round=1)]
    assert len(pushed) == 8
    assert all(t.predictions and t.predictions[0].model_version == "round-1" for t in pushed)
    skipped_item = next(iter(ws.store.skipped()))
    assert skipped_item not in {s.item_id for s in ws.store.selections(round=1)}

    # pulling again changes nothing; --force retrains with what there is
    forced = run("round", str(workspace), "--force")
    assert forced.exit_code == 0, forced.output
    assert len(ws.store.active_labels()) == 7
    assert [r.n_labels for r in ws.store.rounds()] == [0, 7, 7]


def test_wrong_token_is_a_one_line_error(workspace):
    save_link(workspace, Link(url=load_link_url(workspace), token="not-the-token"))
    result = run("round", str(workspace))
    assert result.exit_code == 1
    assert "token" in result.output.lower() and "not-the-token" not in result.output
    assert "Traceback" not in result.output


def load_link_url(workspace):
    from activelabel.integrations.labelstudio.link import load_link

    return load_link(workspace).url


def test_config_url_and_env_token_override_the_file(workspace, ls_server, monkeypatch):
    save_link(workspace, Link(url="http://127.0.0.1:9", token="wrong"))
    config = load_config(workspace)
    config.labelstudio.url = ls_server.url
    save_config(workspace, config)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.token)
    result = run("round", str(workspace))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("point", ["push", "pull-write"])
def test_killed_round_with_label_studio_duplicates_nothing(workspace, client, point):
    assert activelabel("round", str(workspace)).returncode == 0
    ws = Workspace.open(workspace)
    project_id = int(
        __import__("tomllib").loads(credentials_path(workspace).read_text())["project_id"]
    )
    annotate(client, ws, project_id, 0)
    killed = activelabel("round", str(workspace), kill_at=point)
    assert killed.returncode == -9, killed.stderr
    again = activelabel("round", str(workspace))
    assert again.returncode == 0, again.stderr
    tasks = client.tasks.list(project=project_id, fields="all")
    item_ids = [t.data["activelabel_id"] for t in tasks]
    assert len(item_ids) == len(set(item_ids)) == len(ws.store.selections())
    assert len(ws.store.active_labels()) == 8
    rows = ws.store.db.execute("SELECT count(*) FROM labels").fetchone()[0]
    assert rows == 8


def test_project_deleted_on_the_server_is_recreated_and_nothing_lost(workspace, client):
    assert run("round", str(workspace)).exit_code == 0
    ws = Workspace.open(workspace)
    link = __import__("tomllib").loads(credentials_path(workspace).read_text())
    annotate(client, ws, link["project_id"], 0)
    assert run("round", str(workspace)).exit_code == 0
    labelled = dict(ws.store.active_labels())
    client.projects.delete(id=link["project_id"])

    result = run("round", str(workspace), "--force")
    assert result.exit_code == 0, result.output
    new_id = __import__("tomllib").loads(credentials_path(workspace).read_text())["project_id"]
    assert new_id != link["project_id"]
    assert ws.store.active_labels() == labelled  # labels pulled before are all kept
    waiting = {t.data["activelabel_id"] for t in client.tasks.list(project=new_id, fields="all")}
    # round 1's unlabelled batch was sent again to the new project, with round 2's batch
    expected = {s.item_id for s in ws.store.selections() if s.round in (1, 2)}
    assert waiting == expected


def test_token_never_printed_logged_or_reported(workspace, ls_server):
    outputs = [run("round", str(workspace)).output, run("status", str(workspace)).output]
    outputs.append(run("labelstudio", "status", str(workspace)).output)
    assert run("report", str(workspace), "--source", "rounds").exit_code in (0, 1)
    for path in workspace.rglob("*"):
        if path.is_file() and path.name != "credentials.toml" and path.suffix != ".sqlite":
            outputs.append(path.read_bytes().decode("utf-8", "replace"))
    db = Workspace.open(workspace).store.db
    outputs += [
        str(row)
        for table in ("settings", "labels", "selections", "rounds")
        for row in db.execute(f"SELECT * FROM {table}")
    ]
    assert not [text for text in outputs if ls_server.token in text]


def test_pull_summary_names_new_edited_skipped_and_deleted(workspace, client):
    assert run("round", str(workspace)).exit_code == 0
    ws = Workspace.open(workspace)
    project_id = int(
        __import__("tomllib").loads(credentials_path(workspace).read_text())["project_id"]
    )
    annotate(client, ws, project_id, 0, skip=1)
    second = run("round", str(workspace))
    assert second.exit_code == 0, second.output
    second_output = " ".join(second.output.split())
    summary = "pulled: 7 new labels, 0 edited, 1 skipped (not used for training), 0 deleted"
    assert summary in second_output
    labels = ws.store.active_labels()
    tasks = tasks_of(client, project_id)
    edited, deleted = [s.item_id for s in ws.store.selections(round=0) if s.item_id in labels][:2]
    other = next(name for name in ws.class_names if name != labels[edited])
    [annotation] = client.annotations.list(id=tasks[edited].id)
    client.annotations.update(id=annotation.id, result=choice(other))
    [annotation] = client.annotations.list(id=tasks[deleted].id)
    client.annotations.delete(id=annotation.id)
    third = run("round", str(workspace), "--force")
    assert third.exit_code == 0, third.output
    third_output = " ".join(third.output.split())
    assert (
        "pulled: 0 new labels, 1 edited, 0 skipped (not used for training), "
        "1 deleted (labels withdrawn)" in third_output
    )
    assert ws.store.active_labels()[edited] == other and deleted not in ws.store.active_labels()
    # the withdrawn headline waits again, from round 0, beside the two later batches
    waiting = "17 headlines are waiting for labels (8 sent in round 2, 8 sent in round 1, 1 sent"
    assert waiting + " in round 0)" in third_output


def next_task(server, project_id: int) -> dict | None:
    """What Label Studio's queue ("Label All Tasks") serves next to the token's user."""
    import httpx

    response = httpx.get(
        f"{server.url}/api/projects/{project_id}/next",
        headers={"Authorization": f"Token {server.token}"},
        timeout=60,
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def served_guesses(task: dict) -> list[tuple[str, float, str]]:
    """(topic, score, model version) of the predictions Label Studio serves with a task (an ML
    backend connected to the project may add one of the same version)."""
    return [
        (p["result"][0]["value"]["choices"][0], p["score"], p["model_version"])
        for p in task["predictions"]
    ]


def walk_queue_to_round(server, client, ws: Workspace, project_id: int, round_: int, version):
    """Label what the queue serves (gold topic) until it serves a task sent in ``round_``;
    every task served on the way must carry the prediction of ``version``. Returns that task."""
    gold = {item.id: item.gold for item in ws.store.items()}
    for _ in range(40):
        task = next_task(server, project_id)
        assert task is not None, "the queue ran dry before serving an older task"
        guesses = served_guesses(task)
        assert guesses and {v for _, _, v in guesses} == {version}
        lines = {f"The model's guess: {t} ({100 * s:.0f} % sure)." for t, s, _ in guesses}
        assert task["data"]["guess"] in lines
        if task["data"]["round"] == round_:
            return task
        client.annotations.create(
            id=task["id"], result=choice(gold[task["data"]["activelabel_id"]])
        )
    raise AssertionError("the queue never served an older task")


def test_waiting_tasks_get_the_newest_guess_and_queue_least_sure_first(
    workspace, client, ls_server
):
    assert run("round", str(workspace)).exit_code == 0
    ws = Workspace.open(workspace)
    project_id = int(
        __import__("tomllib").loads(credentials_path(workspace).read_text())["project_id"]
    )
    gold = {item.id: item.gold for item in ws.store.items()}
    tasks = tasks_of(client, project_id)
    first_batch = ws.store.selections(round=0)
    for selection in first_batch[:3]:  # 3 of 8 labelled; 5 still waiting
        client.annotations.create(
            id=tasks[selection.item_id].id, result=choice(gold[selection.item_id])
        )
    result = run("round", str(workspace), "--force")
    assert result.exit_code == 0, result.output
    assert client.projects.get(id=project_id).model_version == "round-1"

    # every waiting task, old or new, holds a round-1 prediction, and its lines say that guess
    waiting = {s.item_id for s in first_batch[3:]} | {
        s.item_id for s in ws.store.selections(round=1)
    }
    tasks = tasks_of(client, project_id)
    stored = {s.item_id: s for s in ws.store.selections()}
    for item_id in waiting:
        [newest] = [p for p in tasks[item_id].predictions if p.model_version == "round-1"]
        topic = newest.result[0]["value"]["choices"][0]
        assert (stored[item_id].predicted, stored[item_id].confidence) == (topic, newest.score)
        assert tasks[item_id].data["guess"].startswith(f"The model's guess: {topic} (")
    for selection in first_batch[3:]:
        assert tasks[selection.item_id].data["round"] == 0
        assert tasks[selection.item_id].data["why"].startswith("Sent in round 0. ")

    # the queue serves the newest model's least sure guess first
    scores = {
        item_id: next(p.score for p in tasks[item_id].predictions if p.model_version == "round-1")
        for item_id in waiting
    }
    served = next_task(ls_server, project_id)
    assert scores[served["data"]["activelabel_id"]] == min(scores.values())

    # a task sent in round 0 comes from the queue with round 1's guess
    old = walk_queue_to_round(ls_server, client, ws, project_id, 0, "round-1")
    assert old["data"]["activelabel_id"] in {s.item_id for s in first_batch[3:]}

    # a third round refreshes again, and running it does not stack duplicate predictions
    assert run("round", str(workspace), "--force").exit_code == 0
    tasks = tasks_of(client, project_id)
    for item_id in waiting & set(ws.store.awaiting()):
        versions = [p.model_version for p in tasks[item_id].predictions]
        assert versions.count("round-2") == 1


def test_pull_summary_counts_since_the_last_trained_round(workspace, client):
    """A run refused for too few labels already stores the skip; an annotation made and then
    changed before any pull is an edit. The next round's summary counts both."""
    import time

    assert run("round", str(workspace)).exit_code == 0
    ws = Workspace.open(workspace)
    project_id = int(
        __import__("tomllib").loads(credentials_path(workspace).read_text())["project_id"]
    )
    gold = {item.id: item.gold for item in ws.store.items()}
    tasks = tasks_of(client, project_id)
    batch = ws.store.selections(round=0)
    client.annotations.create(id=tasks[batch[0].item_id].id, result=[], was_cancelled=True)
    for selection in batch[1:4]:
        client.annotations.create(
            id=tasks[selection.item_id].id, result=choice(gold[selection.item_id])
        )
    refused = run("round", str(workspace))
    assert refused.exit_code == 1 and "only 4 of the 8" in refused.output
    assert len(ws.store.skipped()) == 1  # the refused run pulled and stored the skip

    edited = batch[4].item_id
    other = next(name for name in ws.class_names if name != gold[edited])
    annotation = client.annotations.create(id=tasks[edited].id, result=choice(other))
    time.sleep(3)  # Label Studio stamps the change a few seconds after the creation
    client.annotations.update(id=annotation.id, result=choice(gold[edited]))
    forced = run("round", str(workspace), "--force")
    assert forced.exit_code == 0, forced.output
    assert (
        "pulled: 4 new labels, 1 edited, 1 skipped (not used for training), 0 deleted"
        in " ".join(forced.output.split())
    )

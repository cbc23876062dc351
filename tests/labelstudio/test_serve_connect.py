"""``activelabel serve --connect`` with a real Label Studio: it registers as the project's ML
backend (basic auth) and webhook (Authorization header) with the workspace's secret, answers
the server's predictions, an annotation made in Label Studio triggers a round, and on SIGTERM
both registrations are removed."""

from __future__ import annotations

import time
import tomllib

import pytest

from activelabel.integrations.labelstudio.link import Link, credentials_path, save_link
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run
from tests.labelstudio.test_rounds import annotate, walk_queue_to_round
from tests.test_serve import call, secret_of, start_serve, stop, wait_for_model

pytestmark = pytest.mark.labelstudio


def _registered(client, project: int) -> bool:
    hooks = client.webhooks.list(project=project)
    return bool(hooks) and all("Authorization" in (h.headers or {}) for h in hooks)


def test_serve_connects_predicts_and_rounds_on_annotations(
    tmp_path, small_corpus, tiny_model, ls_server, client
):
    path = tmp_path / "ws"
    options = ("--mode", "frozen", "--batch-size", 4, "--annotator", "labelstudio")
    init_workspace(path, small_corpus, tiny_model, *options)
    configure(path, model={"min_steps": 1})
    save_link(path, Link(url=ls_server.url, token=ls_server.token))
    assert run("round", path).exit_code == 0
    project = tomllib.loads(credentials_path(path).read_text())["project_id"]

    # one annotation made while no serve ran: the serve counts it toward its first round
    annotate(client, Workspace.open(path), project, 0, limit=1)
    process, url = start_serve(path, "--round-every", "2", "--connect")
    stopped = False
    try:
        # it answers before it has registered; Label Studio adds a webhook of its own (no
        # secret) with the ML backend, which serve replaces by one that carries the secret
        deadline = time.monotonic() + 240
        while not _registered(client, project) and time.monotonic() < deadline:
            time.sleep(0.5)
        secret = secret_of(path)
        backends = client.ml.list(project=project)
        assert [b.url.rstrip("/") for b in backends] == [url]
        assert backends[0].auth_method == "BASIC_AUTH"
        hooks = client.webhooks.list(project=project)
        assert [h.url for h in hooks] == [f"{url}/webhook"]
        assert set(hooks[0].headers) == {"Authorization"}
        wait_for_model(url, secret, "round-0")
        # Label Studio itself asks the backend (with the secret) for predictions of the tasks
        client.actions.create(
            id="retrieve_tasks_predictions", project=project, selected_items={"all": True}
        )
        tasks = list(client.tasks.list(project=project, fields="all"))
        versions = {p.model_version for t in tasks for p in (t.predictions or [])}
        assert "round-0" in versions  # the backend's answer (round 0's push has no prediction)

        # the second of round 0's 4 annotated -> 1 webhook call -> round 1 (half is done)
        ws = Workspace.open(path)
        second = ws.store.selections(round=0)[1].item_id
        [task] = [
            t
            for t in client.tasks.list(project=project, fields="all")
            if t.data["activelabel_id"] == second
        ]
        gold = {item.id: item.gold for item in ws.store.items()}
        client.annotations.create(
            id=task.id,
            result=[
                {
                    "from_name": "topic",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [gold[second]]},
                }
            ],
        )
        deadline = time.monotonic() + 180
        while len(Workspace.open(path).store.rounds()) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        ws = Workspace.open(path)
        assert len(ws.store.rounds()) == 2 and len(ws.store.active_labels()) == 2
        assert call(f"{url}/health")["status"] == "UP"
        wait_for_model(url, secret, "round-1")
        output = stop(process)
        stopped = True
        assert "a round every 2 annotations (1 made since the last round)" in output
        assert "2 annotations arrived, round 1 started" in output
        assert "round 1 done: accuracy" in output
        assert "pulled: 2 new labels, 0 edited, 0 skipped" in output
        assert "refused" not in output  # every call Label Studio made carried the secret
        assert "Removed the ML backend and webhook" in output
        assert client.ml.list(project=project) == []
        assert client.webhooks.list(project=project) == []
        # the automatic round gave round 0's waiting tasks its guess; the queue serves them so
        assert client.projects.get(id=project).model_version == "round-1"
        old = walk_queue_to_round(ls_server, client, ws, project, 0, "round-1")
        assert old["data"]["why"].startswith("Sent in round 0. ")
    finally:
        if not stopped:
            print(stop(process))  # shown with the failure

"""``activelabel serve --connect`` with a real Label Studio: it registers as the project's ML
backend and webhook, answers the server's predictions, and an annotation made in Label Studio
triggers a round."""

from __future__ import annotations

import time
import tomllib

import pytest

from activelabel.integrations.labelstudio.link import Link, credentials_path, save_link
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run
from tests.labelstudio.test_rounds import annotate
from tests.test_serve import call, start_serve, stop

pytestmark = pytest.mark.labelstudio


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

    process, url = start_serve(path, "--round-every", "4", "--connect")
    try:
        deadline = time.monotonic() + 60  # the endpoint answers before it has registered
        while not client.webhooks.list(project=project) and time.monotonic() < deadline:
            time.sleep(0.5)
        backends = client.ml.list(project=project)
        assert [b.url.rstrip("/") for b in backends] == [url]
        hooks = client.webhooks.list(project=project)
        assert [h.url for h in hooks] == [f"{url}/webhook"]
        # Label Studio itself asks the backend for predictions of the project's tasks
        client.actions.create(
            id="retrieve_tasks_predictions", project=project, selected_items={"all": True}
        )
        tasks = list(client.tasks.list(project=project, fields="all"))
        versions = {p.model_version for t in tasks for p in (t.predictions or [])}
        assert "round-0" in versions  # the backend's answer (round 0's push has no prediction)

        annotate(client, Workspace.open(path), project, 0)  # 4 annotations -> 4 webhook calls
        deadline = time.monotonic() + 180
        while len(Workspace.open(path).store.rounds()) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        ws = Workspace.open(path)
        assert len(ws.store.rounds()) == 2 and len(ws.store.active_labels()) == 4
        assert call(f"{url}/health")["status"] == "UP"
    finally:
        stop(process)

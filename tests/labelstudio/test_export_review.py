"""`activelabel export predictions --to-labelstudio`: confident predictions go to Label Studio
as pre-annotated review tasks, once, without stalling the round loop."""

from __future__ import annotations

import tomllib

import pytest

from activelabel.integrations.labelstudio.link import Link, credentials_path, save_link
from activelabel.integrations.labelstudio.prediction_review import reviewed
from activelabel.workspace import Workspace
from tests.cli import run
from tests.conftest import label_history

pytestmark = pytest.mark.labelstudio


def choice(topic: str) -> list[dict]:
    return [
        {"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": [topic]}}
    ]


def tasks_of(client, project_id: int) -> dict[int, object]:
    tasks = client.tasks.list(project=project_id, fields="all")
    return {t.data["activelabel_id"]: t for t in tasks}


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model, ls_server):
    path = tmp_path / "ws"
    result = run(
        "init", str(path), "--corpus", str(small_corpus), "--id-column", "id",
        "--model", tiny_model, "--test-size", "15", "--batch-size", "8", "--mode", "frozen",
        "--annotator", "labelstudio",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    save_link(path, Link(url=ls_server.url, token=ls_server.token))
    return path


def test_review_push_is_once_and_leaves_the_loop_alone(workspace, client, tmp_path):
    assert run("round", str(workspace)).exit_code == 0
    ws = Workspace.open(workspace)
    project_id = int(tomllib.loads(credentials_path(workspace).read_text())["project_id"])
    gold = {item.id: item.gold for item in ws.store.items()}

    def annotate(item_ids):
        tasks = tasks_of(client, project_id)
        for item_id in item_ids:
            client.annotations.create(id=tasks[item_id].id, result=choice(gold[item_id]))

    annotate([s.item_id for s in ws.store.selections(round=0)])
    second = run("round", str(workspace))
    assert second.exit_code == 0, second.output  # 8 labels; round 1 sent 8 more

    out = tmp_path / "review.csv"
    result = run(
        "export", "predictions", str(workspace), str(out),
        "--to-labelstudio", "--min-confidence", "0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # 75 pool headlines: 8 labelled, 8 waiting in round 1's batch, 59 sent for review
    assert "Sent 59 headlines" in result.output and "8 are already tasks" in result.output
    assert out.is_file()
    tasks = tasks_of(client, project_id)
    assert len(tasks) == 75
    review = {item: t for item, t in tasks.items() if t.data.get("arm") == "review"}
    assert set(review) == set(reviewed(ws)) and len(review) == 59
    for task in review.values():
        (prediction,) = task.predictions
        assert prediction.model_version == "round-1" and 0 < prediction.score <= 1
        assert prediction.result[0]["value"]["choices"][0] in ws.class_names

    # a second export sends nothing again
    again = run(
        "export", "predictions", str(workspace), "--to-labelstudio", "--min-confidence", "0"
    )
    assert again.exit_code == 0, again.output
    assert "Sent 0 headlines" in again.output and "59 were sent before" in again.output
    assert len(tasks_of(client, project_id)) == 75

    # reviews are not the loop's batch: the next round needs only round 1's 8 labels,
    # and a reviewed headline arrives as a label like any other
    annotate([s.item_id for s in ws.store.selections(round=1)])
    one_review = sorted(review)[0]
    annotate([one_review])
    third = run("round", str(workspace))
    assert third.exit_code == 0, third.output
    labels = ws.store.active_labels()
    assert len(labels) == 17 and labels[one_review] == gold[one_review]
    source = label_history(ws.store, one_review)[-1][1]
    assert source == "labelstudio"
    assert one_review not in {s.item_id for s in ws.store.selections(round=2)}

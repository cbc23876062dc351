"""The push/annotate/pull cycle against a real Label Studio server, step by step.

The tests of this module run in order and share one project (module-scoped ``flow``).
"""

from __future__ import annotations

import time

import pytest

from activelabel.integrations.labelstudio import (
    LabelStudioNotFoundError,
    PushItem,
    config_topics,
    ensure_project,
    existing_task_ids,
    pull_annotations,
    push_batch,
)

pytestmark = pytest.mark.labelstudio

TITLE = "activelabel round-trip"


def choice_result(topic: str) -> list[dict]:
    return [
        {"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": [topic]}}
    ]


def gold(topic_names: list[str], item_id: int) -> str:
    return topic_names[(item_id * 7) % len(topic_names)]


def items(topic_names, ids, round_):
    return [
        PushItem(
            item_id=i,
            text=f"Headline number {i}: markets & storms <today>",
            round=round_,
            predicted=topic_names[i % len(topic_names)],
            confidence=round(0.2 + (i % 7) / 10, 3),
            arm="active" if i % 2 else "random",
        )
        for i in ids
    ]


@pytest.fixture(scope="module")
def flow(client, topics):
    pid = ensure_project(client, TITLE, topics, "Pick the topic of the headline.")
    me = client.users.whoami()
    return {"pid": pid, "me": me.id, "pushed": {}, "annotation": {}}


def count_projects(client, title):
    return sum(1 for p in client.projects.list() if p.title == title)


def test_project_is_created_once_and_reused(client, flow, topics, topic_names):
    pid = flow["pid"]
    assert ensure_project(client, TITLE, topics, "Pick the topic of the headline.", pid) == pid
    assert count_projects(client, TITLE) == 1
    project = client.projects.get(id=pid)
    assert config_topics(project.label_config) == topic_names
    assert project.expert_instruction == "Pick the topic of the headline."


def test_changed_topics_update_the_config_not_a_new_project(client, topics):
    title = "activelabel topics change"
    pid = ensure_project(client, title, topics[:5])
    again = ensure_project(client, title, topics[:6], project_id=pid)
    assert again == pid and count_projects(client, title) == 1
    names = [name for name, _ in topics[:6]]
    assert config_topics(client.projects.get(id=pid).label_config) == names


def test_missing_project_is_reported_not_recreated(client, topics):
    with pytest.raises(LabelStudioNotFoundError, match="HTTP 404"):
        ensure_project(client, "gone", topics, project_id=987654)
    with pytest.raises(LabelStudioNotFoundError):
        push_batch(client, 987654, items([t for t, _ in topics], [1], 0))
    with pytest.raises(LabelStudioNotFoundError):
        pull_annotations(client, 987654, [t for t, _ in topics])


def test_push_200_tasks_with_predictions(client, flow, topic_names):
    t0 = time.perf_counter()
    mapping = push_batch(client, flow["pid"], items(topic_names, range(200), 0))
    print(f"\n[labelstudio] push 200: {time.perf_counter() - t0:.2f} s")
    assert sorted(mapping) == list(range(200))
    assert len(set(mapping.values())) == 200
    flow["pushed"].update(mapping)
    task = client.tasks.get(id=mapping[10])
    assert task.data["activelabel_id"] == 10 and task.data["round"] == 0
    assert task.data["text"].startswith("Headline number 10")
    (pred,) = task.predictions
    assert pred.model_version == "round-0" and pred.score == pytest.approx(0.5)
    assert pred.result[0]["value"]["choices"] == [topic_names[10]]
    assert client.projects.get(id=flow["pid"]).model_version == "round-0"


def test_annotate_50_and_pull(client, flow, topic_names):
    for i in range(50):
        result = choice_result(gold(topic_names, i))
        created = client.annotations.create(
            id=flow["pushed"][i], result=result, completed_by=flow["me"]
        )
        flow["annotation"][i] = created.id
    t0 = time.perf_counter()
    pulled = pull_annotations(client, flow["pid"], topic_names)
    print(f"[labelstudio] pull 50 of 200: {time.perf_counter() - t0:.2f} s")
    assert pulled.labels == {i: gold(topic_names, i) for i in range(50)}
    assert pulled.skipped == [] and pulled.invalid == []
    assert pulled.task_ids == set(flow["pushed"].values())
    assert pulled.missing_tasks(flow["pushed"]) == {}
    res = pulled.items[7]
    assert res.decided_by == flow["annotation"][7] and res.annotator == flow["me"]
    (a,) = res.annotations
    assert a.annotator_email == "admin@activelabel.test" and a.created_at and a.updated_at
    flow["first_pull"] = pulled


def test_next_batch_push_is_idempotent_and_pull_is_stable(client, flow, topic_names):
    # items 100..199 were pushed already: their tasks are re-used, not imported again
    mapping = push_batch(client, flow["pid"], items(topic_names, range(100, 300), 1))
    assert all(mapping[i] == flow["pushed"][i] for i in range(100, 200))
    assert len(existing_task_ids(client, flow["pid"])) == 300
    again = push_batch(client, flow["pid"], items(topic_names, range(250, 300), 1))
    assert again == {i: mapping[i] for i in range(250, 300)}
    assert len(existing_task_ids(client, flow["pid"])) == 300
    flow["pushed"].update(mapping)
    assert client.projects.get(id=flow["pid"]).model_version == "round-1"
    pulled = pull_annotations(client, flow["pid"], topic_names)
    first = flow["first_pull"]
    assert pulled.labels == first.labels
    assert pulled.annotation_ids == first.annotation_ids
    assert len(pulled.tasks) == 300


def test_relabel_changes_the_resolved_label(client, flow, topic_names):
    new = next(t for t in topic_names if t != gold(topic_names, 5))
    client.annotations.update(id=flow["annotation"][5], result=choice_result(new))
    pulled = pull_annotations(client, flow["pid"], topic_names)
    assert pulled.labels[5] == new
    assert pulled.labels[4] == gold(topic_names, 4)


def test_second_annotator_tie_and_majority(client, flow, topic_names):
    other = client.users.create(username="second", email="second@activelabel.test")
    first_label = gold(topic_names, 8)
    second_label = next(t for t in topic_names if t != first_label)
    time.sleep(0.01)
    client.annotations.create(
        id=flow["pushed"][8], result=choice_result(second_label), completed_by=other.id
    )
    pulled = pull_annotations(client, flow["pid"], topic_names)
    res = pulled.items[8]
    assert res.tie and res.label == second_label  # 1:1, the later annotation wins
    assert {a.annotator for a in res.annotations} == {flow["me"], other.id}
    # the first annotator confirms their label on a second annotation: 2:1 majority
    client.annotations.create(
        id=flow["pushed"][8], result=choice_result(first_label), completed_by=flow["me"]
    )
    res = pull_annotations(client, flow["pid"], topic_names).items[8]
    assert not res.tie and res.label == first_label and res.votes[first_label] == 2


def test_deleted_annotation_and_task_are_reported(client, flow, topic_names):
    client.annotations.delete(id=flow["annotation"][2])
    client.tasks.delete(id=flow["pushed"][3])
    pulled = pull_annotations(client, flow["pid"], topic_names)
    assert 2 not in pulled.labels and 2 not in pulled.items
    assert flow["annotation"][2] not in pulled.annotation_ids
    assert flow["first_pull"].annotation_ids - pulled.annotation_ids == {
        flow["annotation"][2],
        flow["annotation"][3],
    }
    assert pulled.missing_tasks(flow["pushed"]) == {3: flow["pushed"][3]}
    assert 3 not in pulled.labels


def test_skip_and_invalid_choice(client, flow, topic_names):
    client.annotations.create(id=flow["pushed"][60], result=[], was_cancelled=True)
    bad = client.annotations.create(
        id=flow["pushed"][61], result=choice_result("recipes and cooking")
    )
    pulled = pull_annotations(client, flow["pid"], topic_names)
    assert pulled.skipped == [60]
    assert 60 not in pulled.labels and 61 not in pulled.labels
    (inv,) = pulled.invalid
    assert (inv.annotation_id, inv.item_id, inv.choice) == (bad.id, 61, "recipes and cooking")
    assert inv.task_id == flow["pushed"][61]
    # the rest is untouched
    assert pulled.labels[0] == gold(topic_names, 0)

"""Unit tests of the pure parts: label resolution, labelling config, task payloads, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from label_studio_sdk.core.api_error import ApiError

from activelabel.errors import AnnotatorError
from activelabel.integrations.labelstudio import (
    Annotation,
    LabelStudioAuthError,
    LabelStudioError,
    LabelStudioNotFoundError,
    LabelStudioServerError,
    LabelStudioSetupError,
    LabelStudioUnavailableError,
    PushItem,
    config_topics,
    connect,
    default_venv,
    extract_choices,
    find_free_port,
    install_label_studio,
    label_config,
    label_studio_executable,
    resolve_item,
)
from activelabel.integrations.labelstudio.errors import translate_error
from activelabel.integrations.labelstudio.pull import parse_annotation
from activelabel.integrations.labelstudio.tasks import item_id_from_data, task_payload

TOPICS = ["sport", "politics", "weather"]


def ann(aid, choice, *, updated="2024-01-01T10:00:00Z", cancelled=False, user=1, task=7):
    choices = () if choice is None else (choice,) if isinstance(choice, str) else tuple(choice)
    return Annotation(
        annotation_id=aid,
        task_id=task,
        item_id=3,
        annotator=user,
        created_at=updated,
        updated_at=updated,
        choices=choices,
        was_cancelled=cancelled,
    )


def test_single_vote_is_the_label():
    res = resolve_item(3, [ann(1, "sport")], TOPICS)
    assert res.label == "sport" and not res.skipped and not res.tie
    assert res.decided_by == 1 and res.annotator == 1
    assert res.votes == {"sport": 1}


def test_majority_wins_over_recency():
    anns = [
        ann(1, "sport", updated="2024-01-01T10:00:00Z"),
        ann(2, "sport", updated="2024-01-01T11:00:00Z"),
        ann(3, "politics", updated="2024-01-02T10:00:00Z"),
    ]
    res = resolve_item(3, anns, TOPICS)
    assert res.label == "sport" and not res.tie and res.decided_by == 2


def test_tie_goes_to_latest_updated():
    anns = [
        ann(1, "sport", updated="2024-01-03T10:00:00Z"),  # relabelled later
        ann(2, "politics", updated="2024-01-02T10:00:00Z"),
    ]
    res = resolve_item(3, anns, TOPICS)
    assert res.label == "sport" and res.tie and res.decided_by == 1
    # offsets are compared as instants, not as strings
    anns = [
        ann(1, "sport", updated="2024-01-02T12:00:00+02:00"),  # 10:00 UTC
        ann(2, "politics", updated="2024-01-02T11:00:00Z"),
    ]
    assert resolve_item(3, anns, TOPICS).label == "politics"


def test_tie_with_equal_times_goes_to_higher_annotation_id():
    anns = [ann(5, "sport"), ann(4, "politics")]
    assert resolve_item(3, anns, TOPICS).label == "sport"


def test_cancelled_annotations_do_not_vote():
    anns = [ann(1, "sport", cancelled=True), ann(2, "politics")]
    res = resolve_item(3, anns, TOPICS)
    assert res.label == "politics" and res.votes == {"politics": 1}
    assert len(res.annotations) == 2


def test_only_cancelled_is_skipped():
    res = resolve_item(3, [ann(1, None, cancelled=True), ann(2, None, cancelled=True)], TOPICS)
    assert res.skipped and res.label is None and res.invalid == ()


def test_invalid_choices_are_reported_never_used():
    anns = [ann(1, "cooking"), ann(2, None), ann(3, ["sport", "politics"])]
    res = resolve_item(3, anns, TOPICS)
    assert res.label is None and not res.skipped
    reasons = {inv.annotation_id: (inv.choice, inv.reason) for inv in res.invalid}
    assert reasons[1] == ("cooking", "not a topic of the taxonomy")
    assert reasons[2] == (None, "no topic chosen")
    assert reasons[3] == ("sport | politics", "more than one topic chosen")
    # a valid vote next to an invalid one still labels the item
    res = resolve_item(3, [ann(1, "cooking"), ann(2, "weather")], TOPICS)
    assert res.label == "weather" and [i.annotation_id for i in res.invalid] == [1]


def test_no_annotations():
    res = resolve_item(3, [], TOPICS)
    assert res.label is None and not res.skipped


def test_extract_choices_filters_by_control():
    result = [
        {"from_name": "topic", "type": "choices", "value": {"choices": ["sport"]}},
        {"from_name": "other", "type": "choices", "value": {"choices": ["x"]}},
        {"from_name": "topic", "type": "textarea", "value": {"text": ["hi"]}},
        "garbage",
    ]
    assert extract_choices(result, "topic") == ("sport",)
    assert extract_choices(result) == ("sport", "x")
    assert extract_choices(None) == () and extract_choices("x") == ()


def test_parse_annotation_from_export():
    raw = {
        "id": 11,
        "completed_by": 4,
        "result": [{"from_name": "topic", "type": "choices", "value": {"choices": ["sport"]}}],
        "was_cancelled": False,
        "created_at": "2024-01-01T10:00:00Z",
        "updated_at": "2024-01-01T11:00:00Z",
    }
    a = parse_annotation(raw, task_id=9, item_id=3, emails={4: "a@b.c"})
    assert (a.annotation_id, a.annotator, a.annotator_email, a.choice) == (11, 4, "a@b.c", "sport")
    assert parse_annotation({**raw, "completed_by": {"id": 5}}, 9, 3).annotator == 5


def test_label_config_has_every_topic_hotkey_and_description():
    topics = [(f"topic {i}", f"description <{i}> & more") for i in range(17)]
    xml = label_config(topics)
    root = ET.fromstring(xml)  # well-formed despite < and &
    choices = root.find("Choices")
    assert choices.get("choice") == "single-radio" and choices.get("required") == "true"
    assert choices.get("name") == "topic" and choices.get("toName") == "text"
    items = choices.findall("Choice")
    assert [c.get("value") for c in items] == [t for t, _ in topics]
    assert [c.get("hotkey") for c in items] == [*"123456789", *"abcdefgh"]
    assert items[0].get("hint") == "description <0> & more"
    assert root.find("Text").get("value") == "$text"
    legend = " ".join(h.get("value") for h in root.iter("Header"))
    assert "[h] topic 16: description <16> & more" in legend
    shown = [h.get("value") for h in root.iter("Header")]
    assert shown[1:3] == ["$guess", "$why"]  # the task's guess and reason, above the topics
    assert not [text for text in shown if "pre-selected" in text]  # no claim without a guess
    assert config_topics(xml) == [t for t, _ in topics]


def test_label_config_rejects_bad_taxonomies():
    with pytest.raises(AnnotatorError, match="twice"):
        label_config([("a", ""), ("a", "")])
    with pytest.raises(AnnotatorError, match="empty"):
        label_config([("a", ""), (" ", "")])
    with pytest.raises(AnnotatorError, match="at least two"):
        label_config([("a", "")])


def test_task_payload_with_and_without_prediction():
    task = task_payload(PushItem(5, "Storm hits coast", 2, "weather", 0.75, "random"))
    assert task["data"] == {
        "text": "Storm hits coast",
        "activelabel_id": 5,
        "round": 2,
        "arm": "random",
        "guess": "The model's guess: weather (75 % sure).",
        "why": "",
    }
    (pred,) = task["predictions"]
    assert pred["model_version"] == "round-2" and pred["score"] == 0.75
    choice = {"choices": ["weather"]}
    assert pred["result"] == [
        {"from_name": "topic", "to_name": "text", "type": "choices", "value": choice}
    ]
    plain = task_payload({"item_id": 6, "text": "x", "round": 0})
    assert "predictions" not in plain and plain["data"]["arm"] == "active"
    with pytest.raises(AnnotatorError, match="empty"):
        task_payload({"item_id": 6, "text": " ", "round": 0})
    with pytest.raises(AnnotatorError, match="integer"):
        task_payload({"item_id": "6", "text": "x", "round": 0})
    with pytest.raises(AnnotatorError, match="need"):
        task_payload({"text": "x"})


def test_item_id_from_data():
    assert item_id_from_data({"activelabel_id": 4}) == 4
    assert item_id_from_data({"activelabel_id": "4"}) == 4
    assert item_id_from_data({"activelabel_id": 4.0}) == 4
    assert item_id_from_data({"activelabel_id": True}) is None
    assert item_id_from_data({"text": "x"}) is None and item_id_from_data(None) is None


URL = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("exc", "cls", "words"),
    [
        (ApiError(status_code=401, body={"detail": "bad"}), LabelStudioAuthError, "HTTP 401"),
        (ApiError(status_code=403, body={}), LabelStudioAuthError, "LABEL_STUDIO_API_KEY"),
        (ApiError(status_code=404, body={}), LabelStudioNotFoundError, "deleted"),
        (ApiError(status_code=502, body="x"), LabelStudioServerError, "HTTP 502"),
        (httpx.ConnectError("refused"), LabelStudioUnavailableError, "refused the connection"),
        (httpx.ReadTimeout("slow"), LabelStudioUnavailableError, "did not answer in time"),
        (httpx.RemoteProtocolError("gone"), LabelStudioUnavailableError, "broke"),
        (ApiError(status_code=400, body={"detail": "no"}), LabelStudioError, "rejected"),
    ],
)
def test_translate_error(exc, cls, words):
    err = translate_error(exc, URL, "doing x")
    assert isinstance(err, cls) and isinstance(err, AnnotatorError)
    assert words in str(err) and URL in str(err) and "\n" not in str(err)


def test_connect_to_nothing_is_a_clear_error():
    port = find_free_port()
    token = "secret-token-value-123"
    with pytest.raises(LabelStudioUnavailableError, match="refused the connection") as info:
        connect(f"http://127.0.0.1:{port}", token)
    assert token not in str(info.value) and token not in repr(info.value)
    with pytest.raises(LabelStudioError, match="not a Label Studio URL"):
        connect("localhost:8080", token)
    with pytest.raises(LabelStudioError, match="no Label Studio API token"):
        connect("http://127.0.0.1:8080", "")


def test_default_venv_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ACTIVELABEL_LABELSTUDIO_VENV", str(tmp_path / "ls"))
    assert default_venv() == tmp_path / "ls"
    monkeypatch.delenv("ACTIVELABEL_LABELSTUDIO_VENV")
    assert default_venv().name == "label-studio-venv" and "~" not in str(default_venv())


def test_install_is_skipped_when_present(tmp_path):
    exe = label_studio_executable(tmp_path / "venv")
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    messages = []
    assert install_label_studio(tmp_path / "venv", progress=messages.append) == exe
    assert messages == []


def test_failed_install_says_where_the_log_is(tmp_path):
    messages = []
    with pytest.raises(LabelStudioSetupError, match="install.log") as info:
        install_label_studio(tmp_path / "venv", progress=messages.append, python="/bin/false")
    assert "failed (exit 1)" in str(info.value)
    assert messages and "Installing Label Studio" in messages[0]


def test_chained_sdk_errors_carry_no_headers():
    from activelabel.integrations.labelstudio import call

    class FakeClient:
        pass

    def fail():
        raise ApiError(status_code=401, headers={"set-cookie": "sessionid=SECRET"}, body={})

    with pytest.raises(LabelStudioAuthError) as info:
        call(FakeClient(), "reading", fail)
    assert "SECRET" not in str(info.value.__cause__)
    assert info.value.__cause__.status_code == 401

"""Server lifecycle, failure modes and a 1,000-task scale check against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from activelabel.integrations.labelstudio import (
    LabelStudioAuthError,
    LabelStudioSetupError,
    LabelStudioUnavailableError,
    PushItem,
    connect,
    ensure_project,
    is_label_studio_process,
    pull_annotations,
    push_batch,
    server_alive,
    start_server,
    stop_server,
)
from activelabel.integrations.labelstudio import pull as pull_module

pytestmark = pytest.mark.labelstudio


def test_server_is_alive_and_recognised(ls_server):
    assert server_alive(ls_server.url)
    assert is_label_studio_process(ls_server.info.pid)
    assert not is_label_studio_process(os.getpid())
    assert not is_label_studio_process(2**22 + 12345)  # no such process


def test_stop_server_refuses_an_unrelated_process():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(LabelStudioSetupError, match="not a Label Studio server"):
            stop_server(proc.pid)
        assert proc.poll() is None  # still running
    finally:
        proc.kill()
        proc.wait()
    assert stop_server(proc.pid) is False  # gone: nothing to stop


def test_start_refuses_bad_settings(ls_server, tmp_path):
    args = {"username": "a@b.test", "password": "pw123456", "token": "t" * 20}
    with pytest.raises(LabelStudioSetupError, match="already in use"):
        start_server(ls_server.venv, tmp_path, port=ls_server.info.port, **args)
    with pytest.raises(LabelStudioSetupError, match="6 to 40"):
        start_server(ls_server.venv, tmp_path, **{**args, "token": "x" * 41})
    with pytest.raises(LabelStudioSetupError, match="e-mail"):
        start_server(ls_server.venv, tmp_path, **{**args, "username": "admin"})
    with pytest.raises(LabelStudioSetupError, match="not installed"):
        start_server(tmp_path / "no-venv", tmp_path, **args)


def test_wrong_token_is_a_clear_error(ls_server):
    wrong = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(LabelStudioAuthError) as info:
        connect(ls_server.url, wrong)
    message = str(info.value)
    assert "refused the API token (HTTP 401)" in message
    assert "LABEL_STUDIO_API_KEY" in message and ls_server.url in message
    assert wrong not in message and wrong not in repr(info.value)
    assert ls_server.token not in message


def test_push_and_pull_1000(client, ls_server, topics, topic_names):
    pid = ensure_project(client, "activelabel scale 1000", topics)
    batch = [
        PushItem(i, f"Scale headline {i}", 0, topic_names[i % 17], 0.5, "active")
        for i in range(1000)
    ]
    t0 = time.perf_counter()
    mapping = push_batch(client, pid, batch)
    ls_server.timings["push 1,000 tasks"] = time.perf_counter() - t0
    assert len(mapping) == 1000 and len(set(mapping.values())) == 1000
    # 1,000 more tasks that already carry one annotation each (imported in one request, which
    # is much faster than 1,000 annotation calls), then one pull of all of them
    me = client.users.whoami().id
    annotated = [
        {
            "data": {"text": f"Annotated headline {i}", "activelabel_id": i, "round": 0},
            "annotations": [
                {
                    "completed_by": me,
                    "result": [
                        {
                            "from_name": "topic",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [topic_names[(i * 3) % 17]]},
                        }
                    ],
                }
            ],
        }
        for i in range(1000, 2000)
    ]
    client.projects.import_tasks(id=pid, request=annotated, return_task_ids=True)
    t0 = time.perf_counter()
    pulled = pull_annotations(client, pid, topic_names)
    ls_server.timings["pull 1,000 annotations (2,000 tasks)"] = time.perf_counter() - t0
    assert len(pulled.tasks) == 2000
    assert pulled.labels == {i: topic_names[(i * 3) % 17] for i in range(1000, 2000)}
    # pushing the same 1,000 again imports nothing
    t0 = time.perf_counter()
    assert push_batch(client, pid, batch) == mapping
    ls_server.timings["re-push 1,000 (already there)"] = time.perf_counter() - t0
    print(
        "\n[labelstudio] "
        + ", ".join(f"{k}: {v:.2f} s" for k, v in ls_server.timings.items() if "1,000" in k)
    )


def test_server_stopped_mid_pull_then_restarted(
    client, ls_server, topics, topic_names, monkeypatch
):
    pid = ensure_project(client, "activelabel stop mid-pull", topics)
    mapping = push_batch(
        client, pid, [PushItem(i, f"h {i}", 0, None, None, "random") for i in range(5)]
    )
    client.annotations.create(
        id=mapping[0],
        result=[
            {
                "from_name": "topic",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [topic_names[0]]},
            }
        ],
    )
    real_export = pull_module._export_annotated

    def stop_then_export(*args, **kwargs):
        ls_server.stop()  # the task index was read; the server dies before the export
        return real_export(*args, **kwargs)

    monkeypatch.setattr(pull_module, "_export_annotated", stop_then_export)
    with pytest.raises(LabelStudioUnavailableError) as info:
        pull_annotations(client, pid, topic_names)
    assert "refused the connection" in str(info.value)
    assert "activelabel labelstudio up" in str(info.value)
    assert not server_alive(ls_server.url)
    monkeypatch.undo()
    with pytest.raises(LabelStudioUnavailableError):
        push_batch(client, pid, [PushItem(9, "h 9", 0)])
    # a restart on the migrated data folder is quick and keeps everything
    ls_server.timings["up (warm restart)"] = ls_server.restart()
    again = connect(ls_server.url, ls_server.token)
    assert pull_annotations(again, pid, topic_names).labels == {0: topic_names[0]}

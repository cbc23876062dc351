"""``activelabel serve`` as a real process: health, setup, predictions, and webhook rounds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def start_serve(workspace: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "activelabel", "serve", str(workspace), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read())
        try:
            call(f"{url}/health")
            return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("serve did not answer /health")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


@pytest.fixture
def served(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    init_workspace(path, small_corpus, tiny_model, "--mode", "frozen", "--batch-size", 6)
    configure(path, model={"min_steps": 1})
    assert run("round", path, "--rounds", "2").exit_code == 0
    process, url = start_serve(path, "--round-every", "3")
    yield path, url
    stop(process)


def test_health_setup_and_predictions(served):
    workspace, url = served
    assert call(f"{url}/health")["status"] == "UP"
    assert call(f"{url}/setup", {"project": "1"})["model_version"] == "round-1"
    tasks = [
        {"id": 1, "data": {"text": "striker scores twice in cup final"}},
        {"id": 2, "data": {"text": "minister resigns over vote"}},
    ]
    results = call(f"{url}/predict", {"tasks": tasks})["results"]
    names = Workspace.open(workspace).class_names
    assert len(results) == 2
    for result in results:
        assert result["result"][0]["value"]["choices"][0] in names
        assert 0 < result["score"] <= 1 and result["model_version"] == "round-1"


def test_enough_annotation_events_run_a_round(served):
    workspace, url = served
    event = {"action": "ANNOTATION_CREATED"}
    assert [call(f"{url}/webhook", event)["round_started"] for _ in range(3)] == [
        False,
        False,
        True,
    ]
    assert call(f"{url}/webhook", {"action": "PROJECT_UPDATED"})["round_started"] is False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(Workspace.open(workspace).store.rounds()) == 3:
            break
        time.sleep(0.5)
    assert len(Workspace.open(workspace).store.rounds()) == 3
    deadline = time.monotonic() + 60
    while call(f"{url}/setup", {})["model_version"] != "round-2" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert call(f"{url}/setup", {})["model_version"] == "round-2"

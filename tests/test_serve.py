"""``activelabel serve`` as a real process: health, setup, predictions, webhook rounds, and the
requests it must refuse (no or wrong secret, foreign Host or Origin, wrong content type,
oversized or slow bodies)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from activelabel.integrations.labelstudio.backend import MAX_BODY, READ_TIMEOUT, basic_auth
from activelabel.integrations.labelstudio.link import SERVE_SECRET
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run

pytestmark = pytest.mark.slow  # real subprocesses and servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def secret_of(workspace: Path) -> str:
    return (workspace / "labelstudio" / SERVE_SECRET).read_text().strip()


def raw(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict]:
    """One request exactly as given (http.client adds only Host unless it is given)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = dict(headers or {})
    connection.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else {}


def call(url: str, body: dict | None = None, secret: str = "") -> dict:
    """GET (no body) or an authorised JSON POST, as Label Studio sends it; 200 expected."""
    base, _, path = url.partition("//")[2].partition("/")
    if body is None:
        status, answer = raw(f"http://{base}", "GET", "/" + path)
    else:
        data = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
            "Authorization": basic_auth(secret),
        }
        status, answer = raw(f"http://{base}", "POST", "/" + path, data, headers)
    assert status == 200, answer
    return answer


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


def wait_for_model(url: str, secret: str, version: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while call(f"{url}/setup", {}, secret)["model_version"] != version:
        assert time.monotonic() < deadline, f"the model never became {version}"
        time.sleep(0.3)


def stop(process: subprocess.Popen) -> str:
    """SIGTERM, as a service manager stops it; returns everything it printed."""
    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output


@pytest.fixture
def served(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    init_workspace(path, small_corpus, tiny_model, "--mode", "frozen", "--batch-size", 6)
    configure(path, model={"min_steps": 1})
    assert run("round", path, "--rounds", "2").exit_code == 0
    process, url = start_serve(path, "--round-every", "3")
    yield path, url, process
    if process.poll() is None:
        stop(process)


def test_health_setup_and_predictions(served):
    workspace, url, _ = served
    secret = secret_of(workspace)
    assert call(f"{url}/health")["status"] == "UP"
    wait_for_model(url, secret, "round-1")
    tasks = [
        {"id": 1, "data": {"text": "striker scores twice in cup final"}},
        {"id": 2, "data": {"text": "minister resigns over vote"}},
    ]
    results = call(f"{url}/predict", {"tasks": tasks}, secret)["results"]
    names = Workspace.open(workspace).class_names
    assert len(results) == 2
    for result in results:
        assert result["result"][0]["value"]["choices"][0] in names
        assert 0 < result["score"] <= 1 and result["model_version"] == "round-1"


def test_the_secret_is_owner_only(served):
    workspace, _, _ = served
    path = workspace / "labelstudio" / SERVE_SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(secret_of(workspace)) == 64


def test_enough_annotation_events_run_a_round_and_each_event_is_printed(served):
    workspace, url, process = served
    secret = secret_of(workspace)
    event = {"action": "ANNOTATION_CREATED"}
    assert [call(f"{url}/webhook", event, secret)["round_started"] for _ in range(3)] == [
        False,
        False,
        True,
    ]
    assert call(f"{url}/webhook", {"action": "PROJECT_UPDATED"}, secret)["round_started"] is False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(Workspace.open(workspace).store.rounds()) == 3:
            break
        time.sleep(0.5)
    assert len(Workspace.open(workspace).store.rounds()) == 3
    wait_for_model(url, secret, "round-2")
    output = stop(process)
    assert "Serving http://127.0.0.1:" in output and "latest round: round-1" in output
    assert "ANNOTATION_CREATED: 1 of 3 annotations for the next round" in output
    assert "3 annotations arrived, round 2 started" in output
    assert "round 2 done: accuracy" in output
    assert "model round-2 ready" in output


def _attack(url: str, secret: str) -> dict[str, tuple[str, dict[str, str], bytes]]:
    body = json.dumps({"action": "ANNOTATION_CREATED"}).encode()
    good = {
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Authorization": basic_auth(secret),
    }
    port = url.rsplit(":", 1)[1]
    return {
        "evil Origin": ("/webhook", {**good, "Origin": "http://evil.example"}, body),
        "text/plain": ("/webhook", {**good, "Content-Type": "text/plain"}, body),
        "form-encoded": (
            "/webhook",
            {**good, "Content-Type": "application/x-www-form-urlencoded"},
            body,
        ),
        "no secret": ("/webhook", {k: v for k, v in good.items() if k != "Authorization"}, body),
        "wrong secret": ("/webhook", {**good, "Authorization": basic_auth("x" * 64)}, body),
        "secret as bearer": ("/webhook", {**good, "Authorization": f"Bearer {secret}"}, body),
        "foreign Host": ("/webhook", {**good, "Host": f"attacker.example:{port}"}, body),
        "loopback Host, other port": ("/webhook", {**good, "Host": "127.0.0.1:1"}, body),
        "train without a body": (
            "/train",
            {"Authorization": basic_auth(secret), "Content-Length": "0"},
            b"",
        ),
        "predict without a secret": (
            "/predict",
            {"Content-Type": "application/json", "Content-Length": "2"},
            b"{}",
        ),
        "setup without a secret": (
            "/setup",
            {"Content-Type": "application/json", "Content-Length": "2"},
            b"{}",
        ),
        "huge Content-Length": (
            "/webhook",
            {**good, "Content-Length": str(MAX_BODY + 1)},
            body,
        ),
        "chunked body": (
            "/webhook",
            {
                **{k: v for k, v in good.items() if k != "Content-Length"},
                "Transfer-Encoding": "chunked",
            },
            b"2\r\n{}\r\n0\r\n\r\n",
        ),
        "a JSON list": (
            "/webhook",
            {**good, "Content-Length": "2"},
            b"[]",
        ),
    }


def test_requests_without_the_secret_or_from_elsewhere_are_refused(served):
    workspace, url, process = served
    secret = secret_of(workspace)
    statuses = {}
    for name, (path, headers, body) in _attack(url, secret).items():
        statuses[name] = raw(url, "POST", path, body, headers)[0]
    assert statuses == {
        "evil Origin": 403,
        "text/plain": 415,
        "form-encoded": 415,
        "no secret": 401,
        "wrong secret": 401,
        "secret as bearer": 401,
        "foreign Host": 421,
        "loopback Host, other port": 421,
        "train without a body": 415,
        "predict without a secret": 401,
        "setup without a secret": 401,
        "huge Content-Length": 413,
        "chunked body": 411,
        "a JSON list": 400,
    }
    status, _ = raw(url, "GET", "/health", headers={"Host": "attacker.example"})
    assert status == 421  # DNS rebinding cannot even read the health check
    status, _ = raw(url, "POST", "/[bold]x[/]", b"{}", {"Content-Length": "2"})
    assert status == 404
    # none of them counted as an annotation: two real events start no round, the third does
    event = {"action": "ANNOTATION_CREATED"}
    assert [call(f"{url}/webhook", event, secret)["round_started"] for _ in range(3)] == [
        False,
        False,
        True,
    ]
    output = stop(process)
    assert "refused POST /webhook: missing or wrong credentials" in output
    assert "refused POST /[bold]x[/]: no such endpoint" in output  # printed as sent, no markup
    assert secret not in output


def test_a_short_body_with_a_long_content_length_does_not_hold_a_thread(served):
    workspace, url, _ = served
    secret = secret_of(workspace)
    host, port = url.removeprefix("http://").rsplit(":", 1)
    holders = []
    for _ in range(3):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(
            (
                "POST /webhook HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                "Content-Type: application/json\r\n"
                f"Authorization: {basic_auth(secret)}\r\n"
                "Content-Length: 100000\r\n\r\n{"
            ).encode()
        )
        holders.append(sock)
    started = time.monotonic()
    closed = []

    def wait_closed(sock: socket.socket) -> None:
        sock.settimeout(READ_TIMEOUT * 3)
        closed.append(sock.recv(1) == b"")  # the server gives up and closes

    threads = [threading.Thread(target=wait_closed, args=(s,)) for s in holders]
    for thread in threads:
        thread.start()
    assert call(f"{url}/health")["status"] == "UP"  # answered while they hang
    for thread in threads:
        thread.join()
    assert closed == [True, True, True]
    assert time.monotonic() - started < READ_TIMEOUT * 2
    for sock in holders:
        sock.close()

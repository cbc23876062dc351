"""``serve``'s HTTP transport holds against slow, many and malformed clients: a deadline for the
whole request (not per read), a bounded pool of workers (503 beyond it), a 4xx for every
malformed request and one line for every bind error (docs/bad-input.md, "serve"). The server
is the real one, in this process, on a real workspace and real sockets; the deadlines are
shortened (module constants) so that the test takes seconds."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from activelabel.errors import ActiveLabelError
from activelabel.integrations.labelstudio import backend
from activelabel.integrations.labelstudio.backend import (
    NEVER,
    Predictor,
    Trigger,
    basic_auth,
    make_server,
)
from activelabel.workspace import Workspace
from tests.cli import init_workspace
from tests.test_bad_input import error_of, run

SECRET = "s" * 64
DEADLINE = 1.5


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model) -> Path:
    return init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--mode", "frozen")


@pytest.fixture
def server(workspace, monkeypatch) -> Iterator[tuple[int, list[str]]]:
    monkeypatch.setattr(backend, "REQUEST_DEADLINE", DEADLINE)
    events: list[str] = []
    served = make_server(
        "127.0.0.1",
        0,
        Predictor(Workspace.open(workspace)),
        Trigger(NEVER, lambda: None),
        secret=SECRET,
        events=events.append,
        workers=2,
    )
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served.server_address[1], events
    served.shutdown()
    served.server_close()


def exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` and read the whole reply (until the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def post(port: int, body: bytes, **headers: str) -> bytes:
    head = {
        "Host": f"127.0.0.1:{port}",
        "Content-Type": "application/json",
        "Authorization": basic_auth(SECRET),
        "Content-Length": str(len(body)),
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    return exchange(port, f"POST /predict HTTP/1.1\r\n{lines}\r\n".encode("latin-1") + body)


def health(port: int) -> int:
    return status_of(
        exchange(port, f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    )


def test_a_client_trickling_bytes_is_cut_off_at_the_request_deadline(server):
    port, events = server
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: " + "a" * 100
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        closed = False
        for byte in request.encode():
            try:
                sock.send(bytes([byte]))
                time.sleep(0.25)  # each read is quick: only a whole-request deadline stops it
            except OSError:
                closed = True
                break
            if time.monotonic() - started > DEADLINE + 3:
                break
        if not closed:
            sock.settimeout(3)
            try:
                closed = sock.recv(1) == b""
            except ConnectionResetError:
                closed = True
        assert closed and time.monotonic() - started < DEADLINE + 3
    waited = time.monotonic() + 3
    while not any("did not arrive in time" in line for line in events):
        assert time.monotonic() < waited, events
        time.sleep(0.1)


def test_workers_are_bounded_and_the_rest_get_503(server):
    port, _ = server
    holders = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    for sock in holders:
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # half a request: holds a worker
    time.sleep(0.3)
    busy = exchange(port, f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    assert status_of(busy) == 503 and b"busy" in busy
    for sock in holders:
        sock.close()
    deadline = time.monotonic() + DEADLINE + 5
    while health(port) != 200:  # the workers come back
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("host-superscript", 421),
        ("length-superscript", 411),
        ("deep-json", 400),
        ("data-not-object", 400),
        ("text-not-string", 400),
        ("tasks-not-list", 400),
        ("garbage-line", 400),
        ("huge-length", 413),
    ],
)
def test_malformed_requests_get_a_4xx_and_the_server_stays_up(server, capfd, case, expected):
    port, _ = server
    if case == "host-superscript":
        reply = post(port, b"{}", Host="127.0.0.1:\xb2")
    elif case == "length-superscript":
        reply = post(port, b"{}", Content_Length="\xb2")
    elif case == "deep-json":
        reply = post(port, b"[" * 200_000 + b"]" * 200_000)
    elif case == "data-not-object":
        reply = post(port, b'{"tasks": [{"data": 5}]}')
    elif case == "text-not-string":
        reply = post(port, b'{"tasks": [{"data": {"text": {"a": 1}}}]}')
    elif case == "tasks-not-list":
        reply = post(port, b'{"tasks": 5}')
    elif case == "garbage-line":
        reply = exchange(port, b"\xff\xfe GARBAGE\r\n\r\n")
    else:
        reply = post(port, b"{}", Content_Length="9" * 15)
    assert status_of(reply) == expected, reply
    assert health(port) == 200
    assert "Traceback" not in capfd.readouterr().err


def test_a_well_formed_predict_still_works(server):
    port, _ = server
    body = json.dumps({"tasks": [{"data": {"text": "cup final tonight"}}, {"data": {}}]}).encode()
    reply = post(port, body)
    assert status_of(reply) == 200 and b'"model_version"' in reply


def test_port_in_use_is_one_line(workspace):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = error_of(run("serve", workspace, "--port", port))
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in message


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("8.8.8.8", "8.8.8.8 is not an address of this machine"),
        ("no-such-host.invalid", "is not an address or a name this machine can resolve"),
    ],
)
def test_bind_errors_are_one_line(workspace, host, expected):
    message = error_of(run("serve", workspace, "--host", host, "--port", 9))
    assert expected in message


def test_ipv6_loopback_is_served(workspace):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        served = make_server(
            "::1",
            0,
            Predictor(Workspace.open(workspace)),
            Trigger(NEVER, lambda: None),
            secret=SECRET,
        )
    except ActiveLabelError as exc:  # a machine without an IPv6 loopback: one line, too
        assert "cannot listen on ::1" in str(exc) and "\n" not in str(exc)
        return
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        port = served.server_address[1]
        with socket.create_connection(("::1", port), timeout=10) as sock:
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: [::1]:{port}\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.0 200")
    finally:
        served.shutdown()
        served.server_close()

"""``activelabel serve``: an HTTP endpoint that Label Studio calls as its ML backend (predictions
for any task on demand) and as a webhook target (enough new annotations trigger a round).

Standard library only (``http.server``); binds to 127.0.0.1 by default. One model answers
predictions: trained on the workspace's labels at start and again after every round.

Every POST must carry the workspace's secret as HTTP basic auth (Label Studio sends it), a
``Host`` header naming the address served, no foreign ``Origin``, an ``application/json`` body
of at most :data:`MAX_BODY` bytes with a ``Content-Length``. A request must arrive whole within
:data:`REQUEST_DEADLINE` seconds (however slowly its bytes trickle in) and its reply be taken
within :data:`REPLY_DEADLINE`; at most :data:`MAX_WORKERS` connections are served at once, the
next ones get ``503`` at once. Every malformed request gets a 4xx, never a traceback.
"""

from __future__ import annotations

import base64
import errno
import hmac
import io
import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from activelabel.errors import ActiveLabelError
from activelabel.integrations.labelstudio.project import CHOICES_NAME, TEXT_NAME
from activelabel.progress import Phase, silent
from activelabel.workspace import Workspace

ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")
#: user name of the basic auth that Label Studio sends; the password is the workspace secret
BASIC_USER = "activelabel"
#: largest request body accepted (Label Studio's /predict for 100 headlines is ~60 KiB)
MAX_BODY = 1 << 20
#: seconds one socket read may take before the connection is dropped
READ_TIMEOUT = 10.0
#: seconds a whole request (line, headers and body) may take to arrive
REQUEST_DEADLINE = 15.0
#: seconds the client has to take the whole reply
REPLY_DEADLINE = 30.0
#: connections served at once; more are answered 503 without being read
MAX_WORKERS = 8
#: a ``Trigger.every`` that never starts a round
NEVER = 10**9


class Predictor:
    """The workspace's model, trained on every current label."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.lock = threading.Lock()
        self.version = "untrained"
        self.classifier = None

    def retrain(self, phase: Phase = silent) -> None:
        """Train on every current label as a round would (the pool streamed from the store,
        frozen embeddings from the workspace's cache), with progress on ``phase``."""
        from activelabel.engine import train_on_workspace

        ws = self.ws
        classifier, _ = train_on_workspace(ws, phase)
        rounds = ws.store.rounds()
        with self.lock:
            self.classifier = classifier
            self.version = f"round-{rounds[-1].round}" if rounds else "untrained"

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        with self.lock:
            probabilities = self.classifier.predict(texts).probabilities
        names = self.ws.class_names
        return [(names[int(p.argmax())], float(p.max())) for p in probabilities]


@dataclass
class Trigger:
    """Counts annotation events and runs a round once ``every`` of them arrived."""

    every: int
    run_round: Callable[[], None]
    seen: int = 0
    running: bool = False

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.rounds_started = 0

    def event(self) -> bool:
        """Count one event; True when it started a round (in a background thread)."""
        with self.lock:
            self.seen += 1
            if self.seen < self.every or self.running:
                return False
            self.seen, self.running = 0, True
            self.rounds_started += 1
        threading.Thread(target=self._run, daemon=True).start()
        return True

    def recheck(self) -> None:
        """After a deferred round: the next event checks again."""
        with self.lock:
            self.seen = max(self.seen, self.every - 1)

    def describe(self, action: str) -> str:
        """One line for an event that did not start a round."""
        with self.lock:
            if self.running:
                return f"{action}: a round is running; counted for the next one"
            if self.every >= NEVER:
                return f"{action}: no rounds from annotations (--round-every 0)"
            return f"{action}: {self.seen} of {self.every} annotations for the next round"

    def _run(self) -> None:
        try:
            self.run_round()
        finally:
            with self.lock:
                self.running = False


def basic_auth(secret: str) -> str:
    """The ``Authorization`` header value Label Studio sends (user ``activelabel``)."""
    token = base64.b64encode(f"{BASIC_USER}:{secret}".encode()).decode()
    return f"Basic {token}"


def allowed_hosts(host: str) -> frozenset[str]:
    """Host names accepted in the ``Host`` header: the loopback names, and ``host`` when it
    names this machine for others (a wildcard address names nothing)."""
    names = {"127.0.0.1", "localhost", "::1"}
    if host not in ("", "0.0.0.0", "::"):
        names.add(host.strip("[]").lower())
    return frozenset(names)


def _host_name_and_port(value: str) -> tuple[str, int | None]:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:9090
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = value.partition(":")
    return name, int(port) if _is_number(port) else None


def _is_number(text: str) -> bool:
    """Only ASCII digits: ``'²'.isdigit()`` is true, but ``int('²')`` fails."""
    return text.isascii() and text.isdigit() and len(text) <= 18


class DeadlineReader(io.RawIOBase):
    """Reads from a socket until a deadline for everything read, not for each read: a client
    that sends one byte every few seconds is cut off when the deadline passes."""

    def __init__(self, sock: socket.socket, seconds: float):
        self.sock = sock
        self.deadline: float | None = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request did not arrive in time")
            self.sock.settimeout(min(left, READ_TIMEOUT))
        try:
            return self.sock.recv_into(buffer)
        except TimeoutError:
            raise TimeoutError("the request did not arrive in time") from None


def _shown(path: str) -> str:
    """A request path as it may be printed: short, and control characters escaped."""
    return ascii(path[:100])[1:-1]


def make_handler(
    predictor: Predictor,
    trigger: Trigger,
    log: Callable[[str], None],
    *,
    secret: str,
    hosts: frozenset[str],
    events: Callable[[str], None] = lambda line: None,
):
    expected_auth = basic_auth(secret).encode()

    class Handler(BaseHTTPRequestHandler):
        timeout = READ_TIMEOUT
        default_request_version = "HTTP/1.0"  # errors for an unreadable request line: a status

        def setup(self) -> None:
            super().setup()
            self.reader = DeadlineReader(self.connection, REQUEST_DEADLINE)
            self.rfile = io.BufferedReader(self.reader)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log(f"{self.address_string()} {format % args}")

        def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
            events(f"refused a request from {self.address_string()}: {_shown(format % args)}")

        def end_headers(self) -> None:
            self.reader.deadline = None  # the request is in: the reply has its own deadline
            self.connection.settimeout(REPLY_DEADLINE)  # sendall: for the whole reply
            super().end_headers()

        def _reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _refuse(self, status: int, why: str, **headers: str) -> None:
            self.close_connection = True
            events(f"refused {self.command} {_shown(self.path)}: {why}")
            self._reply(status, {"error": why}, headers)

        def _origin_ok(self) -> str | None:
            """Why the request must be refused before its body is read, or None."""
            name, port = _host_name_and_port(self.headers.get("Host", ""))
            if name not in hosts or port != self.server.server_address[1]:
                return "host"
            origin = self.headers.get("Origin")
            if origin is not None and origin.rstrip("/").lower() != (
                f"http://{self.headers.get('Host', '').strip().lower()}"
            ):
                return "origin"
            return None

        def _checked_body(self) -> dict | None:
            """The JSON object of an authorised request, or None after refusing it."""
            why = self._origin_ok()
            if why == "host":
                self._refuse(421, "unknown Host header (only the address serve listens on)")
                return None
            if why == "origin":
                self._refuse(403, "cross-origin requests are refused")
                return None
            given = (self.headers.get("Authorization") or "").encode()
            if not hmac.compare_digest(given, expected_auth):
                challenge = {"WWW-Authenticate": 'Basic realm="activelabel"'}
                self._refuse(401, "missing or wrong credentials", **challenge)
                return None
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind != "application/json":
                self._refuse(415, "the body must be application/json")
                return None
            if self.headers.get("Transfer-Encoding"):
                self._refuse(411, "send a Content-Length, not a chunked body")
                return None
            length = self.headers.get("Content-Length", "").strip()
            if not _is_number(length):
                self._refuse(411, "a Content-Length (a whole number of bytes) is required")
                return None
            if int(length) > MAX_BODY:
                self._refuse(413, f"the body is larger than {MAX_BODY} bytes")
                return None
            try:
                raw = self.rfile.read(int(length))
            except TimeoutError:
                self.close_connection = True
                why = "the body did not arrive in time"
                events(f"refused {self.command} {_shown(self.path)}: {why}")
                return None
            if len(raw) < int(length):
                self.close_connection = True
                return None
            try:
                body = json.loads(raw or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                self._refuse(400, "the body is not JSON")
                return None
            except RecursionError:
                self._refuse(400, "the body's JSON is nested too deeply")
                return None
            if not isinstance(body, dict):
                self._refuse(400, "the body must be a JSON object")
                return None
            return body

        def do_GET(self) -> None:  # noqa: N802
            if self._origin_ok() is not None:
                self._refuse(421, "unknown Host header or foreign Origin")
            elif self.path.rstrip("/") in ("", "/health"):
                self._reply(200, {"status": "UP", "model_class": "activelabel"})
            else:
                self._reply(404, {"error": f"no such endpoint {self.path}"})

        def do_POST(self) -> None:  # noqa: N802
            path = self.path.rstrip("/")
            if path not in ("/setup", "/predict", "/webhook", "/train"):
                self._refuse(404, f"no such endpoint {self.path}")
                return
            body = self._checked_body()
            if body is None:
                return
            ready = predictor.classifier is not None
            version = predictor.version if ready else "training"
            if path == "/setup":
                self._reply(200, {"model_version": version})
            elif path == "/predict":
                tasks = body.get("tasks") or []
                if not isinstance(tasks, list):
                    self._refuse(400, "'tasks' must be a list")
                    return
                texts = _task_texts(tasks)
                if isinstance(texts, str):
                    self._refuse(400, texts)
                    return
                try:
                    predictions = predictor.predict(texts) if texts and ready else []
                except Exception as exc:  # the model failed: say so, keep serving
                    events(f"predictions failed: {_shown(str(exc))}")
                    self._reply(500, {"error": "the model could not predict; see serve's log"})
                    return
                results = [
                    {
                        "result": [
                            {
                                "from_name": CHOICES_NAME,
                                "to_name": TEXT_NAME,
                                "type": "choices",
                                "value": {"choices": [label]},
                            }
                        ],
                        "score": score,
                        "model_version": version,
                    }
                    for label, score in predictions
                ]
                self._reply(200, {"results": results, "model_version": version})
            elif path == "/webhook":
                action = body.get("action")
                started = action in ANNOTATION_ACTIONS and trigger.event()
                if action in ANNOTATION_ACTIONS and not started:
                    events(trigger.describe(str(action)))
                self._reply(200, {"round_started": bool(started)})
            else:  # /train: Label Studio's "start training" button
                started = trigger.every > 0 and trigger.event()
                self._reply(200, {"round_started": bool(started)})

    return Handler


def _task_texts(tasks: list) -> list[str] | str:
    """The headline of each task, or why the tasks are malformed."""
    texts = []
    for number, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict):
            return f"task {number} has no 'data' object"
        text = data.get(TEXT_NAME, "")
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            return f"task {number}: data.{TEXT_NAME} must be a string"
        texts.append(str(text))
    return texts


class BoundedHTTPServer(HTTPServer):
    """An HTTP server that serves at most ``workers`` connections at once from a pool of
    threads; a connection beyond that is answered ``503`` and closed without being read."""

    def __init__(self, address, handler, workers: int, events: Callable[[str], None]):
        self.address_family = _family(address[0])
        self.events = events
        self.slots = threading.BoundedSemaphore(workers)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="serve")
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            self.events(f"refused a connection from {client_address[0]}: all workers busy")
            _busy(request)
            self.shutdown_request(request)
            return
        self.pool.submit(self._serve, request, client_address)

    def _serve(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception as exc:  # a broken connection, ...: one line, never a traceback
            self.events(f"connection from {client_address[0]} failed: {_shown(str(exc))}")
        finally:
            self.shutdown_request(request)
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        self.events(f"connection from {client_address[0]} failed")

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def _busy(request: socket.socket) -> None:
    """A ``503`` for a connection that cannot be served now, without waiting on the client."""
    body = b'{"error": "busy: too many connections, try again"}'
    reply = (
        b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Retry-After: 1\r\nConnection: close\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    try:
        request.setblocking(False)
        request.send(reply)
    except OSError:
        pass


def _family(host: str) -> socket.AddressFamily:
    """The address family of ``host`` (IPv6 for ``::1``, ``::`` or an IPv6 name)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ActiveLabelError(
            f"--host {host!r} is not an address or a name this machine can resolve ({exc}); "
            f"use 127.0.0.1, or this machine's address"
        ) from None
    return infos[0][0]


def make_server(
    host: str,
    port: int,
    predictor: Predictor,
    trigger: Trigger,
    log: Callable[[str], None] = lambda line: None,
    *,
    secret: str,
    hosts: frozenset[str] | None = None,
    events: Callable[[str], None] = lambda line: None,
    workers: int = MAX_WORKERS,
) -> BoundedHTTPServer:
    """The server, bound to ``host:port``; a bind error is one :class:`ActiveLabelError`."""
    handler = make_handler(
        predictor,
        trigger,
        log,
        secret=secret,
        hosts=allowed_hosts(host) if hosts is None else hosts,
        events=events,
    )
    try:
        return BoundedHTTPServer((host, port), handler, workers, events)
    except OSError as exc:
        raise ActiveLabelError(bind_problem(host, port, exc)) from None


def bind_problem(host: str, port: int, exc: OSError) -> str:
    """Why serve cannot listen on ``host:port``, and what to do, on one line."""
    where = f"cannot listen on {host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where}: the port is in use; stop what runs there or choose another --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{where}: {host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every "
            f"address) or one of this machine's addresses"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{where}: permission denied (ports below 1024 need root); choose --port 1024 or more"
        )
    if exc.errno == errno.EAFNOSUPPORT:
        return f"{where}: this machine has no IPv6 (or IPv4) for {host}; use 127.0.0.1"
    return f"{where}: {exc.strerror or exc}; choose another --host or --port"

"""``activelabel serve``: an HTTP endpoint that Label Studio calls as its ML backend (predictions
for any task on demand) and as a webhook target (enough new annotations trigger a round).

Standard library only (``http.server``); binds to 127.0.0.1 by default. One model answers
predictions: trained on the workspace's labels at start and again after every round.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from activelabel.integrations.labelstudio.project import CHOICES_NAME, TEXT_NAME
from activelabel.workspace import Workspace

ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")


class Predictor:
    """The workspace's model, trained on every current label."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.lock = threading.Lock()
        self.version = "untrained"
        self.classifier = None

    def retrain(self) -> None:
        from activelabel.engine import LabelledPool, Trainer

        ws = self.ws
        data = LabelledPool.from_workspace(ws, exclude_waiting=False)
        trainer = Trainer.for_workspace(ws, data.all_texts)
        classifier = trainer.fit(data.labelled_texts, data.y, data.unlabelled_texts)
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

    def _run(self) -> None:
        try:
            self.run_round()
        finally:
            with self.lock:
                self.running = False


def make_handler(predictor: Predictor, trigger: Trigger, log: Callable[[str], None]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log(f"{self.address_string()} {format % args}")

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                return {}
            return body if isinstance(body, dict) else {}

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") in ("", "/health"):
                self._reply(200, {"status": "UP", "model_class": "activelabel"})
            else:
                self._reply(404, {"error": f"no such endpoint {self.path}"})

        def do_POST(self) -> None:  # noqa: N802
            path = self.path.rstrip("/")
            body = self._body()
            if path == "/setup":
                self._reply(200, {"model_version": predictor.version})
            elif path == "/predict":
                tasks = body.get("tasks") or []
                texts = [str((t.get("data") or {}).get(TEXT_NAME, "")) for t in tasks]
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
                        "model_version": predictor.version,
                    }
                    for label, score in (predictor.predict(texts) if texts else [])
                ]
                self._reply(200, {"results": results, "model_version": predictor.version})
            elif path == "/webhook":
                started = body.get("action") in ANNOTATION_ACTIONS and trigger.event()
                self._reply(200, {"round_started": bool(started)})
            elif path == "/train":  # Label Studio's "start training" button
                started = trigger.every > 0 and trigger.event()
                self._reply(200, {"round_started": bool(started)})
            else:
                self._reply(404, {"error": f"no such endpoint {self.path}"})

    return Handler


def make_server(
    host: str,
    port: int,
    predictor: Predictor,
    trigger: Trigger,
    log: Callable[[str], None] = lambda line: None,
) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(predictor, trigger, log))

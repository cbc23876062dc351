"""Time the Label Studio integration on this machine and print a table.

    python benchmarks/bench_labelstudio.py [--keep]

Starts a throw-away Label Studio server (fresh data folder, free port) from the Label Studio
venv (``$ACTIVELABEL_LABELSTUDIO_VENV`` or ``~/.cache/activelabel/label-studio-venv``), then
measures: ``up`` on a fresh data folder (database migrations) and warm (restart on the migrated
folder); ``push_batch`` of 1,000 and 10,000 headlines with predictions into empty projects; an
idempotent re-push of the 10,000; ``pull_annotations`` of 1,000 annotations (and of 1,000
annotations in a project of 11,000 tasks). Not part of the test run.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from activelabel.integrations.labelstudio import (
    PushItem,
    connect,
    default_venv,
    ensure_project,
    label_studio_executable,
    pull_annotations,
    push_batch,
    start_server,
    stop_server,
)

TOPICS = [(f"topic {i}", f"description of topic {i}") for i in range(17)]
NAMES = [name for name, _ in TOPICS]


def headlines(start: int, n: int, round_: int = 0) -> list[PushItem]:
    return [
        PushItem(i, f"Benchmark headline {i} about markets", round_, NAMES[i % 17], 0.42)
        for i in range(start, start + n)
    ]


def annotated_tasks(start: int, n: int, user_id: int) -> list[dict]:
    return [
        {
            "data": {"text": f"Annotated headline {i}", "activelabel_id": i, "round": 0},
            "annotations": [
                {
                    "completed_by": user_id,
                    "result": [
                        {
                            "from_name": "topic",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [NAMES[i % 17]]},
                        }
                    ],
                }
            ],
        }
        for i in range(start, start + n)
    ]


def timed(rows: list[tuple[str, float, str]], name: str, fn, note: str = ""):
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    rows.append((name, seconds, note))
    print(f"  {name}: {seconds:.2f} s", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()
    venv = default_venv()
    if not label_studio_executable(venv).exists():
        print(f"Label Studio is not installed in {venv}", file=sys.stderr)
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="activelabel-bench-ls-"))
    creds = {
        "username": "bench@activelabel.test",
        "password": secrets.token_urlsafe(12),
        "token": secrets.token_hex(20),
    }
    rows: list[tuple[str, float, str]] = []
    info = timed(rows, "up, first start", lambda: start_server(venv, data_dir, **creds), "migrates")
    try:
        stop_server(info.pid)
        info = timed(
            rows,
            "up, warm (restart)",
            lambda: start_server(venv, data_dir, port=info.port, **creds),
            "migrated data folder",
        )
        client = connect(info.url, creds["token"])
        p1 = ensure_project(client, "bench 1k", TOPICS)
        timed(rows, "push 1,000 tasks", lambda: push_batch(client, p1, headlines(0, 1000)))
        p2 = ensure_project(client, "bench 10k", TOPICS)
        batch = headlines(0, 10_000)
        timed(rows, "push 10,000 tasks", lambda: push_batch(client, p2, batch), "2 requests")
        timed(
            rows,
            "re-push 10,000 (already there)",
            lambda: push_batch(client, p2, batch),
            "lists the project, imports nothing",
        )
        me = client.users.whoami().id
        p3 = ensure_project(client, "bench pull", TOPICS)
        client.projects.import_tasks(
            id=p3, request=annotated_tasks(0, 1000, me), return_task_ids=True
        )
        pulled = timed(
            rows,
            "pull 1,000 annotations",
            lambda: pull_annotations(client, p3, NAMES),
            "1,000 tasks",
        )
        assert len(pulled.labels) == 1000
        client.projects.import_tasks(
            id=p2, request=annotated_tasks(20_000, 1000, me), return_task_ids=True
        )
        pulled = timed(
            rows,
            "pull 1,000 annotations",
            lambda: pull_annotations(client, p2, NAMES),
            "11,000 tasks",
        )
        assert len(pulled.labels) == 1000 and len(pulled.tasks) == 11_000
    finally:
        stop_server(info.pid)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    width = max(len(name) for name, _, _ in rows)
    print(f"{'step'.ljust(width)}  seconds  note")
    print(f"{'-' * width}  -------  ----")
    for name, seconds, note in rows:
        print(f"{name.ljust(width)}  {seconds:7.2f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

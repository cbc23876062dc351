"""Crash safety for real: a round killed with SIGKILL at each phase, then run again.

The kill comes from the process itself at a named point (``ACTIVELABEL_KILL_AT``), so every
phase is hit deterministically; nothing is mocked and nothing is cleaned up before death.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from activelabel.faults import POINTS
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace
from tests.processes import activelabel

pytestmark = pytest.mark.slow  # real subprocesses and servers


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model) -> Path:
    path = tmp_path / "ws"
    init_workspace(
        path,
        small_corpus,
        tiny_model,
        "--batch-size",
        6,
        "--strategy",
        "margin",
        "--mode",
        "finetune",
        "--cold-start",
        "random",
    )
    configure(path, model={"epochs": 1, "min_steps": 2})
    first = activelabel("round", str(path))
    assert first.returncode == 0, first.stderr
    return path


def snapshot(path: Path) -> dict:
    ws = Workspace.open(path)
    db = ws.store.db
    state = {
        "labels": dict(db.execute("SELECT item_id, label FROM labels WHERE status = 'active'")),
        "label_rows": db.execute("SELECT count(*) FROM labels").fetchone()[0],
        "rounds": [r.round for r in ws.store.rounds()],
        "selections": db.execute(
            "SELECT round, item_id, pushed_at IS NOT NULL FROM selections ORDER BY round, rank"
        ).fetchall(),
    }
    ws.store.close()
    return state


def assert_consistent(state: dict) -> None:
    items = [item for _, item, _ in state["selections"]]
    assert len(items) == len(set(items)), "an item was selected twice"
    assert state["rounds"] == list(range(len(state["rounds"])))
    assert all(pushed for _, _, pushed in state["selections"]), "a selection was never pushed"
    assert state["label_rows"] == len(state["labels"]), "a label was duplicated or superseded"


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_round_killed_at_each_phase_recovers(workspace, point):
    before = snapshot(workspace)
    killed = activelabel("round", str(workspace), kill_at=point)
    assert killed.returncode == -signal.SIGKILL, (point, killed.stdout, killed.stderr)
    during = snapshot(workspace)
    assert set(before["labels"].items()) <= set(during["labels"].items())
    if point in ("pull", "pull-write", "train", "select", "state-write"):
        assert during["rounds"] == before["rounds"], "a dead round left a round behind"
    again = activelabel("round", str(workspace))
    assert again.returncode == 0, again.stderr
    after = snapshot(workspace)
    assert_consistent(after)
    assert set(during["labels"].items()) <= set(after["labels"].items())
    # every batch except the newest has been labelled by the oracle
    newest = max(r for r, _, _ in after["selections"])
    sent_before = {item for r, item, _ in after["selections"] if r < newest}
    assert set(after["labels"]) == sent_before
    assert after["rounds"] == [0, 1]
    # round 1 trained on the 6 labels of round 0's batch: recorded as new even when the killed
    # run had already pulled them
    assert Workspace.open(workspace).store.rounds()[1].new_labels == 6
    if point == "push":  # the rerun finished round 1's push; the next run is round 2
        assert len(after["labels"]) == len(before["labels"]) + 6
        assert activelabel("round", str(workspace)).returncode == 0
        assert snapshot(workspace)["rounds"] == [0, 1, 2]


def test_second_round_refuses_while_one_runs(workspace):
    ws = Workspace.open(workspace)
    with ws.lock():
        busy = activelabel("round", str(workspace))
    assert busy.returncode == 1
    assert "a round is already running" in busy.stderr and f"pid {os.getpid()}" in busy.stderr
    assert "Traceback" not in busy.stderr


def test_stale_lock_of_a_dead_process_is_ignored(workspace):
    (workspace / ".round.lock").write_text("999999")
    done = activelabel("round", str(workspace))
    assert done.returncode == 0, done.stderr

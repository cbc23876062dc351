"""serve's backlog rule: no new batch while most of the last one still waits for labels."""

from __future__ import annotations

from activelabel.cli.serve_cmd import deferred
from activelabel.integrations.labelstudio.backend import Trigger
from activelabel.store import NewLabel
from activelabel.workspace import Workspace
from tests.cli import init_workspace, run


def test_a_round_waits_until_half_of_the_last_batch_is_labelled(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    options = ("--id-column", "id", "--batch-size", 10, "--mode", "frozen")
    init_workspace(path, small_corpus, tiny_model, *options)
    ws = Workspace.open(path)
    assert deferred(ws.store) is None  # no round yet: nothing to wait for
    assert run("round", path).exit_code == 0
    batch = [s.item_id for s in ws.store.selections(round=0)]
    gold = {item.id: item.gold for item in ws.store.items()}

    def label(items):
        ws.store.apply_labels([NewLabel(i, gold[i], "oracle") for i in items])

    assert deferred(ws.store) == (
        "10 of the 10 headlines sent in round 0 still wait for labels: no new batch until at "
        "least half of them are labelled or skipped"
    )
    label(batch[:3])
    ws.store.mark_skipped(batch[3:4])
    assert "6 of the 10 headlines sent in round 0" in deferred(ws.store)
    label(batch[4:5])  # 5 of 10 done: half, a round may start
    assert deferred(ws.store) is None


def test_a_deferred_round_is_checked_again_at_the_next_event():
    started = []
    trigger = Trigger(4, lambda: started.append(1))
    trigger.seen = 2  # annotations made before this serve started
    assert trigger.event() is False and trigger.seen == 3
    trigger.recheck()
    assert trigger.seen == 3
    trigger.seen = 0
    trigger.recheck()  # after a deferral: the very next event checks again
    assert trigger.event() is True

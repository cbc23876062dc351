"""The round workflow through the CLI: init, three oracle rounds, status, with what was stored."""

from __future__ import annotations

import sqlite3

import pytest

from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    init_workspace(
        path,
        small_corpus,
        tiny_model,
        "--id-column",
        "id",
        "--batch-size",
        10,
        "--seed",
        3,
        "--mode",
        "finetune",
        "--strategy",
        "balanced(margin+kmeans)",
        "--cold-start",
        "random",
    )
    configure(path, model={"epochs": 2, "min_steps": 4, "learning_rate": 1e-3})
    return path


def test_init_writes_config_and_state(workspace):
    ws = Workspace.open(workspace)
    assert ws.class_names == ["politics", "science and technology", "sport"]  # taxonomy order
    assert len(ws.store.items("test")) == 15 and len(ws.store.items("pool")) == 75
    assert ws.config.loop.seed == 3 and ws.store.rounds() == []


@pytest.mark.slow
def test_three_oracle_rounds_store_labels_rounds_and_selections(workspace):
    result = run("round", str(workspace), "--rounds", "3")
    assert result.exit_code == 0, result.output
    assert "round 0: 0 labels" in result.output and "zero-shot" in result.output

    ws = Workspace.open(workspace)
    rounds = ws.store.rounds()
    assert [r.round for r in rounds] == [0, 1, 2]
    assert [r.n_labels for r in rounds] == [0, 10, 20]
    assert all(r.evaluation is not None and sum(r.evaluation.per_class_total) == 15 for r in rounds)
    assert rounds[0].zero_shot is not None
    labels = ws.store.active_labels()
    assert len(labels) == 20
    gold = {item.id: item.gold for item in ws.store.items()}
    assert all(gold[item] == label for item, label in labels.items())
    selections = ws.store.selections()
    assert len(selections) == 30 and len({s.item_id for s in selections}) == 30
    test_ids = {item.id for item in ws.store.items("test")}
    assert not test_ids & {s.item_id for s in selections}
    history = ws.store.db.execute("SELECT source, round FROM labels ORDER BY id").fetchall()
    assert {source for source, _ in history} == {"oracle"} and {r for _, r in history} == {0, 1}
    assert len(ws.store.awaiting()) == 10  # round 2's batch waits for the next pull

    status = run("status", str(workspace))
    assert status.exit_code == 0 and "satisfactory" in status.output
    assert "10 headlines are waiting for labels" in status.output


def test_same_seed_same_selection(tmp_path, small_corpus, tiny_model):
    picks = []
    for name in ("a", "b"):
        path = tmp_path / name
        options = ("--strategy", "margin", "--cold-start", "kmeans", "--batch-size", 5)
        init_workspace(path, small_corpus, tiny_model, *options, "--mode", "frozen")
        assert run("round", str(path), "--rounds", "2").exit_code == 0
        picks.append([s.item_id for s in Workspace.open(path).store.selections()])
    assert picks[0] == picks[1]


def test_status_of_a_missing_workspace_is_one_line(tmp_path):
    result = run("status", str(tmp_path))
    assert result.exit_code == 1
    assert "not an activelabel workspace" in result.output and "Traceback" not in result.output


def test_init_refuses_an_existing_workspace_and_bad_options(workspace, small_corpus, tmp_path):
    again = run("init", str(workspace), "--corpus", str(small_corpus))
    assert again.exit_code == 1 and "already holds a workspace" in again.output
    strategy = run(
        "init", str(tmp_path / "x"), "--corpus", str(small_corpus), "--strategy", "magic"
    )
    assert strategy.exit_code == 1 and "unknown query strategy 'magic'" in strategy.output
    labels = run("init", str(tmp_path / "y"), "--corpus", str(small_corpus), "--labels", "sport")
    assert labels.exit_code == 1


def test_corrupt_state_file_is_reported(workspace):
    (workspace / "state.sqlite").write_bytes(b"this is not sqlite" * 100)
    result = run("status", str(workspace))
    assert result.exit_code == 1 and "corrupt" in result.output


def test_newer_state_version_is_refused(workspace):
    db = sqlite3.connect(workspace / "state.sqlite")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    result = run("status", str(workspace))
    assert result.exit_code == 1 and "newer activelabel" in result.output


def test_bad_config_value_names_the_key(workspace):
    text = (
        (workspace / "activelabel.toml").read_text().replace('mode = "finetune"', 'mode = "fast"')
    )
    (workspace / "activelabel.toml").write_text(text)
    result = run("status", str(workspace))
    assert result.exit_code == 1 and "model.mode must be one of" in result.output


def test_rounds_store_why_each_headline_was_picked(workspace):
    assert run("round", str(workspace), "--rounds", "2").exit_code == 0
    ws = Workspace.open(workspace)
    first, second = ws.store.selections(round=0), ws.store.selections(round=1)
    assert all(s.reason and s.reason.startswith("First batch") for s in first if s.arm == "active")
    active = [s for s in second if s.arm == "active"]
    assert active and all("unsure between" in s.reason for s in active)  # the default: margin
    assert all(s.reason.startswith("Picked at random") for s in second if s.arm == "random")
    top = active[0]
    # the reason names the guess; its confidence is shown (calibrated) on the guess line alone
    assert top.predicted in top.reason and "%" not in top.reason


MIGRATED = [("rounds", "label_watermark"), ("rounds", "training"), ("selections", "reason")]


def test_a_version_1_state_file_gains_the_reason_column(workspace):
    assert run("round", str(workspace)).exit_code == 0
    db = sqlite3.connect(workspace / "state.sqlite")
    for table, column in MIGRATED:  # as version 1 wrote it
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    ws = Workspace.open(workspace)
    assert ws.store.db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert len(ws.store.selections()) == 10 and {s.reason for s in ws.store.selections()} == {None}
    ws.store.close()
    assert run("round", str(workspace), "--force").exit_code == 0
    assert all(s.reason for s in Workspace.open(workspace).store.selections(round=1))


def test_init_names_the_next_step_for_each_annotator(tmp_path, small_corpus, tiny_model):
    made = run(
        "init", tmp_path / "ls", "--corpus", small_corpus, "--model", tiny_model,
        "--annotator", "labelstudio",
    )  # fmt: skip
    assert f"Next: activelabel labelstudio up {tmp_path / 'ls'} (starts Label Studio)" in (
        made.output
    )
    made = run("init", tmp_path / "o", "--corpus", small_corpus, "--model", tiny_model)
    assert f"Next: activelabel round {tmp_path / 'o'}" in made.output
    assert "labelstudio up" not in made.output


@pytest.mark.slow
def test_a_cold_start_batch_is_not_sent_topic_after_topic(
    tmp_path, small_corpus, tiny_model, monkeypatch
):
    import activelabel.loop as loop

    picked = []

    def spy(*args, **kwargs):  # the real selection, watched
        choice = real_pick(*args, **kwargs)
        picked.append([int(r) for r in choice.rows])
        return choice

    real_pick = loop.pick
    monkeypatch.setattr(loop, "pick", spy)
    path = tmp_path / "cold"
    options = ("--id-column", "id", "--batch-size", 12, "--mode", "frozen")
    init_workspace(path, small_corpus, tiny_model, *options, "--cold-start", "zero-shot")
    assert run("round", str(path)).exit_code == 0
    ws = Workspace.open(path)
    pool = sorted(ws.store.item_ids("pool").tolist())  # round 0's candidates, in id order
    strategy_order = [pool[r] for r in picked[0]]
    sent = [s.item_id for s in ws.store.selections(round=0)]
    # the strategy interleaves topics in a fixed order; the batch goes out shuffled
    assert sorted(sent) == sorted(strategy_order) and sent != strategy_order

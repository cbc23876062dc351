"""The state file is the one truth about the class list (fixed at init) and the settings stored
results were made with; a config that contradicts it, an emptied or cut-off config, a locked or
damaged state file each end in one line (docs/bad-input.md, "Workspace and state")."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest

from activelabel import store as store_module
from activelabel.store import Store
from activelabel.workspace import Workspace
from tests.cli import configure
from tests.test_bad_input import error_of, init, run


@pytest.fixture
def workspace(tmp_path, tiny_model, small_corpus) -> Path:
    result = init(tmp_path, tiny_model, small_corpus, "--test-size", "15", "--batch-size", "6")
    assert result.exit_code == 0, result.output
    configure(tmp_path / "ws", model={"mode": "frozen", "epochs": 1, "min_steps": 1})
    return tmp_path / "ws"


def config_path(workspace: Path) -> Path:
    return workspace / "activelabel.toml"


def labels_line(workspace: Path) -> str:
    """The ``labels = [...]`` entry as written (over several lines)."""
    return re.search(r"^labels = \[.*?\]", config_path(workspace).read_text(), re.M | re.S)[0]


def one_line(line: str) -> str:
    """``taxonomy.labels = [...]`` on one line, as an error message shows it."""
    names = re.findall(r'"([^"]+)"', line)
    return "taxonomy.labels = [" + ", ".join(f'"{n}"' for n in names) + "]"


def edit(workspace: Path, old: str, new: str) -> None:
    path = config_path(workspace)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_init_stores_the_class_list(workspace):
    ws = Workspace.open(workspace)
    assert ws.store.classes() == ws.config.taxonomy.labels
    assert len(ws.class_names) == 3


@pytest.mark.parametrize("how", ["removed", "emptied"])
def test_missing_class_list_is_refused_not_widened_to_the_taxonomy(workspace, how):
    line = labels_line(workspace)
    edit(workspace, line, "" if how == "removed" else "labels = []")
    message = error_of(run("status", workspace))
    assert "taxonomy.labels is missing or empty" in message
    assert "fixed at init (3)" in message and one_line(line) in message
    assert "missing or empty" in error_of(run("round", workspace))  # it trained on 17 before
    assert Store.open(workspace / "state.sqlite").next_round() == 0
    if how == "removed":
        edit(workspace, "[taxonomy]\n", "[taxonomy]\n" + line + "\n")
    else:
        edit(workspace, "labels = []", line)
    assert run("status", workspace).exit_code == 0


def test_restoring_the_class_list_after_rounds_keeps_the_workspace_whole(workspace):
    assert run("round", workspace, "--rounds", 2).exit_code == 0
    line = labels_line(workspace)
    edit(workspace, line, "labels = []")
    assert "missing or empty" in error_of(run("round", workspace))
    assert Store.open(workspace / "state.sqlite").next_round() == 2  # nothing trained on 17
    edit(workspace, "labels = []", line)
    status = run("status", workspace)
    assert status.exit_code == 0, status.output
    assert "33.3" in status.output  # chance with 3 classes, not 5.88 %
    assert run("report", workspace).exit_code == 0


def test_reordered_class_list_is_refused(workspace):
    assert run("round", workspace).exit_code == 0
    line = labels_line(workspace)
    names = re.findall(r'"([^"]+)"', line)
    swapped = [names[1], names[0], *names[2:]]
    edit(workspace, line, "labels = [" + ", ".join(f'"{n}"' for n in swapped) + "]")
    message = error_of(run("report", workspace))
    assert "(it lists the classes in another order" in message
    assert one_line(line) in message
    assert not (workspace / "report").exists()


def test_added_or_dropped_class_is_refused_by_name(workspace):
    line = labels_line(workspace)
    edit(workspace, line, line[:-1] + '"weather"]')
    assert "adds 'weather'" in error_of(run("status", workspace))
    names = re.findall(r'"([^"]+)"', line)
    edit(workspace, labels_line(workspace), f'labels = ["{names[0]}", "{names[1]}"]')
    assert f"lacks '{names[2]}'" in error_of(run("status", workspace))


def test_a_state_file_from_before_adopts_the_config_list_once(workspace):
    db = sqlite3.connect(workspace / "state.sqlite")
    with db:
        db.execute("DELETE FROM settings WHERE key = 'classes'")
    db.close()
    assert run("status", workspace).exit_code == 0
    assert Store.open(workspace / "state.sqlite").classes() is not None


def test_a_state_file_from_before_with_other_sized_results_is_refused(workspace):
    assert run("round", workspace).exit_code == 0
    db = sqlite3.connect(workspace / "state.sqlite")
    with db:
        db.execute("DELETE FROM settings WHERE key = 'classes'")
    db.close()
    edit(workspace, labels_line(workspace), "labels = []")
    assert "missing or empty" in error_of(run("status", workspace))


@pytest.mark.parametrize("content", ["", "\n\n# only a comment\n"])
def test_empty_config_is_an_error_not_a_reset(workspace, content):
    config_path(workspace).write_text(content)
    message = error_of(run("status", workspace))
    assert "activelabel.toml: the file is empty" in message and "backup" in message


def test_cut_off_config_is_an_error_not_a_reset(workspace):
    text = config_path(workspace).read_text()
    config_path(workspace).write_text(text[: text.index("[model]")])
    message = error_of(run("round", workspace))
    assert "[model], [loop] are missing" in message and "cut off" in message


def test_simulate_refuses_to_continue_curves_after_model_settings_changed(workspace):
    options = ("--strategies", "margin", "--seeds", 1, "--sizes", "6,9", "--cold-start", "random")
    assert run("simulate", workspace, *options).exit_code == 0
    stored = Workspace.open(workspace).store.sim_points()
    configure(workspace, model={"topic_weight": 0.0})
    message = error_of(run("simulate", workspace, *options[:4], "--sizes", "6,9,12", *options[6:]))
    assert "model.topic_weight = 10.0, but activelabel.toml now says 0.0" in message
    assert "--fresh" in message
    assert Workspace.open(workspace).store.sim_points() == stored
    configure(workspace, model={"topic_weight": 10.0, "pseudo_labels": "none"})
    assert "model.pseudo_labels" in error_of(run("simulate", workspace, *options))
    fresh = run("simulate", workspace, *options, "--fresh")
    assert fresh.exit_code == 0, fresh.output


def test_locked_state_file_is_called_busy_not_corrupt(workspace, monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 0.5)
    holder = sqlite3.connect(workspace / "state.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        clock = time.monotonic()
        message = error_of(run("status", workspace))
        assert time.monotonic() - clock < 20
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "in use by another process" in message and "not damaged" in message
    assert "corrupt" not in message and "backup" not in message
    assert run("status", workspace).exit_code == 0


ALL = ("status", "report", "round")


@pytest.mark.parametrize(
    ("damage", "commands"),
    [
        ("UPDATE rounds SET evaluation = 'not json'", ALL),
        ("UPDATE rounds SET evaluation = '[1, 2]'", ALL),
        ("UPDATE rounds SET evaluation = '{\"accuracy\": 1}'", ALL),
        ("INSERT OR REPLACE INTO settings VALUES ('stopping_set', 'not json')", ("round",)),
        ("ALTER TABLE rounds DROP COLUMN evaluation", ALL),
        ("ALTER TABLE selections DROP COLUMN reason", ALL),
        ("UPDATE settings SET value = '{' WHERE key = 'classes'", ALL),
    ],
)
def test_damaged_stored_values_name_the_file(workspace, damage, commands):
    assert run("round", workspace).exit_code == 0
    db = sqlite3.connect(workspace / "state.sqlite")
    with db:
        db.execute(damage)
    db.close()
    for command in commands:
        message = error_of(run(command, workspace))
        assert "state.sqlite" in message and "damaged" in message and "backup" in message

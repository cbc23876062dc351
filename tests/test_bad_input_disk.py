"""Workspaces on a real read-only mount and a real full disk, damaged state files and configs
that only failed later (docs/bad-input.md). The mounts are tmpfs file systems made for the test
(root only; skipped elsewhere) and unmounted after it."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from activelabel.store import NewLabel, Store
from tests.cli import configure
from tests.test_bad_input import error_of, fast, init, run


@contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A fresh tmpfs mounted on ``folder`` with ``options`` (e.g. ``size=64k`` or ``ro``)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@contextmanager
def read_only_view(source: Path, folder: Path) -> Iterator[Path]:
    """``source`` bind-mounted on ``folder`` and remounted read-only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root")
    folder.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "--bind", str(source), str(folder)]).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def big_corpus(path: Path, rows: int = 3000) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        topics = ["sport", "politics", "science and technology"]
        for n in range(rows):
            writer.writerow([f"headline number {n} about {topics[n % 3]} " * 3, topics[n % 3]])
    return path


def fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte; returns the filler file."""
    filler = folder / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 4096, 1):
            while True:
                try:
                    os.write(handle, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(handle)
    return filler


# -- read-only (item 5) -------------------------------------------------------------------------


def test_init_on_a_read_only_mount(tmp_path, tiny_model, small_corpus):
    with tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
        message = error_of(init(folder, tiny_model, small_corpus, "--test-size", "15"))
    assert "Read-only file system" in message and "read-only file system; copy" in message


@pytest.mark.slow
def test_round_and_report_on_a_read_only_workspace(tmp_path, tiny_model, small_corpus):
    assert init(tmp_path, tiny_model, small_corpus, "--test-size", "15").exit_code == 0
    fast(tmp_path / "ws", 10)
    assert run("round", tmp_path / "ws").exit_code == 0
    with read_only_view(tmp_path / "ws", tmp_path / "ro") as ws:
        assert run("status", ws).exit_code == 0  # reading still works
        message = error_of(run("round", ws))
        assert "cannot take the round lock" in message and str(ws / ".round.lock") in message
        message = error_of(run("report", ws))
        assert str(ws / "report") in message and "--out" in message
        out = tmp_path / "report"
        assert run("report", ws, "--out", out).exit_code == 0
        assert (out / "index.html").is_file()
    assert len(Store.open(tmp_path / "ws" / "state.sqlite").rounds()) == 1


# -- a full disk (item 6) -----------------------------------------------------------------------


def test_init_on_a_full_disk_leaves_nothing_behind(tmp_path, tiny_model):
    corpus = big_corpus(tmp_path / "big.csv")
    with tmpfs(tmp_path / "small", "size=64k") as folder:
        message = error_of(init(folder, tiny_model, corpus))
        assert "state.sqlite" in message and "the disk is full" in message
        assert list((folder / "ws").glob("*")) == [] or not (folder / "ws").exists()
    result = init(tmp_path, tiny_model, corpus)  # the same command elsewhere works
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_round_on_a_full_disk_saves_nothing(tmp_path, tiny_model, small_corpus):
    with tmpfs(tmp_path / "mnt", "size=4m") as folder:
        ws = folder / "ws"
        assert init(folder, tiny_model, small_corpus, "--test-size", "15").exit_code == 0
        fast(ws, 10)
        assert run("round", ws).exit_code == 0
        filler = fill(folder)
        message = error_of(run("round", ws))
        assert "disk is full" in message or "No space left on device" in message
        filler.unlink()
        assert len(Store.open(ws / "state.sqlite").rounds()) == 1
        again = run("round", ws)
        assert again.exit_code == 0, again.output
        assert len(Store.open(ws / "state.sqlite").rounds()) == 2


# -- the state file and the classes (item 8) ---------------------------------------------------


@pytest.fixture
def workspace(tmp_path, tiny_model, small_corpus) -> Path:
    assert init(tmp_path, tiny_model, small_corpus, "--test-size", "15").exit_code == 0
    return tmp_path / "ws"


@pytest.mark.parametrize("table", ["items", "labels", "rounds", "selections", "settings"])
def test_state_file_with_a_table_dropped(workspace, table):
    db = sqlite3.connect(workspace / "state.sqlite")
    db.execute(f"DROP TABLE {table}")
    db.commit()
    db.close()
    message = error_of(run("status", workspace))
    assert f"lacks the table(s) '{table}'" in message and "restore it from a backup" in message


def test_stored_label_that_is_not_a_class(workspace):
    store = Store.open(workspace / "state.sqlite")
    item = store.items("pool")[0]
    with store.transaction() as db:
        store.apply_labels([NewLabel(item.id, "gossip", "import")], db=db)
    message = error_of(run("status", workspace))
    assert "holds 1 label(s) 'gossip', which is not a class of this workspace" in message


@pytest.mark.slow
def test_taxonomy_edited_to_drop_a_labelled_class(workspace):
    fast(workspace, 10)
    assert run("round", workspace, "--rounds", "2").exit_code == 0
    configure(workspace, taxonomy={"labels": ["politics", "science and technology"]})
    message = error_of(run("round", workspace, "--force"))
    assert "taxonomy.labels differs from the class list fixed at init (it lacks 'sport'" in message
    assert "restore taxonomy.labels = [" in message


# -- the config, checked when it loads (item 7) -------------------------------------------------


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("tpu", "model.device must be auto, cpu, cuda, cuda:N (a GPU number) or mps, not 'tpu'"),
        ("cuda:x", "model.device must be auto, cpu, cuda, cuda:N"),
    ],
)
def test_unknown_device_is_refused_by_every_command(workspace, device, expected):
    configure_raw(workspace, device)
    assert expected in error_of(run("status", workspace))


def test_cuda_without_a_gpu_names_the_key(workspace):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    configure_raw(workspace, "cuda")
    message = error_of(run("status", workspace))
    assert "model.device is 'cuda', but this torch" in message and "'cpu'" in message


def configure_raw(workspace: Path, device: str) -> None:
    path = workspace / "activelabel.toml"
    path.write_text(path.read_text().replace('device = "auto"', f'device = "{device}"'))

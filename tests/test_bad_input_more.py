"""More bad input (docs/bad-input.md): invisible headlines, near-duplicate leaks between pool
and test, JSON with a key twice or odd ids, test sizes that are not whole, long CSV fields,
odd init targets, pipes as files, relative paths used from elsewhere, an interrupted round, a
busy workspace and a full disk under the embedding cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from activelabel.corpus import load_corpus_file
from activelabel.errors import ActiveLabelError, ConfigError, CorpusError
from activelabel.faults import INTERRUPT_AT
from activelabel.model.embedding_cache import EmbeddingCache
from activelabel.workspace import Workspace
from tests.cli import init_workspace
from tests.conftest import write_corpus
from tests.test_bad_input import error_of, init, run, write
from tests.test_bad_input_disk import fill, tmpfs


def jsonl(path: Path, rows: list[dict]) -> Path:
    return write(path, "".join(json.dumps(row) + "\n" for row in rows))


# -- texts that show nothing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["\x00\x00\x00", "\u3164\u3164", "\u2800", "\u034f", "\uffa0 \uffa0", "\ufe0f"]
)
def test_headline_that_shows_nothing_is_refused(tmp_path, text):
    path = jsonl(tmp_path / "c.jsonl", [{"text": "a real headline"}, {"text": text}])
    with pytest.raises(CorpusError, match=r"c.jsonl: row 2 has only invisible characters"):
        load_corpus_file(path)


def test_accented_headlines_are_not_invisible(tmp_path):
    path = jsonl(tmp_path / "c.jsonl", [{"text": "cafe\u0301 reopens"}, {"text": "\u00e8 vero"}])
    assert len(load_corpus_file(path)) == 2


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\u2060"])
def test_test_headline_equal_up_to_an_invisible_character_is_not_a_leak(
    tmp_path, tiny_model, small_corpus, invisible
):
    lines = small_corpus.read_text().splitlines()
    test_rows = ["id,text,label"]
    for line in lines[1:8]:
        ident, text, label = line.rsplit(",", 2) if line.count(",") == 2 else line.split(",", 2)
        test_rows.append(f"t{ident},{text[:4]}{invisible}{text[4:]},{label}")
    test = write(tmp_path / "test.csv", "\n".join(test_rows) + "\n")
    done = init(tmp_path, tiny_model, small_corpus, "--test", test)
    assert done.exit_code == 0, done.output
    assert "removed 7 pool texts that are also in the test set" in " ".join(done.output.split())
    ws = Workspace.open(tmp_path / "ws")
    from activelabel.init import text_key

    pool = {text_key(i.text) for i in ws.store.items("pool")}
    assert not pool & {text_key(i.text) for i in ws.store.items("test")}


# -- JSON records --------------------------------------------------------------------------------


def test_jsonl_key_given_twice_is_refused(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"text": "first", "text": "second", "label": "sport"}\n')
    with pytest.raises(CorpusError, match="line 1 names the key 'text' twice"):
        load_corpus_file(path)
    array = write(tmp_path / "c.json", '[{"text": "a", "label": "x", "label": "y"}]')
    with pytest.raises(CorpusError, match="names the key 'label' twice"):
        load_corpus_file(array)


@pytest.mark.parametrize(
    ("ident", "kind"),
    [({"a": 1}, "an object"), (True, "a boolean"), ([1], "a list"), (1.5, "a number")],
)
def test_jsonl_id_that_is_not_a_text_or_whole_number_is_refused(tmp_path, ident, kind):
    path = jsonl(tmp_path / "c.jsonl", [{"id": ident, "text": "a headline"}])
    with pytest.raises(CorpusError, match=f"row 1 has {kind}.* as its id in 'id'"):
        load_corpus_file(path, id_column="id")


def test_whole_number_ids_are_kept(tmp_path):
    path = jsonl(tmp_path / "c.jsonl", [{"id": 7, "text": "a"}, {"id": 8.0, "text": "b"}])
    assert [r.ext_id for r in load_corpus_file(path, id_column="id").records] == ["7", "8"]


# -- test size -----------------------------------------------------------------------------------


def test_test_size_that_is_not_whole_is_refused(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--test-size", "2.5"))
    assert "--test-size (corpus.test_size) must be a share below 1" in message
    assert "whole count" in message and "2.5" in message


def test_test_size_that_rounds_to_nothing_is_refused(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--test-size", "1e-9"))
    assert "is 0 records, an empty test set" in message
    assert not (tmp_path / "ws").exists()


# -- long fields ---------------------------------------------------------------------------------


def test_a_one_megabyte_headline_in_a_csv_loads(tmp_path):
    long = "word " * 210_000
    path = write(tmp_path / "c.csv", f'text,label\n"{long}",sport\nshort one,politics\n')
    corpus = load_corpus_file(path)
    assert len(corpus.records[0].text) == len(long.strip())


# -- the workspace folder and its files ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["loop", "dangling"])
def test_init_target_that_is_a_broken_link_is_named(tmp_path, tiny_model, small_corpus, kind):
    target = tmp_path / "ws"
    if kind == "loop":
        os.symlink(target, target)
    else:
        os.symlink(tmp_path / "nowhere", target)
    message = error_of(init(tmp_path, tiny_model, small_corpus))
    assert "is a symbolic link to nothing (a dangling link or a loop)" in message
    assert os.path.islink(target)


def test_fifo_as_taxonomy_or_config_is_refused_without_hanging(tmp_path, tiny_model, small_corpus):
    fifo = tmp_path / "topics.toml"
    os.mkfifo(fifo)
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--taxonomy", fifo))
    assert "is not a regular file (a folder, pipe, socket or device)" in message
    workspace = init_workspace(tmp_path / "w2", small_corpus, tiny_model)
    (workspace / "activelabel.toml").unlink()
    os.mkfifo(workspace / "activelabel.toml")
    message = error_of(run("status", workspace))
    assert "activelabel.toml: not a regular file" in message


def test_topic_name_with_a_line_break_is_refused(tmp_path, tiny_model, small_corpus):
    taxonomy = write(
        tmp_path / "t.toml",
        '[[topic]]\nname = "sport"\n[[topic]]\nname = "politics\\nand more"\n',
    )
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--taxonomy", taxonomy))
    assert "topic 2 ('politics\\nand more') has a line break" in message


def test_relative_taxonomy_and_model_work_from_another_folder(tmp_path, tiny_model, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    write_corpus(project / "corpus.csv")
    write(
        project / "topics.toml",
        "".join(
            f'[[topic]]\nname = "{n}"\n'
            for n in ("sport", "politics", "science and technology", "weather")
        ),
    )
    os.symlink(tiny_model, project / "model")
    monkeypatch.chdir(project)
    done = run(
        "init", "ws", "--corpus", "corpus.csv", "--taxonomy", "topics.toml", "--model", "model"
    )
    assert done.exit_code == 0, done.output
    monkeypatch.chdir(tmp_path)
    ws = Workspace.open(project / "ws")
    assert Path(ws.config.taxonomy.name).is_absolute() and Path(ws.config.model.name).is_absolute()
    assert run("status", project / "ws").exit_code == 0


# -- an interrupted round, a busy workspace ------------------------------------------------------


@pytest.mark.slow
def test_interrupted_round_says_pulled_labels_are_kept(tmp_path, tiny_model, small_corpus):
    workspace = init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--batch-size", 6)
    assert run("round", workspace).exit_code == 0
    env = {**os.environ, INTERRUPT_AT: "train"}
    done = subprocess.run(
        [sys.executable, "-m", "activelabel", "round", str(workspace)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert "labels already pulled are kept" in done.stderr
    assert "nothing of the unfinished round was saved" not in done.stderr
    assert len(Workspace.open(workspace).store.active_labels()) == 6  # the pulled labels
    assert run("round", workspace).exit_code == 0


def test_simulate_refused_by_a_running_round_names_both(tmp_path, tiny_model, small_corpus):
    workspace = init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--mode", "frozen")
    with Workspace.open(workspace).lock("a round"):
        message = error_of(run("simulate", workspace, "--sizes", "6,9", "--seeds", 1))
    assert f"a round is already running (pid {os.getpid()})" in message
    assert "then run a simulation again" in message


# -- the embedding cache on a full disk ----------------------------------------------------------


def test_full_disk_under_the_embedding_cache_is_one_line(tmp_path):
    with tmpfs(tmp_path / "small", "size=256k") as folder:
        cache = EmbeddingCache(folder / "cache", dim=384)
        fill(folder)
        keys = np.arange(50, dtype=np.uint64)
        with pytest.raises(ActiveLabelError) as error:
            cache.add(keys, np.ones((50, 384), dtype=np.float32))
        message = str(error.value)
        assert "cannot write the embedding cache" in message and "the disk is full" in message
        assert "\n" not in message
        left = [p.name for p in (folder / "cache").iterdir() if p.name != ".lock"]
        assert not [n for n in left if n.endswith(".npy") or ".tmp-" in n]
        (folder / "filler").unlink()
        cache.add(keys, np.ones((50, 384), dtype=np.float32))  # works once there is room
        vectors, found = cache.lookup(keys)
        assert found.all()


def test_config_errors_are_config_errors():
    assert issubclass(ConfigError, ActiveLabelError)

"""The bad-input catalogue (docs/bad-input.md): one test per case that test_loaders.py,
test_workflow.py, test_model.py and test_properties.py do not already check.

Every error must come out of the command as a single ``Error: ...`` line naming the file, row
or option and saying what to do, with exit code 1 and no traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from activelabel.config import load_config, save_config
from activelabel.corpus import load_corpus_file
from activelabel.errors import ConfigError, CorpusError
from activelabel.model.encoder import load_tokenizer
from activelabel.workspace import Workspace
from tests.cli import configure
from tests.cli import run as _run


def run(*args):
    return _run(*args, catch_exceptions=True)


def error_of(result) -> str:
    """The command's error: exit code 1, the last line is the one 'Error: ' line."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    last = result.output.rstrip("\n").splitlines()[-1]
    assert last.startswith("Error: ") and result.output.count("Error: ") == 1, result.output
    return last


def init(tmp_path, tiny_model, corpus, *options, name="ws"):
    return run("init", tmp_path / name, "--corpus", corpus, "--model", tiny_model, *options)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def fast(path: Path, batch_size: int | None = None) -> None:
    """Make the workspace's rounds quick: frozen encoder, one short training."""
    configure(
        path,
        model={"mode": "frozen", "epochs": 1, "min_steps": 1},
        loop={"batch_size": batch_size} if batch_size else {},
    )


# -- corpus files ------------------------------------------------------------------------------


def test_misspelled_label_and_id_columns_name_the_option(tmp_path, tiny_model, small_corpus):
    label = error_of(init(tmp_path, tiny_model, small_corpus, "--label-column", "lable"))
    assert "no column 'lable' (given by --label-column)" in label
    assert "did you mean 'label'?" in label and str(small_corpus) in label
    ident = error_of(init(tmp_path, tiny_model, small_corpus, "--id-column", "ID"))
    assert "no column 'ID' (given by --id-column)" in ident and "did you mean 'id'?" in ident


def test_default_label_column_with_a_near_miss_is_not_silently_unlabelled(tmp_path):
    path = write(tmp_path / "c.csv", "text,Label\nhello,sport\n")
    with pytest.raises(CorpusError, match="no column 'label', but there is 'Label'"):
        load_corpus_file(path)
    assert load_corpus_file(path, label_column="Label").labels == ["sport"]
    assert load_corpus_file(path, label_column="").labels == [None]


def test_empty_id_names_the_row(tmp_path):
    path = write(tmp_path / "c.csv", "id,text\n1,a\n ,b\n")
    with pytest.raises(CorpusError, match=r"c.csv: row 2 has an empty id in 'id'"):
        load_corpus_file(path, id_column="id")


def test_jsonl_row_without_the_id_names_the_row(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"id": "a", "text": "x"}\n{"text": "y"}\n')
    with pytest.raises(CorpusError, match=r"c.jsonl: row 2 has an empty id in 'id'"):
        load_corpus_file(path, id_column="id")


def test_non_utf8_jsonl_names_the_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(CorpusError, match="c.jsonl: line 2 is not UTF-8.*re-save"):
        load_corpus_file(path)


def test_duplicate_texts_are_dropped_with_a_note(tmp_path, tiny_model):
    corpus = write(
        tmp_path / "c.csv",
        "text,label\n"
        + "".join(f"a {i},sport\nb {i},politics\n" for i in range(5))
        + "a 1,sport\n",
    )
    result = init(tmp_path, tiny_model, corpus, "--test-size", "2")
    assert result.exit_code == 0, result.output
    assert "dropped 1 duplicate texts" in result.output
    assert len(Workspace.open(tmp_path / "ws").store.items()) == 10


# -- labels and taxonomy -----------------------------------------------------------------------


def test_label_not_in_the_taxonomy_names_record_and_label(tmp_path, tiny_model):
    corpus = write(tmp_path / "c.csv", "id,text,label\na,x,sport\nb,y,gossip\nc,z,politics\n")
    message = error_of(init(tmp_path, tiny_model, corpus, "--id-column", "id"))
    assert f"{corpus}: record 2 (id b) has label 'gossip'" in message
    assert "not in the taxonomy 'iptc'" in message and "--taxonomy/--labels" in message


def test_label_outside_the_labels_subset_names_the_subset(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--labels", "sport,politics"))
    assert "has label 'science and technology'" in message
    assert "not one of the classes given by --labels (sport, politics)" in message


def test_unknown_topic_in_labels_names_the_option(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--labels", "sport,gossip"))
    assert "'gossip' (--labels / taxonomy.labels) are not topics of taxonomy" in message


def test_labels_with_commas_inside_topic_names(tmp_path, tiny_model):
    corpus = write(
        tmp_path / "c.csv",
        "text,label\n"
        + "".join(f'm {i},"economy, business and finance"\ns {i},sport\n' for i in range(4)),
    )
    result = init(tmp_path, tiny_model, corpus, "--labels", "sport, economy, business and finance")
    assert result.exit_code == 0, result.output
    classes = Workspace.open(tmp_path / "ws").class_names
    assert classes == ["sport", "economy, business and finance"]


def test_labels_leaving_one_class(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--labels", "sport"))
    assert "--labels names only one class (sport)" in message
    assert "at least two classes" in message


def test_corpus_with_a_single_topic(tmp_path, tiny_model):
    corpus = write(tmp_path / "c.csv", "text,label\na,sport\nb,sport\nc,sport\n")
    message = error_of(init(tmp_path, tiny_model, corpus))
    assert "only one topic (sport)" in message and "pass --labels" in message


def test_unknown_taxonomy_names_the_option(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--taxonomy", "nope"))
    assert "taxonomy 'nope' (--taxonomy / taxonomy.name)" in message


def test_topic_with_no_examples_gives_a_note(tmp_path, tiny_model, small_corpus):
    result = init(
        tmp_path,
        tiny_model,
        small_corpus,
        "--labels",
        "sport,politics,science and technology,weather",
    )
    assert result.exit_code == 0, result.output
    assert "note: no pool examples of: weather" in " ".join(result.output.split())
    assert "weather" in Workspace.open(tmp_path / "ws").class_names


# -- test set ----------------------------------------------------------------------------------


def test_test_size_larger_than_the_corpus(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--test-size", "500"))
    assert "--test-size 500 asks for 500 test records" in message
    assert "(90 labelled)" in message and "smaller test size" in message


def test_test_size_zero_or_negative(tmp_path, tiny_model, small_corpus):
    for value in ("0", "-1"):
        message = error_of(init(tmp_path, tiny_model, small_corpus, "--test-size", value))
        assert "--test-size (corpus.test_size) must be a share below 1" in message


def test_test_file_with_unlabelled_rows(tmp_path, tiny_model, small_corpus):
    test = write(tmp_path / "test.csv", "text,label\nhello,sport\nworld,\nagain,\n")
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--test", test))
    assert f"{test}: 2 test record(s) have no label in 'label'" in message
    assert "the first is record 2 (id 2)" in message


def test_test_set_overlapping_the_pool_is_removed_from_the_pool(tmp_path, tiny_model, small_corpus):
    test = write(
        tmp_path / "test.csv",
        "text,label\nwins the cup final (0),sport\nelection date announced (0),politics\n",
    )
    result = init(tmp_path, tiny_model, small_corpus, "--test", test)
    assert result.exit_code == 0, result.output
    assert "removed 2 pool texts that are also in the test set" in result.output
    ws = Workspace.open(tmp_path / "ws")
    pool = {item.text for item in ws.store.items("pool")}
    assert len(pool) == 88 and not pool & {item.text for item in ws.store.items("test")}


def test_test_file_holding_the_whole_corpus(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--test", small_corpus))
    assert "the pool is empty after removing the test set" in message


def test_unlabelled_corpus_without_test_file_gives_a_note(tmp_path, tiny_model):
    corpus = write(tmp_path / "c.csv", "text\na\nb\nc\n")
    result = init(tmp_path, tiny_model, corpus, "--annotator", "labelstudio")
    assert result.exit_code == 0, result.output
    assert "no labelled test set" in result.output


# -- workspace, state and config ---------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path, tiny_model, small_corpus) -> Path:
    result = init(tmp_path, tiny_model, small_corpus, "--test-size", "15", "--batch-size", "10")
    assert result.exit_code == 0, result.output
    return tmp_path / "ws"


def test_missing_state_file(workspace):
    (workspace / "state.sqlite").unlink()
    assert "state file missing" in error_of(run("status", workspace))


def test_toml_syntax_error_in_the_config(workspace):
    path = workspace / "activelabel.toml"
    path.write_text(path.read_text().replace("epochs = 6", "epochs = = 6"))
    message = error_of(run("status", workspace))
    assert f"{path}: not valid TOML" in message and "line" in message and "fix" in message


def test_negative_batch_size_in_the_config(workspace):
    path = workspace / "activelabel.toml"
    path.write_text(path.read_text().replace("batch_size = 10", "batch_size = -5"))
    message = error_of(run("status", workspace))
    assert f"{path}: loop.batch_size must be at least 1, not -5" in message


def test_wrong_type_and_unknown_key_in_the_config(workspace):
    path = workspace / "activelabel.toml"
    original = path.read_text()
    path.write_text(original.replace("epochs = 6", 'epochs = "six"'))
    assert "'model.epochs' must be an integer, not 'six'" in error_of(run("status", workspace))
    path.write_text(original.replace("epochs = 6", "epoch = 6"))
    assert "unknown key 'model.epoch'; did you mean 'model.epochs'?" in error_of(
        run("status", workspace)
    )


def test_negative_seed_is_refused(tmp_path, tiny_model, small_corpus):
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--seed", "-1"))
    assert "--seed (loop.seed) must be 0 or more, not -1" in message


def test_unknown_strategy_in_the_config(workspace):
    fast(workspace)
    config = load_config(workspace)
    config.loop.cold_start = "magic"
    save_config(workspace, config)
    assert "unknown query strategy 'magic'" in error_of(run("round", workspace))


def test_round_batch_size_zero_is_a_usage_error(workspace):
    result = run("round", workspace, "--batch-size", "0")
    assert result.exit_code == 2 and "Invalid value for '--batch-size'" in result.output


# -- the model ---------------------------------------------------------------------------------


def test_model_folder_that_is_not_a_model(tmp_path, small_corpus):
    empty = tmp_path / "emptydir"
    empty.mkdir()
    message = error_of(run("init", tmp_path / "ws", "--corpus", small_corpus, "--model", empty))
    assert f"model.name (--model) '{empty}' is not a model folder (no config.json in it)" in (
        message
    )
    assert not (tmp_path / "ws").exists()


def test_model_folder_without_weights_is_refused_by_init(tmp_path, tiny_model, small_corpus):
    folder = tmp_path / "no-weights"
    shutil.copytree(tiny_model, folder)
    (folder / "model.safetensors").unlink()
    message = error_of(run("init", tmp_path / "ws", "--corpus", small_corpus, "--model", folder))
    assert f"--model '{folder}': the folder has a config.json but no weights" in message


def test_model_folder_without_weights_stops_the_round(workspace, tiny_model, tmp_path):
    folder = tmp_path / "no-weights"
    shutil.copytree(tiny_model, folder)
    (folder / "model.safetensors").unlink()
    config = load_config(workspace)
    config.model.name = str(folder)
    save_config(workspace, config)
    message = error_of(run("round", workspace))
    assert f"cannot load an encoder from '{folder}' (model.name)" in message
    assert "save_pretrained" in message
    assert Workspace.open(workspace).store.rounds() == []


def test_model_folder_without_tokenizer_stops_the_round(workspace, tmp_path):
    folder = tmp_path / "config-only"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.safetensors").write_bytes(b"not weights")
    config = load_config(workspace)
    config.model.name = str(folder)
    save_config(workspace, config)
    message = error_of(run("round", workspace))
    assert f"'{folder}' (model.name)" in message and "cannot load" in message


def test_unreachable_hub_id_is_one_line():
    with pytest.raises(ConfigError) as error:
        load_tokenizer("no-such-org/no-such-model")
    assert "\n" not in str(error.value) and "no-such-org/no-such-model" in str(error.value)


# -- the loop ----------------------------------------------------------------------------------


def test_pool_smaller_than_the_batch_selects_the_whole_pool(tmp_path, tiny_model):
    corpus = write(
        tmp_path / "c.csv",
        "text,label\n" + "".join(f"goal {i},sport\nvote {i},politics\n" for i in range(4)),
    )
    assert init(tmp_path, tiny_model, corpus, "--test-size", "2").exit_code == 0
    workspace = tmp_path / "ws"
    fast(workspace, batch_size=50)
    result = run("round", workspace, "--rounds", "3")
    assert result.exit_code == 0, result.output
    assert "round 0: 0 labels (+0)" in result.output and "sent 6 headlines" in result.output
    assert "round 2: 6 labels (+0)" in result.output and "sent 0 headlines" in result.output
    ws = Workspace.open(workspace)
    assert len(ws.store.selections()) == 6 and len(ws.store.active_labels()) == 6

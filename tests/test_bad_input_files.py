"""Corpus files that used to load wrongly without a word, hang, or get a misleading message
(docs/bad-input.md): each is written for real in its format and loaded for real."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from activelabel.corpus import load_corpus_file
from activelabel.errors import CorpusError
from activelabel.store import Store
from tests.test_bad_input import error_of, init, run, write

ROOT = Path(__file__).resolve().parents[1]


# -- values that are not texts (item 9) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [(12345, "a number (12345)"), ({"a": 1}, "an object"), (True, "a boolean (True)")],
)
def test_jsonl_text_that_is_not_a_string_names_the_row(tmp_path, value, kind):
    path = tmp_path / "c.jsonl"
    rows = [{"text": "a real headline", "label": "sport"}, {"text": value, "label": "sport"}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(f"c.jsonl: row 2 has {kind} in 'text'")):
        load_corpus_file(path)


def test_parquet_list_column_as_text_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "c.parquet"
    table = pa.table({"text": [["two", "words"], ["more"]], "label": ["sport", "politics"]})
    assert table.schema.field("text").type == pa.list_(pa.string())
    pq.write_table(table, path)
    with pytest.raises(CorpusError, match=r"c.parquet: row 1 has a list in 'text', not a text"):
        load_corpus_file(path)


def test_object_as_label_is_refused_and_class_numbers_are_kept(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "a", "label": 3}\n{"text": "b", "label": ["x"]}\n', "utf-8")
    with pytest.raises(CorpusError, match=r"row 2 has a list in 'label', not a label"):
        load_corpus_file(path)
    path.write_text('{"text": "a", "label": 3}\n{"text": "b", "label": 4.0}\n', "utf-8")
    assert load_corpus_file(path).labels == ["3", "4"]


def test_header_with_two_text_columns_is_refused(tmp_path):
    path = write(tmp_path / "c.csv", "id,text,label,text\n1,first,sport,second\n")
    with pytest.raises(CorpusError, match=r"names column 'text' twice \(columns 2 and 4\)"):
        load_corpus_file(path)


def test_text_column_equal_to_label_column(tmp_path, tiny_model, small_corpus):
    message = error_of(
        init(tmp_path, tiny_model, small_corpus, "--text-column", "text", "--label-column", "text")
    )
    assert "--text-column and --label-column both name 'text'" in message


# -- a DatasetDict with splits (item 10) --------------------------------------------------------


def _dataset_dict(folder: Path) -> Path:
    import datasets

    from tests.conftest import TOPICS

    def split(copies: range) -> datasets.Dataset:
        rows = [
            (f"{phrase} ({copy})", label)
            for copy in copies
            for label, phrases in TOPICS.items()
            for phrase in phrases
        ]
        return datasets.Dataset.from_dict(
            {"text": [t for t, _ in rows], "label": [lab for _, lab in rows]}
        )

    parts = {"train": split(range(4)), "test": split(range(4, 5)), "validation": split(range(5, 6))}
    datasets.DatasetDict(parts).save_to_disk(str(folder))
    return folder


def test_dataset_dict_test_split_becomes_the_test_set(tmp_path, tiny_model):
    folder = _dataset_dict(tmp_path / "saved")
    result = init(tmp_path, tiny_model, folder)
    assert result.exit_code == 0, result.output
    assert f"the test set is the split 'test' of {folder}" in result.output
    assert "ignored the split(s) 'validation'" in result.output
    store = Store.open(tmp_path / "ws" / "state.sqlite")
    assert len(store.items("pool")) == 60 and len(store.items("test")) == 15
    assert all(item.text.endswith("(4)") for item in store.items("test"))


def test_dataset_dict_split_can_be_named(tmp_path, tiny_model):
    folder = _dataset_dict(tmp_path / "saved")
    assert len(load_corpus_file(f"{folder}::validation")) == 15
    with pytest.raises(CorpusError, match=r"no split 'dev'; it has 'train', 'test', 'validation'"):
        load_corpus_file(f"{folder}::dev")
    result = init(tmp_path, tiny_model, folder, "--test", f"{folder}::validation")
    assert result.exit_code == 0, result.output
    assert "ignored the split(s) 'test'" in result.output


# -- invisible texts (item 11) ------------------------------------------------------------------


@pytest.mark.parametrize("invisible", ["\u200b", "\u200b\u200c\u200d", "\u2060\ufeff", "\u00ad "])
def test_text_of_zero_width_characters_is_refused(tmp_path, invisible):
    path = tmp_path / "c.csv"
    path.write_text(f"text,label\nreal headline,sport\n{invisible},sport\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"row 2 has only invisible characters in 'text'"):
        load_corpus_file(path)


# -- near-duplicates between test set and pool (item 12) ----------------------------------------


def test_test_headlines_equal_up_to_case_and_spacing_leave_the_pool(
    tmp_path, tiny_model, small_corpus
):
    test = write(
        tmp_path / "test.csv",
        "text,label\nWINS THE CUP  FINAL (0),sport\n  minister resigns\tover vote (0),politics\n"
        "ｉｎｔｅｒｎｅｔ speeds double (0),science and technology\n",
    )
    result = init(tmp_path, tiny_model, small_corpus, "--test", test)
    assert result.exit_code == 0, result.output
    assert "removed 3 pool texts that are also in the test set" in result.output
    pool = {item.text.casefold() for item in Store.open(tmp_path / "ws/state.sqlite").items("pool")}
    assert "wins the cup final (0)" not in pool and "internet speeds double (0)" not in pool


def test_near_duplicates_inside_the_corpus_are_dropped(tmp_path, tiny_model, small_corpus):
    lines = small_corpus.read_text(encoding="utf-8")
    small_corpus.write_text(lines + "x1,Wins The Cup Final  (0),sport\n", encoding="utf-8")
    result = init(tmp_path, tiny_model, small_corpus, "--test-size", "15")
    assert result.exit_code == 0, result.output
    assert "dropped 1 duplicate texts" in result.output


# -- a FIFO (item 13) ---------------------------------------------------------------------------


@pytest.mark.slow
def test_fifo_as_corpus_is_refused_without_hanging(tmp_path, tiny_model):
    fifo = tmp_path / "corpus.csv"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "activelabel", "init", str(tmp_path / "ws")]
    command += ["--corpus", str(fifo), "--model", tiny_model]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # a regression would block on open(); the timeout keeps the suite from hanging
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stderr
    assert f"{fifo}: not a regular file (a pipe, socket or device)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "ws").exists()


# -- misleading messages (item 14) --------------------------------------------------------------


def test_utf16_file_is_named_utf16(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("text,label\nhello,sport\n", encoding="utf-16")
    with pytest.raises(CorpusError, match=r"the file is UTF-16, not UTF-8; .*iconv -f utf-16"):
        load_corpus_file(path)


def test_semicolon_separated_csv_names_the_delimiter(tmp_path):
    path = write(tmp_path / "c.csv", "text;label\nhello;sport\n")
    with pytest.raises(CorpusError, match=r"the header is separated by ';', but a .csv file"):
        load_corpus_file(path)


def test_json_array_file_is_read(tmp_path):
    path = tmp_path / "c.json"
    rows = [{"text": "hello", "label": "sport"}, {"text": "world", "label": "politics"}]
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    assert load_corpus_file(path).texts == ["hello", "world"]
    path.write_text(json.dumps([rows[0], "oops"]), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"element 2 of the JSON array is not an object"):
        load_corpus_file(path)


def test_test_label_that_is_a_topic_but_not_a_class(tmp_path, tiny_model, small_corpus):
    test = write(tmp_path / "test.csv", "text,label\nrain all week,weather\n")
    message = error_of(init(tmp_path, tiny_model, small_corpus, "--test", test))
    assert "has label 'weather', a topic of the taxonomy but not one of" in message
    assert "list every class with --labels" in message and "not in the taxonomy" not in message


def test_state_file_that_is_a_folder(tmp_path, tiny_model, small_corpus):
    assert init(tmp_path, tiny_model, small_corpus, "--test-size", "15").exit_code == 0
    state = tmp_path / "ws" / "state.sqlite"
    state.unlink()
    state.mkdir()
    message = error_of(run("status", tmp_path / "ws"))
    assert f"{state} is a folder, not the state file" in message

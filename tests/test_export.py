"""`activelabel export`: labels and predictions in every format, loaded back with `init`."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from activelabel.corpus import load_corpus
from activelabel.export.formats import ExportError, resolve_format
from activelabel.export.labels import LABEL_COLUMNS, export_labels
from activelabel.export.predictions import PREDICTION_COLUMNS, export_predictions
from activelabel.workspace import Workspace
from tests.cli import configure, run
from tests.conftest import write_corpus as write_conftest_corpus

TOPICS = {
    "sport": ["wins the cup final", "striker scores twice", "coach sacked after defeat"],
    "politics": ["minister resigns over vote", "election date announced", "party attacks plan"],
    "science and technology": ["new phone chip unveiled", "software flaw found", "fast laptop"],
}
FILES = ["out.csv", "out.jsonl", "out.parquet", "out"]  # "out": a dataset folder


def write_corpus(path, repeats: int = 10):
    """Texts with commas, quotes and accents, to check the formats quote them right."""
    return write_conftest_corpus(path, repeats, '{phrase}, {copy}: "quoted" é', TOPICS)


def make_workspace(path, corpus, model, *extra: str):
    result = run(
        "init",
        str(path),
        "--corpus",
        str(corpus),
        "--id-column",
        "id",
        "--model",
        model,
        "--test-size",
        "15",
        "--batch-size",
        "10",
        "--mode",
        "frozen",
        *extra,
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, tiny_model):
    """A workspace after three oracle rounds (20 labels, 10 awaiting), shared read-only."""
    root = tmp_path_factory.mktemp("export")
    path = make_workspace(root / "ws", write_corpus(root / "corpus.csv"), tiny_model)
    # the plain learner: on the tiny random encoder, topic descriptions and pseudo-labels can
    # pull every prediction to one topic, and the silver round trip needs two
    configure(path, model={"pseudo_labels": "none", "topic_weight": 0.0})
    assert run("round", str(path), "--rounds", "3").exit_code == 0
    return path


def rows_of(path):
    """The rows of an export, whatever its format, as dicts."""
    if path.is_dir():
        import datasets

        return list(datasets.load_from_disk(str(path)))
    if path.suffix == ".csv":
        with path.open(encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("name", FILES)
def test_labels_round_trip_through_init(labelled, tmp_path, tiny_model, name):
    out = tmp_path / name
    result = run("export", "labels", str(labelled), str(out))
    assert result.exit_code == 0, result.output
    assert "Wrote 20 labelled headlines (20 oracle)" in result.output

    ws = Workspace.open(labelled)
    rows = rows_of(out)
    assert list(rows[0]) == [n for n, _ in LABEL_COLUMNS]
    assert len(rows) == 20
    items = {item.id: item for item in ws.store.items("pool")}
    expected = {
        items[i].ext_id.removeprefix("pool:"): label
        for i, label in ws.store.active_labels().items()
    }
    assert {r["id"]: r["label"] for r in rows} == expected
    assert {r["source"] for r in rows} == {"oracle"}
    assert {int(r["round"]) for r in rows} == {0, 1}  # which round's batch it was sent in
    assert all(r["id"].startswith("r") and r["text"] for r in rows)

    back = tmp_path / "back"
    result = run(
        "init", str(back), "--corpus", str(out), "--id-column", "id", "--test-size", "3",
        "--model", tiny_model,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    new = Workspace.open(back)
    loaded = {i.ext_id.split(":", 1)[1]: (i.text, i.gold) for i in new.store.items()}
    texts = {items[i].ext_id.removeprefix("pool:"): items[i].text for i in ws.store.active_labels()}
    assert loaded == {k: (texts[k], v) for k, v in expected.items()}
    assert len(new.store.items("test")) == 3


def test_labels_include_test_adds_gold_rows_and_split(labelled, tmp_path):
    out = tmp_path / "all.jsonl"
    assert run("export", "labels", str(labelled), str(out), "--include-test").exit_code == 0
    rows = rows_of(out)
    assert [r["split"] for r in rows].count("test") == 15
    assert [r["split"] for r in rows].count("pool") == 20
    test_rows = [r for r in rows if r["split"] == "test"]
    assert {r["source"] for r in test_rows} == {"corpus"}
    assert all(r["round"] is None and r["task_id"] is None for r in test_rows)
    gold = {
        i.ext_id.removeprefix("test:"): i.gold for i in Workspace.open(labelled).store.items("test")
    }
    assert {r["id"]: r["label"] for r in test_rows} == gold
    corpus = load_corpus(str(out), "text", "label", "id")  # loads: ids stay unique
    assert len(corpus) == 35


def test_clashing_test_ids_keep_their_prefix(tmp_path, tiny_model):
    pool = write_corpus(tmp_path / "pool.csv", repeats=4)
    test = tmp_path / "test.csv"
    test.write_text("id,text,label\nr1,a brand new cup final,sport\n", encoding="utf-8")
    path = make_workspace(tmp_path / "ws", pool, tiny_model, "--test", str(test))
    assert run("round", str(path), "--rounds", "2").exit_code == 0
    ws = Workspace.open(path)
    from activelabel.export.labels import label_rows

    ids = [r["id"] for r in label_rows(ws, include_test=True)]
    assert "test:r1" in ids and len(ids) == len(set(ids))


@pytest.mark.parametrize("name", FILES)
def test_predictions_round_trip_as_silver_corpus(labelled, tmp_path, tiny_model, name):
    out = tmp_path / name
    result = run("export", "predictions", str(labelled), str(out))
    assert result.exit_code == 0, result.output
    assert "Trained on 20 labels; test accuracy" in result.output
    assert "Wrote predictions for 55 of 55 unlabelled headlines" in result.output

    ws = Workspace.open(labelled)
    rows = rows_of(out)
    assert list(rows[0]) == [n for n, _ in PREDICTION_COLUMNS]
    labelled_ids = {
        i.ext_id.removeprefix("pool:")
        for i in ws.store.items("pool")
        if i.id in ws.store.active_labels()
    }
    pool_ids = {i.ext_id.removeprefix("pool:") for i in ws.store.items("pool")}
    assert {r["id"] for r in rows} == pool_ids - labelled_ids
    for r in rows:
        first, second = float(r["confidence"]), float(r["top2_confidence"])
        assert 0 < second <= first <= 1 and first + second <= 1 + 1e-6
        assert r["predicted"] in ws.class_names and r["top2"] in ws.class_names
        assert r["predicted"] != r["top2"]

    back = tmp_path / "silver"
    result = run(
        "init", str(back), "--corpus", str(out), "--id-column", "id",
        "--label-column", "predicted", "--test-size", "5", "--model", tiny_model,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    new = Workspace.open(back)
    assert len(new.store.items()) == 55
    golds = {i.ext_id.split(":", 1)[1]: i.gold for i in new.store.items()}
    assert golds == {r["id"]: r["predicted"] for r in rows}


def test_predictions_min_confidence_filters_and_is_reproducible(labelled, tmp_path):
    ws = Workspace.open(labelled)
    full = export_predictions(ws, tmp_path / "a.csv")
    confidences = sorted(full.predictions.confidence[:, 0].tolist())
    threshold = confidences[len(confidences) // 2]
    half = export_predictions(ws, tmp_path / "b.csv", min_confidence=threshold)
    assert half.rows == sum(c >= threshold for c in confidences) < full.rows
    assert all(float(r["confidence"]) >= threshold for r in rows_of(tmp_path / "b.csv"))
    same = list(half.predictions.rows(ws.store)) == list(full.predictions.rows(ws.store))
    assert same  # same seed, same model
    share, _ = full.predictions.test_at(threshold)
    assert 0 <= share <= 1

    result = run(
        "export", "predictions", str(labelled), str(tmp_path / "c.csv"),
        "--min-confidence", str(threshold),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Wrote predictions for {half.rows} of 55" in result.output
    assert f"confidence ≥ {threshold:g} on" in result.output


def test_an_empty_dataset_export_is_refused_before_writing(labelled, tmp_path):
    ws = Workspace.open(labelled)
    empty = export_predictions(ws, tmp_path / "empty.csv", min_confidence=1.0)
    assert empty.rows == 0 and rows_of(tmp_path / "empty.csv") == []  # a CSV can be empty
    result = run(
        "export", "predictions", str(labelled), str(tmp_path / "out"), "--min-confidence", "1"
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "confidence ≥ 1" in result.output and "--min-confidence" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_refusals_are_one_line(labelled, tmp_path, small_corpus, tiny_model):
    existing = tmp_path / "labels.csv"
    existing.write_text("keep me\n")
    result = run("export", "labels", str(labelled), str(existing))
    assert result.exit_code == 1 and "already exists" in result.output
    assert "--overwrite" in result.output and "Traceback" not in result.output
    assert existing.read_text() == "keep me\n"
    result = run("export", "labels", str(labelled), str(existing), "--overwrite")
    assert result.exit_code == 0 and len(rows_of(existing)) == 20

    # predictions refuse an existing file before training
    result = run("export", "predictions", str(labelled), str(existing))
    assert result.exit_code == 1 and "already exists" in result.output
    assert "Trained" not in result.output

    result = run("export", "labels", str(labelled), str(tmp_path / "labels.xlsx"))
    assert result.exit_code == 1 and "unknown format '.xlsx'" in result.output
    result = run("export", "labels", str(labelled), str(tmp_path / "x.csv"), "--format", "xml")
    assert result.exit_code == 2 and "'xml' is not one of" in result.output
    result = run("export", "labels", str(labelled), str(tmp_path / "x.txt"), "--format", "csv")
    assert result.exit_code == 1 and "needs a '.csv' file name" in result.output

    a_folder = tmp_path / "notes"
    a_folder.mkdir()
    (a_folder / "mine.txt").write_text("precious")
    result = run("export", "labels", str(labelled), str(a_folder), "--overwrite")
    assert result.exit_code == 1 and "does not hold a saved dataset" in result.output
    assert (a_folder / "mine.txt").read_text() == "precious"

    empty = make_workspace(tmp_path / "empty", small_corpus, tiny_model)
    result = run("export", "predictions", str(empty), str(tmp_path / "p.csv"))
    assert result.exit_code == 1 and "no labels yet" in result.output
    assert "activelabel round" in result.output and not (tmp_path / "p.csv").exists()
    result = run("export", "labels", str(empty), str(tmp_path / "l.csv"))
    assert result.exit_code == 1 and "no labels yet" in result.output

    result = run("export", "predictions", str(labelled))
    assert result.exit_code == 2 and "give an OUTPUT" in result.output
    result = run("export", "predictions", str(labelled), "--to-labelstudio")
    assert result.exit_code == 2 and "needs --min-confidence" in result.output
    result = run(
        "export", "predictions", str(labelled), "--to-labelstudio", "--min-confidence", "0.9"
    )
    assert result.exit_code == 1 and "no Label Studio server" in result.output


def test_dataset_folder_overwrite_replaces_an_earlier_export(labelled, tmp_path):
    ws = Workspace.open(labelled)
    out = tmp_path / "set"
    export_labels(ws, out)
    with pytest.raises(ExportError, match="already exists"):
        export_labels(ws, out)
    export_labels(ws, out, include_test=True, overwrite=True)
    assert len(rows_of(out)) == 35
    assert not list(tmp_path.glob(".*partial"))


def test_resolve_format():
    assert resolve_format("a.CSV") == "csv" and resolve_format("a.ndjson") == "jsonl"
    assert resolve_format("a.parquet") == "parquet" and resolve_format("folder") == "dataset"
    assert resolve_format("my.data", "dataset") == "dataset"
    with pytest.raises(ExportError, match="unknown format"):
        resolve_format("a.xlsx")


def test_no_credentials_in_exports(labelled, tmp_path):
    """A workspace with Label Studio credentials: nothing of them reaches an export."""
    from activelabel.integrations.labelstudio.link import Link, credentials_path, save_link

    secret = "0123456789abcdef-secret-token"
    save_link(labelled, Link(url="http://127.0.0.1:1/", token=secret))
    try:
        for name in FILES:
            export_labels(Workspace.open(labelled), tmp_path / name, include_test=True)
        text = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
        assert secret.encode() not in text and b"127.0.0.1" not in text
    finally:
        credentials_path(labelled).unlink()


@pytest.fixture
def pool_loads(monkeypatch):
    """Every ``Store.items`` call that reads the pool (the whole pool as Python objects), and the
    size of each chunk ``Store.item_chunks`` streams. The real methods run: these only watch."""
    from activelabel.store import Store

    seen = {"items": [], "chunks": []}
    items, item_chunks = Store.items, Store.item_chunks

    def watched_items(self, split=None):
        if split != "test":
            seen["items"].append(split)
        return items(self, split)

    def watched_chunks(self, split, size=10_000, exclude=None):
        for ids, texts in item_chunks(self, split, size, exclude):
            seen["chunks"].append(len(ids))
            yield ids, texts

    monkeypatch.setattr(Store, "items", watched_items)
    monkeypatch.setattr(Store, "item_chunks", watched_chunks)
    return seen


@pytest.mark.parametrize("name", FILES)
def test_export_streams_the_pool_in_chunks(labelled, tmp_path, monkeypatch, pool_loads, name):
    ws = Workspace.open(labelled)
    whole = export_predictions(ws, tmp_path / "whole.csv")  # one chunk: 55 < CHUNK_SIZE
    assert pool_loads["chunks"] == [55] and pool_loads["items"] == []
    monkeypatch.setattr("activelabel.export.predictions.CHUNK_SIZE", 7)
    pool_loads["chunks"].clear()

    out = tmp_path / name
    chunked = export_predictions(ws, out)
    chunks = pool_loads["chunks"]  # 7 rows a query, less the labelled ones
    assert sum(chunks) == 55 and len(chunks) >= 8 and max(chunks) <= 7
    expected = list(whole.predictions.rows(ws.store))
    assert [dict(r) for r in rows_of(out)] == [
        {k: (str(v) if name.endswith(".csv") else v) for k, v in r.items()} for r in expected
    ]
    assert chunked.rows == whole.rows == 55
    np.testing.assert_array_equal(chunked.predictions.item_ids, whole.predictions.item_ids)

    labels = export_labels(ws, tmp_path / f"labels-{name}", include_test=True)
    assert labels.rows == 35
    assert pool_loads["items"] == []  # never the whole pool as Python objects

"""Streaming rounds: the store gives the pool in chunks, scoring keeps arrays only, and a pool
larger than the candidate subsample still gets a valid, reproducible batch."""

from __future__ import annotations

import numpy as np
import pytest

import activelabel.compute.stream as stream
from activelabel.compute import local_predict, score_pool
from activelabel.model import FrozenClassifier, ModelSettings
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    init_workspace(path, small_corpus, tiny_model, "--batch-size", 6, "--mode", "frozen")
    return path


def test_item_chunks_stream_the_split_in_order_without_excluded_ids(workspace):
    ws = Workspace.open(workspace)
    pool = ws.store.items("pool")
    excluded = np.array([pool[0].id, pool[7].id, pool[8].id, 10**9])
    chunks = list(ws.store.item_chunks("pool", 7, exclude=excluded))
    assert all(len(ids) <= 7 and len(ids) == len(texts) for ids, texts in chunks)
    ids = np.concatenate([ids for ids, _ in chunks])
    texts = [t for _, chunk in chunks for t in chunk]
    expected = [item for item in pool if item.id not in set(excluded.tolist())]
    assert ids.tolist() == [item.id for item in expected]
    assert texts == [item.text for item in expected]
    assert len(ws.store.item_ids("pool")) == len(pool)
    assert ws.store.item_ids("pool").tolist() == [item.id for item in pool]
    assert ws.store.texts([pool[3].id, -1]) == {pool[3].id: pool[3].text}
    test_id = ws.store.items("test")[0].id
    assert ws.store.texts([test_id], split="pool") == {}


def trained(tiny_model, texts):
    classifier = FrozenClassifier(3, ModelSettings(tiny_model, mode="frozen"), seed=2)
    classifier.prepare(texts)
    classifier.fit(texts[:24], np.arange(24) % 3)
    return classifier


def pieces(texts, size):
    for start in range(0, len(texts), size):
        part = texts[start : start + size]
        yield np.arange(start, start + len(part)) + 1, part


def test_scoring_keeps_probabilities_for_all_and_embeddings_for_the_sample(tiny_model):
    texts = [f"{w} story number {i}" for i in range(150) for w in ("cup", "vote", "chip")]
    classifier = trained(tiny_model, texts)
    full = classifier.predict(texts)

    def scored(size, predict=None, sample=60):
        return score_pool(
            predict or local_predict(classifier),
            pieces(texts, size),
            len(texts),
            3,
            embeddings=True,
            uncertain=True,
            rng=np.random.default_rng(9),
            sample_size=sample,
        )

    small = scored(50)
    np.testing.assert_array_equal(small.ids, np.arange(len(texts)) + 1)
    np.testing.assert_allclose(small.probabilities, full.probabilities, atol=1e-6)
    assert small.probabilities.dtype == np.float32 and not small.complete
    assert 30 <= len(small.sample_rows) <= 60
    np.testing.assert_allclose(
        small.sample_embeddings, full.embeddings[small.sample_rows], atol=1e-6
    )
    top = np.sort(full.probabilities, axis=1)
    margins = top[:, -1] - top[:, -2]
    most_uncertain = np.lexsort((np.arange(len(texts)), margins))[:30]
    assert set(most_uncertain.tolist()) <= set(small.sample_rows.tolist())

    def backwards(parts, embeddings):  # workers may finish in any order
        done = list(local_predict(classifier)(parts, embeddings))
        return iter(done[::-1])

    for other in (scored(37), scored(50, backwards)):
        np.testing.assert_array_equal(other.sample_rows, small.sample_rows)
        np.testing.assert_allclose(other.probabilities, small.probabilities, atol=1e-6)

    everything = scored(50, sample=len(texts))
    assert everything.complete
    np.testing.assert_allclose(everything.sample_embeddings, full.embeddings, atol=1e-6)

    untrained = score_pool(
        local_predict(classifier),
        pieces(texts, 50),
        len(texts),
        3,
        embeddings=True,
        uncertain=False,
        rng=np.random.default_rng(9),
        sample_size=60,
    )
    assert len(untrained.sample_rows) == 60

    prediction, rows = small.for_view(embeddings=True)  # e.g. margin+kmeans: the subsample
    assert rows.tolist() == small.sample_rows.tolist()
    assert len(prediction.probabilities) == len(prediction.embeddings) == len(rows)
    prediction, rows = small.for_view(embeddings=False)  # e.g. margin: the whole pool
    assert len(rows) == len(texts) and prediction.embeddings.shape == (len(texts), 0)

    bare = score_pool(
        local_predict(classifier),
        pieces(texts, 50),
        len(texts),
        3,
        embeddings=False,
        uncertain=True,
        rng=np.random.default_rng(9),
    )
    assert bare.sample_embeddings is None and len(bare.sample_rows) == 0


def test_rounds_on_a_pool_larger_than_the_sample(workspace, monkeypatch):
    monkeypatch.setattr(stream, "SAMPLE_SIZE", 20)  # the pool (75 headlines) is "large"
    configure(workspace, loop={"strategy": "balanced(margin+kmeans)"})
    batches = []
    for _ in range(3):
        result = run("round", workspace)
        assert result.exit_code == 0, result.output
        ws = Workspace.open(workspace)
        batches.append([s.item_id for s in ws.store.selections(round=ws.store.next_round() - 1)])
        ws.store.close()
    ws = Workspace.open(workspace)
    pool = {item.id for item in ws.store.items("pool")}
    chosen = [i for batch in batches for i in batch]
    assert all(len(batch) == 6 for batch in batches)
    assert len(set(chosen)) == len(chosen) and set(chosen) <= pool
    assert len(list((workspace / "cache" / "embeddings").glob("*/index.json"))) == 1


def test_the_served_model_trains_on_the_streamed_pool_with_progress(workspace, monkeypatch):
    from activelabel.integrations.labelstudio.backend import Predictor
    from activelabel.store import NewLabel, Store

    ws = Workspace.open(workspace)
    with ws.store.transaction() as db:
        labels = [NewLabel(i.id, i.gold, "import") for i in ws.store.items("pool")[:12]]
        ws.store.apply_labels(labels, db=db)
    loads, items = [], Store.items

    def watched(self, split=None):  # the real method; only watched
        if split != "test":
            loads.append(split)
        return items(self, split)

    monkeypatch.setattr(Store, "items", watched)
    phases = []

    def phase(description, total):
        phases.append((description, total))
        return lambda n: None

    predictor = Predictor(ws)
    predictor.retrain(phase)
    predicted = predictor.predict(["striker scores twice", "minister resigns"])
    assert loads == []  # the pool was never loaded as Python objects
    assert ("train on 12 labels", 12) in phases
    assert len(predicted) == 2 and all(label in ws.class_names for label, _ in predicted)
    assert (workspace / "cache" / "embeddings").is_dir()  # frozen vectors go to the disk cache

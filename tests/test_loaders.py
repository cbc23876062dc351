"""Corpus loaders: every format, the built-in corpus, and a bad file of each kind."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activelabel.corpus import load_corpus, load_corpus_file, load_taxonomy
from activelabel.corpus.split import stratified_split
from activelabel.corpus.stats import label_stats
from activelabel.corpus.taxonomy import Topic
from activelabel.errors import ConfigError, CorpusError

ROWS = [
    {"id": "a", "headline": "Markets rally", "topic": "economy, business and finance"},
    {"id": "b", "headline": "Cup final tonight", "topic": "sport"},
    {"id": "c", "headline": "Vote called", "topic": "politics"},
]


def _check(corpus):
    assert [r.ext_id for r in corpus.records] == ["a", "b", "c"]
    assert corpus.texts[1] == "Cup final tonight"
    assert corpus.labels[2] == "politics"


def test_csv_tsv_jsonl_parquet_and_dataset_folder(tmp_path):
    (tmp_path / "c.csv").write_text(
        "id,headline,topic\n"
        + "".join(f'{r["id"]},{r["headline"]},"{r["topic"]}"\n' for r in ROWS),
        encoding="utf-8",
    )
    (tmp_path / "c.tsv").write_text(
        "id\theadline\ttopic\n"
        + "".join(f"{r['id']}\t{r['headline']}\t{r['topic']}\n" for r in ROWS),
        encoding="utf-8",
    )
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "c.parquet")
    import datasets

    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "c_dataset"))
    for name in ("c.csv", "c.tsv", "c.jsonl", "c.parquet", "c_dataset"):
        _check(load_corpus_file(tmp_path / name, "headline", "topic", "id"))


def test_dataset_folder_with_class_label_feature(tmp_path):
    import datasets

    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["sport", "politics"]),
        }
    )
    datasets.Dataset.from_dict(
        {"text": ["a", "b"], "label": [1, 0]}, features=features
    ).save_to_disk(str(tmp_path / "d"))
    corpus = load_corpus_file(tmp_path / "d")
    assert corpus.labels == ["politics", "sport"]


def test_unlabelled_file_has_no_labels(tmp_path):
    (tmp_path / "u.csv").write_text("text\nfirst\nsecond\n", encoding="utf-8")
    corpus = load_corpus_file(tmp_path / "u.csv")
    assert corpus.labels == [None, None]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", "", "empty"),
        ("header.csv", "text,label\n", "no data rows"),
        ("column.csv", "txt,label\nhello,sport\n", "no column 'text'.*did you mean 'txt'"),
        ("blank.csv", "text,label\nhello,sport\n ,sport\n", "row 2 has an empty 'text'"),
        ("fields.csv", "text,label\nhello,sport,extra\n", "more fields than the header"),
        ("latin.csv", b"text,label\nok,sport\ncaf\xe9,sport\n", "line 3 is not UTF-8"),
        ("bad.jsonl", '{"text": "a"}\n{"text": \n', "line 2 is not valid JSON"),
        ("list.jsonl", '["a"]\n', "line 1 is not a JSON object"),
        ("bad.parquet", "not parquet", "not a readable Parquet file"),
        ("notes.txt", "hello", "unknown format '.txt'"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=message) as error:
        load_corpus_file(path)
    assert "\n" not in str(error.value) and name in str(error.value)


def test_not_a_dataset_folder(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(CorpusError, match="not a folder saved with datasets.save_to_disk"):
        load_corpus_file(tmp_path / "folder")


def test_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "d.csv").write_text("id,text\n1,a\n2,b\n1,c\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="row 3 repeats id '1' of row 1"):
        load_corpus_file(tmp_path / "d.csv", id_column="id")


def test_builtin_bbc_headlines_mapped_to_iptc():
    corpus = load_corpus("bbc")
    counts = corpus.label_counts()
    assert len(corpus) == len(set(corpus.texts)) > 2000
    iptc = set(load_taxonomy("iptc").names)
    assert set(counts) <= iptc and len(counts) == 5
    assert counts["sport"] > 400
    assert all("\n" not in t and t for t in corpus.texts)


def test_iptc_taxonomy_has_17_described_topics():
    taxonomy = load_taxonomy("iptc")
    assert len(taxonomy.topics) == 17
    assert all(t.description for t in taxonomy.topics)
    assert "human interest" in taxonomy.names
    with pytest.raises(ConfigError, match="not topics of taxonomy"):
        taxonomy.restrict(["sport", "gossip"])


def test_keywords_are_a_comma_separated_list():
    topic = Topic("sport", "games", keywords=" football,  tennis star ,, cup final ")
    assert topic.keyword_list == ("football", "tennis star", "cup final")
    assert Topic("sport", "games").keyword_list == ()
    assert load_taxonomy("iptc").topics[0].keyword_list[:3] == ("film", "music", "album")


def test_taxonomy_from_csv_file(tmp_path):
    (tmp_path / "t.csv").write_text("name,description\nyes,agree\nno,disagree\n", encoding="utf-8")
    assert load_taxonomy(tmp_path / "t.csv").names == ["yes", "no"]
    (tmp_path / "one.csv").write_text("name\nonly\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="at least two topics"):
        load_taxonomy(tmp_path / "one.csv")


def test_stratified_split_is_seeded_and_proportional():
    labels = ["a"] * 80 + ["b"] * 20 + [None] * 10
    first = stratified_split(labels, 10, seed=3)
    assert first.tolist() == stratified_split(labels, 10, seed=3).tolist()
    assert first.tolist() != stratified_split(labels, 10, seed=4).tolist()
    chosen = [labels[i] for i in first]
    assert chosen.count("a") == 8 and chosen.count("b") == 2


def test_label_stats_counts_shares_and_lengths(small_corpus):
    rows = {r.label: r for r in label_stats(load_corpus_file(small_corpus))}
    assert rows["sport"].count == 30
    assert rows["sport"].share == pytest.approx(1 / 3)
    assert rows["politics"].mean_words > 3 and rows["politics"].sd_words > 0

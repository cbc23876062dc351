"""``init --label-map FILE``: a user's own labels mapped onto taxonomy topics."""

from __future__ import annotations

from pathlib import Path

from activelabel.config import load_config
from activelabel.store import Store
from tests.conftest import write_corpus
from tests.test_bad_input import error_of, init, write

OWN = {
    "footy": ["wins the cup final", "striker scores twice", "coach sacked after defeat"],
    "govt": ["minister resigns over vote", "election date announced", "party leader attacks"],
    "biz": ["shares fall on profit warning", "bank raises rates", "firm buys rival"],
}


def own_corpus(path: Path) -> Path:
    return write_corpus(path, repeats=6, topics=OWN)


def test_labels_are_mapped_onto_taxonomy_topics(tmp_path, tiny_model):
    corpus = own_corpus(tmp_path / "own.csv")
    mapping = write(
        tmp_path / "map.csv",
        'from,to\nfooty,sport\ngovt,politics\nbiz,"economy, business and finance"\n',
    )
    result = init(tmp_path, tiny_model, corpus, "--label-map", mapping, "--test-size", "9")
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "ws")
    assert config.corpus.label_map == str(mapping)
    assert config.taxonomy.labels == ["economy, business and finance", "politics", "sport"]
    golds = {item.gold for item in Store.open(tmp_path / "ws/state.sqlite").items()}
    assert golds == {"sport", "politics", "economy, business and finance"}


def test_unmapped_label_suggests_the_label_map(tmp_path, tiny_model):
    corpus = own_corpus(tmp_path / "own.csv")
    message = error_of(init(tmp_path, tiny_model, corpus))
    assert "has label 'footy', which is not in the taxonomy 'iptc'" in message
    assert "--label-map FILE" in message
    mapping = write(tmp_path / "map.csv", "from,to\nfooty,sport\ngovt,politics\n")
    message = error_of(init(tmp_path, tiny_model, corpus, "--label-map", mapping))
    assert "has label 'biz', which is not in the taxonomy 'iptc'" in message


def test_target_that_is_not_a_topic_names_the_row(tmp_path, tiny_model):
    corpus = own_corpus(tmp_path / "own.csv")
    mapping = write(tmp_path / "map.csv", "from,to\nfooty,sport\nbiz,economy\n")
    message = error_of(init(tmp_path, tiny_model, corpus, "--label-map", mapping))
    assert f"--label-map {mapping}: row 3 maps 'biz' to 'economy', which is not a topic" in message
    assert "did you mean 'economy, business and finance'?" in message
    assert not (tmp_path / "ws").exists()


def test_bad_map_files(tmp_path, tiny_model):
    corpus = own_corpus(tmp_path / "own.csv")
    cases = {
        "source,target\nfooty,sport\n": "the first row must be the header 'from,to'",
        "from,to\nfooty,sport\nfooty,politics\n": "row 3 maps 'footy' to 'politics', but row 2",
        "from,to\nfooty,\n": "row 2 needs both a 'from' label and a 'to' topic",
        "from,to\n": "no rows below the header",
    }
    for text, expected in cases.items():
        mapping = write(tmp_path / "map.csv", text)
        assert expected in error_of(init(tmp_path, tiny_model, corpus, "--label-map", mapping))
    missing = error_of(init(tmp_path, tiny_model, corpus, "--label-map", tmp_path / "nope.csv"))
    assert "nope.csv: no such file or folder" in missing


def test_unused_rows_are_noted(tmp_path, tiny_model):
    corpus = own_corpus(tmp_path / "own.csv")
    mapping = write(
        tmp_path / "map.csv",
        'from,to\nfooty,sport\ngovt,politics\nbiz,"economy, business and finance"\nfotty,sport\n',
    )
    result = init(tmp_path, tiny_model, corpus, "--label-map", mapping, "--test-size", "9")
    assert result.exit_code == 0, result.output
    assert "label map rows never used (no record has these labels): 'fotty'" in result.output

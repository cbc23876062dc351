"""The frozen learner: topic descriptions as a prior, pseudo-labels from the pool."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from activelabel.cli.status_cmd import trained_on_text
from activelabel.config import Config
from activelabel.corpus.taxonomy import Topic
from activelabel.engine.training import Trainer
from activelabel.engine.view import topic_embeddings as view_topics
from activelabel.errors import ConfigError
from activelabel.model import FrozenClassifier, ModelSettings, TopicDescription
from activelabel.model.base import softmax
from activelabel.model.frozen import LinearHead, predicted_mix
from activelabel.model.prior import (
    kept_topic_weights,
    labelled_set,
    topic_descriptions,
    topic_vectors,
    with_topics,
)
from activelabel.model.pseudo_labels import (
    most_confident,
    pool_sample,
    pseudo_label,
    quotas,
)
from activelabel.strategies import zero_shot_probabilities
from activelabel.strategies._common import unit_rows
from activelabel.workspace import Workspace

from .cli import configure, init_workspace, run
from .conftest import TOPICS, write_corpus

TOPIC_NAMES = list(TOPICS)
PROMPTS = [f"{name}: {' '.join(phrases[:2])}" for name, phrases in TOPICS.items()]
TEXTS = [f"{p} ({copy})" for copy in range(4) for phrases in TOPICS.values() for p in phrases]
GOLD = np.array([c for _ in range(4) for c, phrases in enumerate(TOPICS.values()) for _ in phrases])


def settings(model: str, **kw) -> ModelSettings:
    return ModelSettings(model_path=model, mode="frozen", **kw)


def test_zero_labels_is_the_zero_shot_model(tiny_model):
    classifier = FrozenClassifier(3, settings(tiny_model), topics=PROMPTS)
    classifier.fit([], np.array([], dtype=np.int64), unlabelled=TEXTS)
    predicted = classifier.predict(TEXTS)
    topics = classifier.encoder().encode(PROMPTS)
    expected = zero_shot_probabilities(predicted.embeddings, topics)
    assert np.allclose(predicted.probabilities, expected, atol=1e-5)
    assert classifier.training_summary["method"] == "zero-shot"
    assert classifier.training_summary["topic_examples"] == 3

    plain = FrozenClassifier(3, settings(tiny_model, topic_weight=0.0), topics=PROMPTS)
    plain.fit([], np.array([], dtype=np.int64))
    assert not np.allclose(plain.predict(TEXTS).probabilities, expected, atol=1e-3)


KEYWORDED = [Topic(name, keywords=", ".join(phrases[:3])) for name, phrases in TOPICS.items()]


def test_a_topic_vector_is_the_mean_of_its_keywords_embeddings(tiny_model):
    """Each keyword is embedded on its own; the zero-shot model and the head's topic examples
    use the unit mean. ``"prompt"`` embeds "name: keywords" as one text, as plain texts do."""
    keywords, prompts = topic_descriptions(KEYWORDED), topic_descriptions(KEYWORDED, "prompt")
    assert keywords[0].phrases == tuple(TOPICS["sport"][:3])
    assert keywords[0].text == prompts[0].text == prompts[0].phrases[0] == KEYWORDED[0].prompt
    assert topic_descriptions([Topic("sport", "games")])[0].phrases == ("sport: games",)

    classifier = FrozenClassifier(3, settings(tiny_model), topics=keywords)
    classifier.fit([], np.array([], dtype=np.int64))
    encode = classifier.encoder().encode
    means = unit_rows(np.stack([encode(list(p[:3])).mean(axis=0) for p in TOPICS.values()]))
    assert np.allclose(topic_vectors(encode, keywords), means, atol=1e-6)
    assert np.allclose(topic_vectors(encode, prompts), encode([t.prompt for t in KEYWORDED]))
    predicted = classifier.predict(TEXTS)
    expected = zero_shot_probabilities(predicted.embeddings, means)
    assert np.allclose(predicted.probabilities, expected, atol=1e-5)

    assert np.allclose(view_topics(classifier), means, atol=1e-6)  # cold start and hunt

    whole = FrozenClassifier(3, settings(tiny_model), topics=prompts)
    whole.fit([], np.array([], dtype=np.int64))
    assert not np.allclose(whole.predict(TEXTS).probabilities, expected, atol=1e-3)


def test_a_topic_description_needs_phrases():
    assert TopicDescription.of("sport: goal") == TopicDescription("sport: goal", ("sport: goal",))
    for phrases in [(), "goal"]:
        with pytest.raises(ValueError, match="non-empty tuple"):
            TopicDescription("sport", phrases)
    assert topic_descriptions([Topic("sport", "games", keywords=" , ")])[0].phrases == (
        "sport: games",
    )


@pytest.mark.parametrize("vectors", ["keywords", "prompt"])
def test_the_configured_topic_vectors_reach_the_classifier(tmp_path, tiny_model, vectors):
    """``model.topic_vectors`` travels from the workspace file to the round's classifier."""
    taxonomy = tmp_path / "topics.csv"
    taxonomy.write_text(
        "name,keywords\n" + "".join(f'{t.name},"{t.keywords}"\n' for t in KEYWORDED),
        encoding="utf-8",
    )
    corpus = write_corpus(tmp_path / "corpus.csv")
    ws = init_workspace(tmp_path / "ws", corpus, tiny_model, "--taxonomy", str(taxonomy))
    configure(ws, model={"topic_vectors": vectors})
    trainer = Trainer.for_workspace(Workspace.open(ws), TEXTS)
    assert trainer.classifier.topics == tuple(topic_descriptions(KEYWORDED, vectors))


def test_descriptions_keep_unlabelled_topics_in_the_model(tiny_model):
    """Labels of one topic only: without descriptions the model predicts that topic for
    everything; with them every topic keeps a class, weighted by topic_weight."""
    one_topic = [t for t, g in zip(TEXTS, GOLD, strict=True) if g == 0][:4]
    plain = FrozenClassifier(3, settings(tiny_model, topic_weight=0.0), topics=PROMPTS)
    plain.fit(one_topic, np.zeros(4, dtype=np.int64))
    assert (plain.predict(TEXTS).probabilities.argmax(1) == 0).all()

    prior = FrozenClassifier(3, settings(tiny_model, pseudo_labels="none"), topics=PROMPTS)
    prior.fit(one_topic, np.zeros(4, dtype=np.int64))
    assert set(prior.predict(PROMPTS).probabilities.argmax(1).tolist()) == {0, 1, 2}
    assert prior.training_summary["labels_per_class"] == [4, 0, 0]
    assert prior.training_summary["topic_examples"] == 3


def test_topic_examples_carry_their_weight():
    x = np.eye(4)[:2]
    train = with_topics(labelled_set(x, np.array([0, 0]), 3, balanced=True), np.eye(4)[1:], 10.0)
    assert train.y.tolist() == [0, 0, 0, 1, 2]
    assert train.weights.tolist() == [1.0, 1.0, 10.0, 10.0, 10.0]
    assert with_topics(train, np.eye(4)[1:], 0.0) is train


def test_a_description_keeps_its_weight_while_its_topic_has_few_labels():
    y = np.array([0] * 90 + [1] * 10)  # 100 labels, 4 topics: each labelled topic weighs 25
    kept = kept_topic_weights(y, 4, 10.0, keep_labels=10)
    assert kept[3] == 25.0 and kept[1] == 12.5  # none: its whole share; 10 labels: half
    assert kept[0] == 10.0  # plenty of labels: the fixed weight, never less
    assert kept_topic_weights(y, 4, 10.0, keep_labels=0).tolist() == [10.0] * 4
    assert kept_topic_weights(y[:8], 4, 10.0, keep_labels=10).tolist() == [10.0] * 4
    train = with_topics(
        labelled_set(np.eye(4)[:2], np.array([0, 0]), 3, True), np.eye(4)[1:], kept[:3]
    )
    assert train.weights.tolist() == [1.0, 1.0, 10.0, 12.5, 25.0]


@pytest.mark.parametrize(
    ("prior", "shares", "expected"),
    [
        ("none", None, np.log([0.6, 0.3, 0.1])),
        ("test", None, np.log([0.6, 0.3, 0.1])),  # no test set: nothing to move to
        ("balanced", None, np.log([1 / 3] * 3)),
        ("test", (0.5, 0.25, 0.25), np.log([0.5, 0.25, 0.25])),
        ("lift", None, np.log([0.6, 0.3, 0.1])),
        # only the class predicted less often than the test set holds it rises, to its share
        ("lift", (0.5, 0.25, 0.25), np.log([0.6, 0.3, 0.25])),
    ],
)
def test_the_prior_moves_from_the_predicted_pool_mix_to_the_target(
    tiny_model, prior, shares, expected
):
    """A head that predicts a 6:3:1 mix on every row of the pool has its bias moved towards the
    target's mix: for ``test`` and ``balanced`` the mean prediction becomes the target."""
    model = FrozenClassifier(3, settings(tiny_model, prior=prior, target_shares=shares))
    head = LinearHead(np.zeros((3, 4)), np.log([0.6, 0.3, 0.1]))
    bias = model._shifted_bias(head, np.eye(4)[:2], np.ones((5, 4)))
    assert np.allclose(softmax(bias[None, :])[0], np.exp(expected) / np.exp(expected).sum())
    moved = LinearHead(head.weights, bias)(np.ones((5, 4))).mean(axis=0)
    assert np.allclose(moved, np.exp(expected) / np.exp(expected).sum())


def test_the_prior_estimate_reads_the_mean_probability_or_the_decisions():
    """A head sure of nothing but always a little surer of topic 0: its mean probabilities say
    40/35/25, its decisions (add-one smoothed) that topic 0 is all the pool has; ``geometric``
    takes the geometric mean of the two, renormalised."""
    probabilities = np.tile([0.4, 0.35, 0.25], (5, 1))
    assert np.allclose(predicted_mix(probabilities, "probabilities"), [0.4, 0.35, 0.25])
    assert np.allclose(predicted_mix(probabilities, "decisions"), [6 / 8, 1 / 8, 1 / 8])
    both = np.sqrt(np.array([0.4, 0.35, 0.25]) * [6 / 8, 1 / 8, 1 / 8])
    assert np.allclose(predicted_mix(probabilities, "geometric"), both / both.sum())


def test_lift_from_decisions_raises_a_topic_the_head_never_decides_for(tiny_model):
    even = (1 / 3, 1 / 3, 1 / 3)
    head = LinearHead(np.zeros((3, 4)), np.log([0.36, 0.33, 0.31]))
    pool = np.ones((5, 4))
    by_mean = FrozenClassifier(3, settings(tiny_model, prior="lift", target_shares=even))
    by_decisions = FrozenClassifier(
        3, settings(tiny_model, prior="lift", target_shares=even, prior_estimate="decisions")
    )
    lifted_by_mean = by_mean._shifted_bias(head, np.eye(4)[:2], pool) - head.bias
    lifted = by_decisions._shifted_bias(head, np.eye(4)[:2], pool) - head.bias
    assert lifted[0] == 0 and lifted_by_mean[0] == 0  # lift lowers no topic
    assert np.all(lifted[1:] > lifted_by_mean[1:] + 0.5)
    assert LinearHead(head.weights, head.bias + lifted)(pool).argmax(axis=1).tolist() == [1] * 5


def test_quotas_follow_the_predicted_shares_or_are_balanced():
    predicted = np.array([0] * 80 + [1] * 15 + [2] * 5)
    assert quotas(predicted, 3, 10, "balanced").tolist() == [10, 10, 5]
    assert quotas(predicted, 3, 10, "predicted").tolist() == [24, 4, 2]
    assert quotas(predicted, 3, 10, "mixed").tolist() == [17, 7, 5]  # (80 + 33) / 2 % of 30


def test_quotas_shrink_alike_where_a_class_is_short_of_rows():
    even = np.repeat([0, 1, 2], 40)
    assert quotas(even, 3, 10, "mixed", min_scale=0.5).tolist() == [10, 10, 10]
    # class 2 has 14 rows: 10 would be over half of them, so every quota takes 7 / 10
    short = np.array([0] * 50 + [1] * 50 + [2] * 14)
    assert quotas(short, 3, 10, "balanced", min_scale=0.5).tolist() == [7, 7, 7]
    # mixed asks 17, 7.25 and 5.75 (5 rows): the scale would be 0.43, the floor holds it at 0.5
    uneven = np.array([0] * 80 + [1] * 15 + [2] * 5)
    assert quotas(uneven, 3, 10, "mixed", min_scale=0.5).tolist() == [8, 4, 3]
    assert quotas(uneven, 3, 10, "mixed", min_scale=1.0).tolist() == [17, 7, 5]
    assert quotas(np.zeros(0, dtype=np.int64), 3, 10, "mixed", min_scale=0.5).tolist() == [0] * 3


def test_most_confident_takes_the_surest_rows_of_each_class():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55], [0.99, 0.01]])
    assert most_confident(probabilities, 1, "balanced").tolist() == [2, 4]
    assert most_confident(probabilities, 2, "balanced").tolist() == [0, 2, 3, 4]


@pytest.mark.parametrize("method", ["self-training", "spreading"])
def test_pseudo_labels_are_deterministic_and_stay_inside_the_fit(method):
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 3
    labelled = centres[[0, 1, 2]] + 0.1 * rng.normal(size=(3, 8))
    pool = centres[np.repeat([0, 1, 2], 30)] + 0.5 * rng.normal(size=(90, 8))
    train = labelled_set(labelled, np.array([0, 1, 2]), 3, balanced=True)
    fits = []

    def fit(training):
        fits.append(training)
        w = np.stack([training.x[training.y == c].mean(0) for c in range(3)])
        return lambda x: np.exp(x @ w.T) / np.exp(x @ w.T).sum(1, keepdims=True)

    settings = ModelSettings(
        "", pseudo_labels=method, pseudo_per_class=10, pseudo_shares="balanced"
    )
    _, rows, classes = pseudo_label(train, pool, fit, settings, 3)
    again = pseudo_label(train, pool, fit, settings, 3)
    assert rows.tolist() == again[1].tolist() and classes.tolist() == again[2].tolist()
    assert np.bincount(classes, minlength=3).tolist() == [10, 10, 10]
    assert (classes == np.repeat([0, 1, 2], 30)[rows]).mean() > 0.9
    assert len(train.y) == 3, "the labelled set itself is never extended"
    assert len(fits[-1].y) == 3 + 30


def test_pool_sample_is_seeded():
    assert pool_sample(10, 20, 0).tolist() == list(range(10))
    assert pool_sample(1000, 50, 1).tolist() == pool_sample(1000, 50, 1).tolist()
    assert pool_sample(1000, 50, 1).tolist() != pool_sample(1000, 50, 2).tolist()


def test_learner_fit_is_deterministic_and_summarised(tiny_model):
    labelled = TEXTS[:15]
    runs = []
    for _ in range(2):
        classifier = FrozenClassifier(
            3, settings(tiny_model, pseudo_per_class=5), seed=3, topics=PROMPTS
        )
        classifier.fit(labelled, GOLD[:15], unlabelled=TEXTS[15:])
        runs.append(classifier.predict(TEXTS).probabilities)
    assert np.allclose(runs[0], runs[1], atol=1e-6)
    summary = classifier.training_summary
    assert summary["method"] == "self-training" and summary["pseudo_shares"] == "mixed"
    assert summary["labels_per_class"] == np.bincount(GOLD[:15], minlength=3).tolist()
    assert summary["labels"] == 15
    assert 0 < sum(summary["pseudo_labels"]) <= 15


def test_the_configured_floor_reaches_the_learner(tiny_model):
    """``model.pseudo_min_scale`` travels from the configuration to the quotas of a fit: asked
    for about as many pseudo-labels as the pool has rows, 0.5 takes about half of what 1 does."""
    config, taken = Config(), {}
    for scale in (1.0, 0.5):
        config.model = replace(
            config.model, mode="frozen", pseudo_per_class=len(TEXTS) // 3, pseudo_min_scale=scale
        )
        classifier = FrozenClassifier(3, config.model_settings(tiny_model), seed=3, topics=PROMPTS)
        classifier.fit(TEXTS[:6], GOLD[:6], unlabelled=TEXTS[6:])
        taken[scale] = sum(classifier.training_summary["pseudo_labels"])
    assert 0 < taken[0.5] <= taken[1.0] / 2 + 3  # the floor, give or take rounding per topic


def test_pseudo_labels_never_become_labels(tmp_path, small_corpus, tiny_model):
    """Rounds with self-training on the pool store labels only for what was selected and
    annotated (the oracle labels round 0's batch when round 1 starts), each its gold label."""
    ws = init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--mode", "frozen")
    configure(ws, loop={"batch_size": 8, "random_share": 0.0})
    for _ in range(2):
        assert run("round", ws).exit_code == 0
    from activelabel.workspace import Workspace

    workspace = Workspace.open(ws)
    labels = workspace.store.active_labels()
    selected = {s.item_id for s in workspace.store.selections()}
    gold = {item.id: item.gold for item in workspace.store.items()}
    assert set(labels) <= selected and len(labels) == 8
    assert all(gold[item] == label for item, label in labels.items())
    status = run("status", ws)
    assert status.exit_code == 0
    training = workspace.store.rounds()[-1].training
    assert training["labels"] == 8 and training["topic_examples"] == 3
    assert trained_on_text(training).startswith("8 labels + 3 topics + ")
    assert "pseudo (self-training)" in trained_on_text(training)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pseudo_labels", "magic"),
        ("pseudo_shares", "even"),
        ("pseudo_per_class", 0),
        ("pseudo_min_scale", 0.0),
        ("pseudo_min_scale", 1.5),
        ("topic_weight", -1.0),
        ("topic_keep_labels", -1),
        ("prior", "uniform"),
        ("topic_vectors", "names"),
        ("pseudo_weight", 0.0),
        ("pseudo_passes", 0),
        ("pseudo_pool", 0),
    ],
)
def test_learner_options_are_validated(key, value):
    config = Config()
    config.model = replace(config.model, **{key: value})
    with pytest.raises(ConfigError, match=f"model.{key}"):
        config.validate()


def test_cv_shares_are_chosen_on_the_labels_and_recorded(tiny_model):
    from activelabel.model.shares_cv import CANDIDATES

    classifier = FrozenClassifier(
        3, settings(tiny_model, pseudo_per_class=5, pseudo_shares="cv"), seed=1, topics=PROMPTS
    )
    classifier.fit(TEXTS[:4], GOLD[:4], unlabelled=TEXTS[4:])  # too few labels to split
    summary = classifier.training_summary
    assert summary["pseudo_shares"] == "mixed" and summary["shares_cv"]["folds"] == 0

    classifier.fit(TEXTS[:18], GOLD[:18], unlabelled=TEXTS[18:])
    summary = classifier.training_summary
    scores = summary["shares_cv"]["scores"]
    assert set(scores) == set(CANDIDATES) and summary["shares_cv"]["folds"] == 3
    assert all(0 <= v <= 1 for v in scores.values())
    best = max(CANDIDATES, key=lambda s: (scores[s], -CANDIDATES.index(s)))
    assert summary["pseudo_shares"] == best

    classifier.fit(TEXTS[:20], GOLD[:20], unlabelled=TEXTS[20:])  # every fit cross-validates
    assert set(classifier.training_summary["shares_cv"]["scores"]) == set(CANDIDATES)

    other = FrozenClassifier(
        3, settings(tiny_model, pseudo_per_class=5, pseudo_shares="cv"), seed=1, topics=PROMPTS
    )
    other.fit(TEXTS[:18], GOLD[:18], unlabelled=TEXTS[18:])
    assert other.training_summary["shares_cv"] == summary["shares_cv"]  # seeded folds


@pytest.mark.parametrize(
    "y",
    [[0, 0, 1, 1, 2, 2], [0, 1, 2, 3, 0, 1, 2, 3], [0] * 8 + [1], [0, 0, 0, 1, 1], []],
    ids=["two-each", "two-each-of-four", "one-class-short", "one-class-full", "empty"],
)
def test_folds_need_two_classes_with_a_label_in_every_fold(y):
    from activelabel.model.shares_cv import folds_of

    assert folds_of(np.array(y, dtype=np.int64), 3, seed=0) == []


def test_cv_shares_with_two_labels_per_topic_fall_back_to_mixed(tiny_model):
    classifier = FrozenClassifier(
        3, settings(tiny_model, pseudo_per_class=5, pseudo_shares="cv"), seed=0, topics=PROMPTS
    )
    rows = np.concatenate([np.flatnonzero(np.equal(GOLD, c))[:2] for c in range(3)])
    classifier.fit([TEXTS[i] for i in rows], GOLD[rows], unlabelled=TEXTS)
    assert classifier.training_summary["pseudo_shares"] == "mixed"
    assert classifier.training_summary["shares_cv"]["folds"] == 0


def test_a_round_records_the_cv_choice_of_shares(tmp_path, small_corpus, tiny_model):
    ws = init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--mode", "frozen")
    configure(ws, loop={"batch_size": 8, "random_share": 0.0}, model={"pseudo_shares": "cv"})
    for _ in range(2):
        assert run("round", ws).exit_code == 0
    from activelabel.workspace import Workspace

    training = Workspace.open(ws).store.rounds()[-1].training
    assert training["labels"] == 8 and training["shares_cv"]["folds"] in (0, 3)
    assert training["pseudo_shares"] in ("mixed", "predicted", "balanced")
    assert "shares by CV" in trained_on_text(training)

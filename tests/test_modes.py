"""The setfit and auto modes and the fine-tuned model's extra examples, on a tiny random BERT:
the fit/predict contract, determinism, edge cases, and auto's choice from the labels alone."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.config import MODES as CONFIG_MODES
from activelabel.config import Config, ModelConfig
from activelabel.errors import ConfigError
from activelabel.model import (
    MODES,
    FineTunedClassifier,
    ModelSettings,
    TopicDescription,
    make_classifier,
)
from activelabel.model.auto import AutoClassifier
from activelabel.model.setfit import SetFitClassifier
from tests.cli import run

TEXTS = [f"goal match {i}" for i in range(12)] + [f"vote minister {i}" for i in range(12)]
Y = np.array([0] * 12 + [1] * 12)
TOPICS = ["sport: goal, match", "politics: vote, minister", "technology: chip, software"]
POOL = [f"striker goal {i}" for i in range(8)] + [f"minister party {i}" for i in range(8)]


def settings(path: str, **kw) -> ModelSettings:
    defaults = {
        "epochs": 1,
        "min_steps": 4,
        "learning_rate": 1e-3,
        "batch_size": 8,
        "setfit_iterations": 2,
        "setfit_max_pairs": 32,
        "auto_folds": 2,
    }
    return ModelSettings(model_path=path, **{**defaults, **kw})


def test_setfit_fits_and_predicts_with_the_contract(tiny_model):
    classifier = SetFitClassifier(3, settings(tiny_model), seed=0, topics=TOPICS)
    classifier.prepare(TEXTS + POOL)
    seen: list[int] = []
    classifier.fit(TEXTS, Y, seen.append, unlabelled=POOL)
    prediction = classifier.predict(TEXTS + POOL)
    assert prediction.probabilities.shape == (40, 3)
    assert np.allclose(prediction.probabilities.sum(axis=1), 1, atol=1e-5)
    assert prediction.embeddings.shape == (40, 64)
    assert np.allclose(np.linalg.norm(prediction.embeddings, axis=1), 1, atol=1e-4)
    # the third topic has no label, only its description: it still gets probability mass
    assert prediction.probabilities[:, 2].max() > 1e-3
    assert (prediction.probabilities[:24].argmax(1) == Y).mean() > 0.9
    assert classifier.training_summary == {
        "mode": "setfit",
        "labels": 24,
        "pairs": 32,
        "topic_examples": 3,
    }
    assert 0 < sum(seen) <= 24
    assert classifier.predict(TEXTS, embeddings=False).embeddings.shape == (24, 0)


def test_setfit_same_seed_same_model_and_training_moves_the_encoder(tiny_model):
    runs = []
    for _ in range(2):
        classifier = SetFitClassifier(2, settings(tiny_model), seed=3)
        untrained = classifier.predict(TEXTS).embeddings
        classifier.fit(TEXTS, Y)
        runs.append(classifier.predict(TEXTS))
    assert np.allclose(runs[0].probabilities, runs[1].probabilities, atol=1e-5)
    assert not np.allclose(runs[0].embeddings, untrained, atol=1e-3)


def test_setfit_with_no_labels_and_with_one_class(tiny_model):
    classifier = SetFitClassifier(2, settings(tiny_model), seed=0)
    classifier.fit([], np.array([], dtype=np.int64))
    probabilities = classifier.predict(TEXTS).probabilities
    assert probabilities.shape == (24, 2) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert classifier.training_summary["pairs"] == 0
    classifier.fit(TEXTS[:5], Y[:5])  # a single class: no pairs to contrast, predict it
    assert classifier.training_summary["pairs"] == 0
    assert (classifier.predict(TEXTS).probabilities.argmax(1) == 0).all()
    with_topics = SetFitClassifier(3, settings(tiny_model), seed=0, topics=TOPICS)
    with_topics.fit([], np.array([], dtype=np.int64))  # the descriptions alone train the head
    assert with_topics.training_summary["topic_examples"] == 3
    assert with_topics.predict(TEXTS).probabilities.shape == (24, 3)


def test_finetune_trains_on_the_description_text_not_its_phrases(tiny_model):
    described = [TopicDescription(text, tuple(text.split(": ")[1].split(", "))) for text in TOPICS]
    classifier = FineTunedClassifier(3, settings(tiny_model), seed=0, topics=described)
    texts, y, weights = classifier._training_set(TEXTS[:3], Y[:3], [])
    assert texts[3:] == TOPICS and y[3:].tolist() == [0, 1, 2]
    assert weights[3:].tolist() == [classifier.settings.topic_weight] * 3


def test_finetune_adds_topic_descriptions_and_teacher_pseudo_labels(tiny_model):
    classifier = FineTunedClassifier(
        3, settings(tiny_model, teacher_pseudo_labels=3), seed=0, topics=TOPICS
    )
    texts, y = TEXTS[::3], Y[::3]
    pseudo_texts, pseudo_y = classifier._pseudo_labels(texts, y, POOL)
    teacher = classifier.teacher.predict(POOL, embeddings=False).probabilities
    assert set(pseudo_texts) <= set(POOL) and not set(pseudo_texts) & set(texts)
    for c in range(3):
        assert (pseudo_y == c).sum() == min(3, (teacher.argmax(1) == c).sum())
    assert [teacher[POOL.index(t)].argmax() for t in pseudo_texts] == pseudo_y.tolist()
    seen: list[int] = []
    classifier.fit(texts, y, seen.append, unlabelled=POOL)
    assert classifier.training_summary == {
        "mode": "finetune",
        "labels": 8,
        "topic_examples": 3,
        "pseudo_labels": len(pseudo_texts),
    }
    assert sum(seen) == classifier.planned_steps(8)[0] * 8  # progress counts labelled headlines
    plain = FineTunedClassifier(3, settings(tiny_model, topic_weight=0), seed=0, topics=TOPICS)
    plain.fit(texts, y, unlabelled=POOL)
    assert plain.training_summary["topic_examples"] == 0
    assert plain.training_summary["pseudo_labels"] == 0


@pytest.mark.slow
def test_auto_cross_validates_the_candidates_and_trains_the_best(tiny_model):
    s = settings(tiny_model, auto_setfit_max_labels=100, auto_finetune_min_labels=10)
    classifier = AutoClassifier(3, s, seed=0, topics=TOPICS)
    classifier.prepare(TEXTS + POOL)
    seen: list[int] = []
    classifier.fit(TEXTS, Y, seen.append, unlabelled=POOL)
    summary = classifier.training_summary
    assert summary["labels"] == 24 and summary["folds"] == 2
    assert summary["candidates"] == ["frozen", "setfit", "finetune"]
    assert set(summary["cv"]) == {"frozen", "setfit", "finetune"}
    best = max(summary["cv"], key=lambda m: summary["cv"][m]["accuracy"])
    assert summary["cv"][summary["chosen"]]["accuracy"] == summary["cv"][best]["accuracy"]
    assert summary["mode"] == "auto"
    for key, value in classifier.chosen.training_summary.items():  # what it trained on
        assert summary[key] == value or key == "mode"
    assert classifier.chosen is classifier.members[summary["chosen"]]
    prediction = classifier.predict(POOL)
    assert prediction.probabilities.shape == (16, 3)
    assert np.allclose(prediction.probabilities.sum(axis=1), 1, atol=1e-5)
    assert sum(seen) <= 24  # in labelled headlines (frozen reports only new embeddings)


@pytest.mark.slow
def test_auto_choice_does_not_depend_on_the_test_set(tiny_model):
    s = settings(tiny_model, auto_setfit_max_labels=100)
    results = []
    for test in (["cup final tonight", "budget vote"], ["chip maker", "rugby captain named"]):
        classifier = AutoClassifier(2, s, seed=0)
        classifier.prepare(TEXTS + POOL + test)
        classifier.fit(TEXTS, Y, unlabelled=POOL)
        classifier.predict(test)
        results.append((classifier.training_summary, classifier.predict(POOL).probabilities))
    assert results[0][0] == results[1][0]
    assert results[0][0]["cv"]  # a real cross-validation took place
    assert np.allclose(results[0][1], results[1][1], atol=1e-5)


@pytest.mark.slow
def test_auto_decides_on_every_fit_from_the_labels_alone(tiny_model):
    classifier = AutoClassifier(2, settings(tiny_model, auto_setfit_max_labels=100), seed=0)
    classifier.fit([], np.array([], dtype=np.int64))
    assert (
        classifier.training_summary["chosen"] == "frozen" and not classifier.training_summary["cv"]
    )
    assert classifier.predict(TEXTS).probabilities.shape == (24, 2)
    classifier.fit(TEXTS[:5], Y[:5])  # one class: nothing to cross-validate
    assert classifier.training_summary["cv"] == {}
    rows = np.r_[0:8, 12:20]
    classifier.fit([TEXTS[i] for i in rows], Y[rows])
    first = classifier.training_summary
    assert first["cv"]
    classifier.fit(TEXTS, Y)  # more labels: cross-validated again
    assert classifier.training_summary["cv"]
    classifier.fit([TEXTS[i] for i in rows], Y[rows])  # as a fresh classifier would decide
    fresh = AutoClassifier(2, settings(tiny_model, auto_setfit_max_labels=100), seed=0)
    fresh.fit([TEXTS[i] for i in rows], Y[rows])
    assert classifier.training_summary == fresh.training_summary == first


def test_auto_candidates_follow_the_label_count(tiny_model):
    classifier = make_classifier("auto", 2, settings(tiny_model))
    assert classifier.candidates(0) == ("frozen",)
    assert classifier.candidates(50) == ("frozen", "setfit")
    assert classifier.candidates(500) == ("frozen",)
    assert classifier.candidates(2000) == ("frozen", "finetune")


def test_every_registered_mode_is_accepted_by_config_and_init(tmp_path, tiny_model, small_corpus):
    assert set(CONFIG_MODES) == set(MODES)
    for mode in ("setfit", "auto"):
        Config(model=ModelConfig(mode=mode)).validate()
        result = run(
            "init", tmp_path / mode, "--corpus", small_corpus, "--model", tiny_model, "--mode", mode
        )
        assert result.exit_code == 0, result.output
    with pytest.raises(ConfigError, match=r"model.mode must be one of .*setfit.*, not 'best'"):
        Config(model=ModelConfig(mode="best")).validate()
    result = run("init", tmp_path / "bad", "--corpus", small_corpus, "--mode", "best")
    assert result.exit_code != 0 and "'best' is not one of" in result.output


@pytest.mark.slow
def test_a_round_in_auto_mode_records_the_choice(tmp_path, tiny_model, small_corpus):
    from activelabel.annotators import OracleAnnotator
    from activelabel.loop import run_round
    from activelabel.workspace import Workspace
    from tests.cli import configure, init_workspace

    path = init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--mode", "auto")
    configure(path, loop={"batch_size": 12, "seed": 1, "random_share": 0.0}, model={"min_steps": 1})
    ws = Workspace.open(path)
    for _ in range(2):
        run_round(ws, OracleAnnotator(ws.store))
    training = ws.store.rounds()[-1].training
    assert training["mode"] == "auto" and training["labels"] == 12
    assert set(training["cv"]) == {"frozen", "setfit"} and training["chosen"] in training["cv"]

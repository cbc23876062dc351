"""Why a headline was picked: the sentence comes from the round's own numbers."""

from __future__ import annotations

import numpy as np

from activelabel.integrations.labelstudio.tasks import PushItem, task_payload
from activelabel.strategies.reasons import explain

NAMES = ["politics", "sport", "economy, business and finance", "weather"]
ROW = np.array([0.46, 0.41, 0.08, 0.05])


def test_uncertainty_names_the_two_closest_topics_with_their_probabilities():
    text = explain(ROW, NAMES, "active", "margin")
    assert text == "Picked because the model is unsure between politics (46 %) and sport (41 %)."
    assert "unsure between sport (60 %) and politics (30 %)" in explain(
        np.array([0.3, 0.6, 0.05, 0.05]), NAMES, "active", "entropy+kmeans"
    )


def test_balanced_deficit_names_the_topic_with_few_labels():
    counts = {"politics": 2, "sport": 30, "economy, business and finance": 20, "weather": 9}
    text = explain(ROW, NAMES, "active", "balanced(margin)", counts)
    assert text.startswith("Picked because topic politics has few labels (2); the model is unsure")
    plenty = {"politics": 40, "sport": 3, "economy, business and finance": 2, "weather": 1}
    assert "few labels" not in explain(ROW, NAMES, "active", "balanced(margin)", plenty)


def test_random_arm_cold_start_and_diversity():
    assert explain(ROW, NAMES, "random", "margin").startswith("Picked at random: the baseline")
    assert explain(None, NAMES, "active", "kmeans").startswith("First batch: spread over")
    assert explain(None, NAMES, "active", "topics").startswith("First batch: close to a topic")
    assert "unlike the headlines labelled so far" in explain(ROW, NAMES, "active", "coreset")


def test_round_0_reasons_are_plain_words():
    text = explain(ROW, NAMES, "active", "zero-shot")
    assert text.startswith("First batch, before any label: a typical headline of one topic")
    assert "zero-shot" not in text and "leans" not in text


def test_the_task_carries_the_guess_and_the_reason():
    data = task_payload(PushItem(7, "Rain all week", 2, "weather", 0.734, "active", "Why."))["data"]
    assert data["guess"] == "The model's guess: weather (73 % sure)." and data["why"] == "Why."
    first = task_payload(PushItem(8, "Rain again", 0))["data"]
    assert first["guess"].startswith("No model guess yet") and "predictions" not in first

"""Why a headline was picked: each strategy says it for its own picks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from activelabel.engine import select_batch
from activelabel.integrations.labelstudio.tasks import PushItem, task_payload
from activelabel.strategies import Hunted, PoolView, make_strategy

from .pools import clustered_pool

NAMES = ("politics", "sport", "economy, business and finance", "weather")


def with_reasons(spec: str, pool: PoolView, n: int, seed: int = 0):
    return make_strategy(spec).select_with_reasons(pool, n, np.random.default_rng(seed))


def test_a_margin_pick_names_the_two_topics_it_sits_between():
    pool = PoolView(probabilities=np.array([[0.46, 0.41, 0.08, 0.05]]), class_names=NAMES)
    [row], [reason] = with_reasons("margin", pool, 1)
    assert reason.text == "Picked because the model is unsure between politics and sport."
    assert reason.kind == "uncertain" and reason.topics == ("politics", "sport")


def test_a_hunted_row_names_its_topic_and_the_evidence():
    pool, truth = clustered_pool([30, 30, 30, 30], spread=0.2, n_labeled=0)
    pool = replace(pool, labeled_classes=np.array([0, 0, 1, 1, 2]), labeled_embeddings=None)
    rows, reasons = Hunted(make_strategy("margin"), few=2, max_share=0.5).select_with_reasons(
        pool, 6, np.random.default_rng(0)
    )
    hunted = [(row, r) for row, r in zip(rows, reasons, strict=True) if r.kind == "hunt"]
    assert [r.topics for _, r in hunted] == [("topic3",), ("topic2",), ("topic3",)]
    first = hunted[0][1].text
    assert first.startswith("Hunting topic topic3: it has 0 labels while the model expects")
    assert "closest left to its description" in first
    assert "likeliest left for it" in hunted[2][1].text  # the second way of finding topic 3
    assert all(r.kind == "uncertain" for r in reasons[3:])  # the rest is margin's


def test_wrappers_keep_the_base_reason_and_add_their_own():
    pool, _ = clustered_pool([40, 30, 20, 2], n_labeled=0)
    pool = replace(pool, labeled_classes=np.array([0] * 12 + [1] * 10 + [2] * 9))
    rows, reasons = with_reasons("balanced(margin)", pool, 8)
    short = [r for r in reasons if r.kind == "balance"]
    assert short and all(r.topics[0] == "topic3" for r in short)
    assert short[0].text.startswith("Picked because topic topic3 has few labels (0)")
    assert "unsure between" in short[0].text
    _, diverse = with_reasons("margin+kmeans", pool, 4)
    assert all("unsure between" in r.text and "unlike the others" in r.text for r in diverse)


def test_a_cold_start_pick_names_its_topic_or_its_cluster():
    pool, truth = clustered_pool([20, 20, 20], spread=0.2, n_labeled=0)
    rows, reasons = with_reasons("zero-shot", pool, 3)
    assert [r.topics[0] for r in reasons] == [f"topic{t}" for t in truth[rows]]
    assert all(
        r.text.startswith("First batch, before any label: a typical headline of") for r in reasons
    )
    _, clusters = with_reasons("kmeans", pool, 3)
    assert clusters[0].text.startswith("First batch: spread over the kinds of headlines")
    assert "group 1 of 3" in clusters[0].text


def test_the_random_arm_says_it_is_random():
    pool, _ = clustered_pool([10, 10])
    margin = make_strategy("margin")
    rows, arms, reasons = select_batch(pool, margin, 5, 0.4, np.random.default_rng(0))
    assert arms == ["active"] * 3 + ["random"] * 2
    assert [r.kind for r in reasons] == ["uncertain"] * 3 + ["random"] * 2
    assert reasons[-1].text.startswith("Picked at random: the baseline")


def test_round_0_reasons_are_plain_words():
    pool, _ = clustered_pool([10, 10], n_labeled=0)
    for spec in ("zero-shot", "topics"):
        _, reasons = with_reasons(spec, pool, 4)
        for reason in reasons:
            assert reason.text.startswith("First batch, before any label: a typical headline of")
            assert "zero-shot" not in reason.text and "leans" not in reason.text
            assert "%" not in reason.text and "description" not in reason.text


def test_the_task_carries_the_guess_and_the_reason():
    data = task_payload(PushItem(7, "Rain all week", 2, "weather", 0.734, "active", "Why."))["data"]
    assert data["guess"] == "The model's guess: weather (73 % sure)." and data["why"] == "Why."
    first = task_payload(PushItem(8, "Rain again", 0))["data"]
    assert first["guess"].startswith("No model guess yet") and "predictions" not in first

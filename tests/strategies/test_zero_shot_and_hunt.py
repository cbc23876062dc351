"""The zero-shot cold start and the hunt for topics with no or few labels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from activelabel.errors import StrategyError
from activelabel.strategies import (
    Hunted,
    PoolView,
    ZeroShotSeed,
    make_strategy,
    zero_shot_probabilities,
)

from .pools import clustered_pool


def only(pool: PoolView, *fields: str) -> PoolView:
    """The view as an engine fills it for a strategy that needs exactly ``fields``."""
    return PoolView(**{name: getattr(pool, name) for name in fields})


def test_zero_shot_covers_every_topic_evenly_from_what_it_declares():
    pool, truth = clustered_pool([40, 30, 20, 10], dim=16, spread=0.2)
    strategy = make_strategy("zero-shot")
    assert strategy.needs == {"embeddings", "topic_embeddings", "labeled_classes", "class_names"}
    picks = strategy.select(only(pool, *strategy.needs), 8, np.random.default_rng(0))
    assert np.bincount(truth[picks], minlength=4).tolist() == [2, 2, 2, 2]
    assert truth[picks[:4]].tolist() != [0, 0, 0, 0], "topics are interleaved"


def test_zero_shot_spreads_within_a_topic_and_gives_unused_slots_away():
    pool, truth = clustered_pool([60, 3], dim=16, spread=0.2)
    picks = ZeroShotSeed().select(pool, 10, np.random.default_rng(1))
    assert len(set(picks.tolist())) == 10
    assert np.bincount(truth[picks], minlength=2).tolist() == [7, 3]  # the small topic has 3
    embeddings = pool.embeddings[picks[truth[picks] == 0]]
    nearest = np.sort(((embeddings[:, None] - embeddings[None]) ** 2).sum(-1), axis=1)[:, 1]
    assert (nearest > 0).all()


def test_zero_shot_takes_the_surest_row_for_one_slot_and_central_rows_for_several():
    pool, truth = clustered_pool([50, 50, 50, 50], dim=16, spread=0.4)
    scores = zero_shot_probabilities(pool.embeddings, pool.topic_embeddings)
    surest = {}
    for c in range(4):
        rows = np.flatnonzero(scores.argmax(1) == c)
        surest[c] = int(rows[np.argmax(scores[rows, c])])
    one_each = ZeroShotSeed().select(pool, 4, np.random.default_rng(0))
    assert sorted(one_each.tolist()) == sorted(surest.values())
    several = ZeroShotSeed().select(pool, 12, np.random.default_rng(0))
    typical = ZeroShotSeed(confident=0.5, central=False).select(pool, 12, np.random.default_rng(0))
    assert len(set(several.tolist())) == 12 and set(several.tolist()) != set(typical.tolist())
    confidence = scores.max(axis=1)
    assert confidence[several].mean() < confidence[typical].mean()  # spread, not the surest


def test_zero_shot_needs_topic_embeddings():
    pool, _ = clustered_pool([5, 5])
    with pytest.raises(StrategyError, match="topic_embeddings"):
        ZeroShotSeed().select(replace(pool, topic_embeddings=None), 3, np.random.default_rng(0))


def test_hunt_serves_unhit_topics_first_by_description_and_probability():
    pool, truth = clustered_pool([30, 30, 30, 30], spread=0.2, n_labeled=0)
    pool = replace(pool, labeled_classes=np.array([0, 0, 1, 1, 2]), labeled_embeddings=None)
    strategy = Hunted(make_strategy("margin"), few=2, max_share=0.5)
    assert strategy.short_topics(pool)[0] == (3, 2) and strategy.short_topics(pool)[1] == (2, 1)
    picks = strategy.select(pool, 6, np.random.default_rng(0))
    assert truth[picks[:3]].tolist() == [3, 2, 3]
    assert len(set(picks.tolist())) == 6


def test_hunt_works_without_topic_embeddings_and_leaves_covered_pools_to_base():
    pool, truth = clustered_pool([30, 30, 30], spread=0.2, n_labeled=0)
    pool = replace(pool, labeled_classes=np.array([0, 0, 1, 1]), topic_embeddings=None)
    picks = Hunted(make_strategy("margin")).select(pool, 10, np.random.default_rng(0))
    assert truth[picks[:2]].tolist() == [2, 2]

    covered = replace(pool, labeled_classes=np.array([0, 0, 1, 1, 2, 2]))
    rng = np.random.default_rng
    assert np.array_equal(
        Hunted(make_strategy("margin")).select(covered, 10, rng(0)),
        make_strategy("margin").select(covered, 10, rng(0)),
    )


def test_hunt_with_a_share_keeps_hunting_a_topic_until_it_has_part_of_an_equal_share():
    pool, truth = clustered_pool([30, 30, 30], spread=0.2, n_labeled=0)
    pool = replace(pool, labeled_classes=np.array([0] * 10 + [1] * 10 + [2] * 2))
    assert Hunted(make_strategy("margin"), share=0).short_topics(pool) == []  # two are enough
    assert Hunted(make_strategy("margin")).short_topics(pool) == [(2, 1)]  # share 0.5: 3 labels
    strategy = Hunted(make_strategy("margin"), share=1.0, max_share=0.5)
    assert strategy.wanted(22, 3) == 7 and strategy.short_topics(pool) == [(2, 5)]
    picks = strategy.select(pool, 8, np.random.default_rng(0))
    assert truth[picks[:4]].tolist() == [2, 2, 2, 2]  # half the batch at most
    assert len(set(picks.tolist())) == 8


def test_hunt_asks_no_more_of_a_topic_than_the_model_expects_in_the_pool():
    pool, _ = clustered_pool([30, 30, 30], spread=0.2, n_labeled=0)
    probabilities = np.tile([0.49, 0.49, 0.02], (pool.size, 1))  # topic 2: ~1.8 rows expected
    pool = replace(
        pool, labeled_classes=np.array([0] * 10 + [1] * 10 + [2] * 2), probabilities=probabilities
    )
    assert Hunted(make_strategy("margin"), share=1.0).short_topics(pool) == [(2, 1)]
    one = replace(pool, labeled_classes=np.array([0] * 10 + [1] * 10 + [2]))
    assert Hunted(make_strategy("margin"), share=1.0).short_topics(one) == [(2, 1)]  # few: 2


def test_hunt_on_evidence_hunts_a_topic_the_model_misses_and_asks_base_within_it():
    pool, truth = clustered_pool([30, 30, 30], spread=0.2, n_labeled=0)
    pool = replace(
        pool,
        labeled_classes=np.array([0] * 5 + [1] * 5 + [2] * 5),
        class_recall=np.array([0.9, 0.3, np.nan]),
    )
    assert Hunted(make_strategy("margin")).short_topics(pool) == []  # labels enough
    hunt = Hunted(make_strategy("margin"), recall_floor=0.5, within_base=True)
    assert hunt.short_topics(pool) == [(1, 1)]  # recall 30 %: one slot; unknown: none
    rows, reasons = hunt.select_with_reasons(pool, 6, np.random.default_rng(0))
    assert reasons[0].kind == "hunt" and reasons[0].topics == ("topic1",)
    assert "found only 30 %" in reasons[0].text and "unsure between" in reasons[0].text
    likeliest = np.argsort(-pool.probabilities[:, 1], kind="stable")[:5]
    assert rows[0] in likeliest
    p = pool.probabilities[likeliest]
    top_two = np.sort(p, axis=1)[:, -2:]
    assert rows[0] == likeliest[np.argmin(top_two[:, 1] - top_two[:, 0])]  # margin's choice

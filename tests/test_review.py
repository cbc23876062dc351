"""Label review with the oracle: flags, answers, provenance, bad input, the round lock."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.review import rank_labels, self_confidence_order
from activelabel.store import NewLabel, ReviewAnswer, ReviewFlag
from activelabel.workspace import Workspace
from tests.cli import init_workspace, run


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    init_workspace(path, small_corpus, tiny_model, "--id-column", "id", "--mode", "frozen")
    return path


def label(ws: Workspace, n: int, flip_every: int = 0) -> set[int]:
    """Give the first ``n`` pool items their gold label, every ``flip_every``-th another one;
    returns the flipped item ids."""
    names = ws.class_names
    flipped, labels = set(), []
    for i, item in enumerate(ws.store.items("pool")[:n]):
        value = item.gold
        if flip_every and i % flip_every == 0:
            value = names[(names.index(item.gold) + 1) % len(names)]
            flipped.add(item.id)
        labels.append(NewLabel(item.id, value, "import"))
    with ws.store.transaction() as db:
        ws.store.apply_labels(labels, db=db)
    return flipped


def test_cleanlab_ranks_the_contradicted_labels_first():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 200)
    probabilities = np.full((200, 4), 0.05)
    probabilities[np.arange(200), truth] = 0.85
    labels = truth.copy()
    labels[:10] = (truth[:10] + 1) % 4
    ranking = rank_labels(labels, probabilities)
    assert set(ranking.order[:10].tolist()) == set(range(10))
    assert set(np.flatnonzero(ranking.flagged).tolist()) == set(range(10))
    assert set(self_confidence_order(labels, probabilities)[:10].tolist()) == set(range(10))


def test_oracle_review_changes_and_confirms_labels_once(workspace):
    ws = Workspace.open(workspace)
    flipped = label(ws, 40, flip_every=8)
    result = run("review", workspace, "--top", 10)
    assert result.exit_code == 0, result.output
    assert "sent 10 labels for review" in result.output
    reviews = ws.store.reviews()
    assert len(reviews) == 10 and {r.outcome for r in reviews} <= {"confirmed", "changed"}
    gold = {item.id: item.gold for item in ws.store.items()}
    active = ws.store.active_labels()
    for review in reviews:
        assert active[review.item_id] == gold[review.item_id]  # the oracle answers gold
        assert (review.outcome == "changed") == (review.item_id in flipped)
        assert review.reason.startswith("Suspected:") and review.suggested != review.label
    changed = next(r for r in reviews if r.outcome == "changed")
    history = ws.store.label_history(changed.item_id)
    assert [(h[0], h[1], h[6]) for h in history] == [
        (changed.label, "import", "superseded"),
        (gold[changed.item_id], "review", "active"),
    ]

    again = run("review", workspace, "--top", 10)
    assert again.exit_code == 0, again.output
    assert "10 were reviewed before and are not flagged again" in again.output
    second = [r for r in ws.store.reviews() if r.batch == 2]
    assert not {r.item_id for r in second} & {r.item_id for r in reviews}

    status = run("status", workspace)
    counts = ws.store.review_counts()
    assert f"{counts['flagged']} labels flagged" in status.output
    assert f"({counts['confirmed']} confirmed, {counts['changed']} changed)" in status.output


def test_too_few_labels_for_the_folds_is_one_line(workspace):
    ws = Workspace.open(workspace)
    label(ws, 6)
    result = run("review", workspace)
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "at least 5 labels of one topic for 5-fold cross-validation" in message
    assert "the most of one topic" in message and "--folds" in message
    assert ws.store.reviews() == []


def test_review_is_refused_while_a_round_runs(workspace):
    ws = Workspace.open(workspace)
    label(ws, 20)
    with ws.lock():
        result = run("review", workspace)
    assert result.exit_code == 1 and "a round is already running" in result.output
    assert ws.store.reviews() == []


def test_a_pull_of_the_old_annotation_does_not_undo_a_review(workspace):
    ws = Workspace.open(workspace)
    item = ws.store.items("pool")[0].id
    old = NewLabel(item, "sport", "labelstudio", "a@x", 0, 5, 7, "2026-01-01T10:00:00")
    with ws.store.transaction() as db:
        ws.store.apply_labels([old], db=db)
    flag = ReviewFlag(item, 0, "sport", "politics", 0.1, 0.8, 0.1, "Suspected: ...")
    ws.store.add_review_batch([flag])
    answer = ReviewAnswer(item, "politics", "b@x", 9, 11, "2026-01-02T10:00:00")
    assert ws.store.record_review_answers([answer]) == (0, 1, 0)
    with ws.store.transaction() as db:  # every round pulls every annotation again
        assert ws.store.apply_labels([old], db=db) == (0, 0, 0)
    assert ws.store.active_labels()[item] == "politics"
    edited = NewLabel(item, "sport", "labelstudio", "a@x", 0, 5, 7, "2026-01-03T10:00:00")
    with ws.store.transaction() as db:  # the annotation edited after the review: it counts
        assert ws.store.apply_labels([edited], db=db) == (0, 1, 0)
    assert ws.store.active_labels()[item] == "sport"


@pytest.mark.slow
def test_simulate_noise_with_and_without_review(workspace):
    result = run(
        "simulate", workspace, "--strategies", "random", "--seeds", 1, "--initial", 15,
        "--step", 15, "--budget", 45, "--noise", 0.2, "--review", 1, "--cold-start", "random",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ws = Workspace.open(workspace)
    points = ws.store.sim_points()
    runs = {p.run for p, _, _ in points}
    assert runs == {"random", "random (noise 20 %)", "random (noise 20 %, review every 1)"}
    reviewed = [s.get("reviewed", []) for p, _, s in points if "review" in p.run]
    assert reviewed[0] == [] and reviewed[-1]  # no review at the seed set, then some
    noisy = [s for p, _, s in points if p.run == "random (noise 20 %)"]
    assert all(s["reviewed"] == [] for s in noisy)
    refused = run("simulate", workspace, "--review", 2)
    assert refused.exit_code == 1 and "--noise" in refused.output

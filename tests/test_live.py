"""Live rounds: the random arm, the live report, and the stopping suggestion."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.evaluation import Evaluation
from activelabel.live import (
    AnnotationStats,
    acceptance_notes,
    annotation_stats,
    changed_by_round,
    live_points,
    throughput_note,
)
from activelabel.stopping import stop_signal
from activelabel.store import RoundRecord
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run


@pytest.fixture
def live_workspace(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "live"
    options = ("--mode", "frozen", "--strategy", "margin", "--cold-start", "random")
    options += ("--batch-size", 10)
    init_workspace(path, small_corpus, tiny_model, *options)
    configure(path, loop={"random_share": 0.2})
    result = run("round", str(path), "--rounds", "4")
    assert result.exit_code == 0, result.output
    return path


def test_random_arm_is_drawn_marked_and_evaluated(live_workspace):
    ws = Workspace.open(live_workspace)
    selections = ws.store.selections()
    by_round = {r: [s.arm for s in selections if s.round == r] for r in range(4)}
    assert by_round[0] == ["random"] * 10  # a random cold start is random as a whole
    for r in (1, 2, 3):
        assert by_round[r].count("random") == 2 and by_round[r].count("active") == 8
    rounds = ws.store.rounds()
    assert rounds[0].random_arm is None
    assert [r.random_arm_labels for r in rounds[1:]] == [10, 12, 14]
    assert all(r.random_arm is not None for r in rounds[1:])
    # the main model trains on every label, random-drawn ones included
    assert [r.n_labels for r in rounds] == [0, 10, 20, 30]


def test_live_report_plots_both_arms_with_their_own_counts(live_workspace):
    ws = Workspace.open(live_workspace)
    points = live_points(ws)
    active = [p.n_labels for p in points if p.run == "active"]
    random = [p.n_labels for p in points if p.run == "random"]
    assert active == [0, 10, 20, 30] and random == [10, 12, 14]
    result = run("report", str(live_workspace))
    assert result.exit_code == 0, result.output
    html = (live_workspace / "report" / "index.html").read_text()
    assert "pre-annotations accepted unchanged" in html and "annotation throughput" in html
    stats = annotation_stats(ws)
    # round 0's model is already the zero-shot model (the topic descriptions), so its guess is
    # attached to every headline sent, the first batch included
    assert stats.labels == 30 and stats.suggested == 30 and stats.labels_per_hour is None
    # the share of guesses changed, per round sent, adds up to what was accepted
    per_round = changed_by_round(ws)
    assert [r for r, _, _ in per_round] == [0, 1, 2]
    assert sum(total for _, _, total in per_round) == 30
    assert sum(changed for _, changed, _ in per_round) == stats.suggested - stats.accepted
    assert "guesses changed by the annotators, per round sent: round 0:" in html
    flagged = any("rubber-stamping" in note for note in acceptance_notes(ws, stats))
    assert flagged == (stats.accepted / stats.suggested >= 0.9)


def test_throughput_gives_a_rate_only_over_a_real_span():
    short = AnnotationStats(20, 20 / (2 / 3600), 2 / 3600, 0, 0)
    assert throughput_note(short) == (
        "annotation throughput: 20 labels in under a minute (too short a span for a rate per hour)"
    )
    long = AnnotationStats(120, 60.0, 2.0, 0, 0)
    assert throughput_note(long) == (
        "annotation throughput: 120 labels in 2.0 h, about 60 labels per hour"
    )
    assert "no annotation times" in throughput_note(AnnotationStats(5, None, None, 0, 0))


def test_status_prints_a_suggestion(live_workspace):
    result = run("status", str(live_workspace))
    assert "suggestion:" in result.output and "random arm" in result.output


def record(number: int, accuracy: float, predictions: list[int]) -> RoundRecord:
    correct = [round(accuracy * 6), 6, 0]
    evaluation = Evaluation(
        accuracy, accuracy, 1.0, correct, [6, 6, 6], np.eye(3, dtype=int).tolist()
    )
    return RoundRecord(
        number,
        "",
        "",
        10 * number,
        10,
        "frozen",
        "margin",
        evaluation,
        None,
        1.0,
        stopping_predictions=predictions,
    )


def test_flat_accuracy_suggests_stopping_and_names_weak_topics():
    names = ["politics", "sport", "human interest"]
    rounds = [record(0, 0.3, [])] + [
        record(i, a, list(np.random.default_rng(i).integers(0, 3, 50)))
        for i, a in enumerate([0.70, 0.701, 0.702, 0.703], start=1)
    ]
    signal = stop_signal(rounds, names)
    assert signal is not None and signal.flat and signal.suggest_stop
    assert "consider stopping" in signal.message and "human interest 0/6" in signal.message


def test_stable_predictions_suggest_stopping_and_rising_accuracy_does_not():
    names = ["a", "b", "c"]
    same = [0, 1, 2] * 20
    stable = [record(i, 0.5 + 0.1 * i, same) for i in range(1, 6)]
    signal = stop_signal(stable, names)
    assert signal.stable and signal.kappa == pytest.approx(1.0) and not signal.flat
    moving = [
        record(i, 0.5 + 0.1 * i, list(np.random.default_rng(i).integers(0, 3, 60)))
        for i in range(1, 6)
    ]
    signal = stop_signal(moving, names)
    assert not signal.suggest_stop and signal.message.startswith("keep labelling")
    assert stop_signal(moving[:1], names) is None


def test_kappa_agrees_with_small_text_kappa_average():
    from small_text.stopping_criteria import KappaAverage

    from activelabel.stopping import _kappas

    rng = np.random.default_rng(0)
    base = rng.integers(0, 3, 200)
    sequence = [base.copy() for _ in range(5)]
    for i, predictions in enumerate(sequence[1:], start=1):
        predictions[: 10 * i] = rng.integers(0, 3, 10 * i)
    criterion = KappaAverage(3, window_size=10)
    for predictions in sequence:
        criterion.stop(predictions=predictions)
    ours = _kappas([record(i, 0.5, p.tolist()) for i, p in enumerate(sequence, 1)], 3)
    assert ours == pytest.approx(criterion.kappa_history)

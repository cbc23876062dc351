"""``activelabel simulate``: same seed set per seed, stored points, resume, cold starts, report."""

from __future__ import annotations

import pytest

from activelabel.config import parse_strategy
from activelabel.simulate import Plan, parse_sizes, run_simulation, schedule
from activelabel.workspace import Workspace
from tests.cli import configure, init_workspace, run


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model):
    path = init_workspace(tmp_path / "sim", small_corpus, tiny_model, "--mode", "frozen")
    configure(path, model={"min_steps": 1})
    return path


def curves(path) -> dict:
    points = Workspace.open(path).store.sim_points()
    return {
        (p.run, p.seed, p.step): (p.n_labels, p.evaluation.accuracy, items)
        for p, items, _ in points
    }


def test_strategies_share_seed_sets_and_schedule(workspace):
    result = run(
        "simulate",
        workspace,
        "--strategies",
        "margin,balanced(margin+kmeans)",
        "--seeds",
        2,
        "--sizes",
        "6,12,18",
        "--cold-start",
        "random",
    )
    assert result.exit_code == 0, result.output
    stored = curves(workspace)
    assert len(stored) == 3 * 2 * 3  # random is always added
    for seed in (0, 1):
        firsts = {
            tuple(stored[(run_, seed, 0)][2])
            for run_ in ("random", "margin", "balanced(margin+kmeans)")
        }
        assert len(firsts) == 1  # one seed set per seed
        assert [stored[("margin", seed, s)][0] for s in range(3)] == [6, 12, 18]
    assert stored[("random", 0, 0)][2] != stored[("random", 1, 0)][2]
    test_ids = {i.id for i in Workspace.open(workspace).store.items("test")}
    assert not test_ids & {i for *_, items in stored.values() for i in items}
    report = run("report", workspace)
    assert report.exit_code == 0 and (workspace / "report" / "index.html").is_file()


def test_by_default_the_workspace_strategy_runs_beside_random(workspace):
    configure(workspace, loop={"strategy": "entropy", "cold_start": "random"})
    result = run("simulate", workspace, "--seeds", 1, "--sizes", "6,10")
    assert result.exit_code == 0, result.output
    assert {run_ for run_, _, _ in curves(workspace)} == {"random", "entropy"}


def test_an_interrupted_simulation_continues_to_the_same_result(
    workspace, tmp_path, small_corpus, tiny_model
):
    args = ("simulate", "--strategies", "margin+kmeans", "--seeds", 1, "--sizes", "6,10,14,18")
    assert run(args[0], workspace, *args[1:]).exit_code == 0
    whole = curves(workspace)
    ws = Workspace.open(workspace)
    with ws.store.transaction() as db:  # as if the process died after step 1 of margin+kmeans
        db.execute("DELETE FROM sim_points WHERE run = 'margin+kmeans' AND step >= 2")
    assert run(args[0], workspace, *args[1:]).exit_code == 0
    assert curves(workspace) == whole


def test_cold_starts_and_schedules(workspace):
    ws = Workspace.open(workspace)
    for cold_start in ("kmeans", "topics"):
        plan = Plan([parse_strategy("random")], [0], [6, 9], "frozen", parse_strategy(cold_start))
        points = run_simulation(ws, plan)
        assert [p.n_labels for p in points[-2:]] == [6, 9]
        ws.store.delete_sim_points("frozen")
    assert schedule(20, 20, 90) == [20, 40, 60, 80, 90]
    assert parse_sizes("120,600,1000") == [120, 600, 1000]
    bad = run("simulate", workspace, "--sizes", "600,120")
    assert bad.exit_code == 1 and "increasing" in bad.output
    too_big = run("simulate", workspace, "--sizes", "10,5000")
    assert too_big.exit_code == 1 and "pool has" in too_big.output


def test_fresh_with_a_plan_that_cannot_run_deletes_nothing(workspace):
    first = run("simulate", workspace, "--strategies", "margin", "--seeds", 1, "--sizes", "6,9")
    assert first.exit_code == 0, first.output
    stored = curves(workspace)
    refused = run("simulate", workspace, "--fresh", "--budget", 100000)
    assert refused.exit_code == 1 and "pool has" in refused.output
    assert curves(workspace) == stored  # validated before anything was deleted


def test_curves_of_another_cold_start_are_not_silently_reused(workspace):
    options = ("--strategies", "margin", "--seeds", 1, "--sizes", "6,9")
    done = run("simulate", workspace, *options, "--cold-start", "kmeans")
    assert done.exit_code == 0, done.output
    stored = curves(workspace)
    other = run("simulate", workspace, *options, "--cold-start", "topics")
    assert other.exit_code == 1
    assert "cold_start = 'kmeans'" in other.output and "--fresh" in other.output
    assert curves(workspace) == stored
    fresh = run("simulate", workspace, *options, "--cold-start", "topics", "--fresh")
    assert fresh.exit_code == 0, fresh.output
    states = [state for _, _, state in Workspace.open(workspace).store.sim_points()]
    assert states and all(state["cold_start"] == "topics" for state in states)
    assert run("report", workspace).exit_code == 0
    page = (workspace / "report" / "index.html").read_text()
    assert "seed sets by cold start &#39;topics&#39; (random share 0)" in page


def test_random_with_the_plain_model_beside_the_learner(workspace):
    """--plain runs random again with the plain learner, from the same seed sets; the report
    then says which part of the gain is the model's and which the selection's."""
    result = run(
        "simulate",
        workspace,
        "--strategies",
        "margin",
        "--plain",
        "random",
        "--seeds",
        2,
        "--sizes",
        "6,12",
        "--cold-start",
        "topics",
    )
    assert result.exit_code == 0, result.output
    assert "random (plain model)" in result.output
    stored = curves(workspace)
    assert len(stored) == 3 * 2 * 2
    for seed in (0, 1):
        assert stored[("random (plain model)", seed, 0)][2] == stored[("random", seed, 0)][2]
        assert [stored[("random (plain model)", seed, s)][0] for s in (0, 1)] == [6, 12]
    states = {p.run: state for p, _, state in Workspace.open(workspace).store.sim_points()}
    assert states["random (plain model)"]["learner"] == "plain"
    assert states["random"]["learner"] == states["margin"]["learner"] == "default"
    report = run("report", workspace)
    assert report.exit_code == 0, report.output
    summary = (workspace / "report" / "summary.md").read_text()
    assert "| random (plain model) |" in summary and "Where the gain comes from" in summary


def test_the_plain_learner_trains_without_descriptions_or_pseudo_labels(workspace):
    from activelabel.engine import Trainer
    from activelabel.learner_variants import PLAIN_SETTINGS, parse_run, run_name

    ws = Workspace.open(workspace)
    pool = ws.store.items("pool")
    texts = [i.text for i in pool]
    y = [ws.class_names.index(i.gold) for i in pool]
    learner = Trainer.for_workspace(ws, texts)
    plain = Trainer.for_workspace(ws, texts, overrides=PLAIN_SETTINGS)
    for trainer in (learner, plain):
        trainer.fit(texts[:8], y[:8], texts[8:])
    assert learner.classifier.training_summary["topic_examples"] == len(ws.class_names)
    assert plain.classifier.training_summary["topic_examples"] == 0
    assert plain.classifier.training_summary["method"] == "none"
    assert learner.classifier.training_summary["method"] == "self-training"
    assert parse_run(run_name("hunt(margin)", "plain")) == ("hunt(margin)", "plain")
    assert parse_run("margin") == ("margin", "default")


def test_an_unknown_plain_strategy_is_one_line(workspace):
    bad = run("simulate", workspace, "--plain", "nonsense", "--sizes", "6,9")
    assert bad.exit_code == 1 and "nonsense" in bad.output
    assert len(bad.output.strip().splitlines()) == 1

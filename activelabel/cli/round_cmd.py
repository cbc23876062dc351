"""``activelabel round``: pull -> train -> eval -> select -> push, K times."""

from __future__ import annotations

from pathlib import Path

import click

from activelabel.annotators import make_annotator
from activelabel.cli.app import cli
from activelabel.cli.status_cmd import print_status
from activelabel.cli.ui import console, percent, phases
from activelabel.workspace import Workspace


def pull_summary(ws: Workspace, annotator, result) -> str:
    """One line: what annotators did since the last trained round (new, edited, skipped and
    deleted annotations), also what a refused run had already pulled."""
    earlier = [r for r in ws.store.rounds() if r.round < result.round]
    since = earlier[-1].finished_at if earlier else ""
    skipped, deleted, edited_first = ws.store.activity_since(since)
    return (
        f"pulled: {result.new_labels} new labels, {result.changed_labels + edited_first} edited, "
        f"{skipped} skipped (not used for training), {deleted} deleted (labels withdrawn)"
    )


@cli.command("round")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--rounds",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many rounds to run one after another.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Headlines to select this round (default: loop.batch_size of the workspace).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Retrain even if fewer labels arrived than the last batch asked for.",
)
def round_command(workspace: Path, rounds: int, batch_size: int | None, force: bool) -> None:
    """Run active-learning rounds on WORKSPACE.

    Each round pulls the labels made since the last one, fine-tunes the model from the
    pre-trained weights on every label, evaluates it on the test set, selects the next batch
    with the workspace's strategy and sends it to the annotators. Round 0 evaluates the
    untrained model. A round that is interrupted can simply be run again.
    """
    from activelabel.loop import run_round

    ws = Workspace.open(workspace)
    annotator = make_annotator(ws)
    for _ in range(rounds):
        with phases() as phase:
            result = run_round(ws, annotator, force=force, batch_size=batch_size, phase=phase)
        for problem in result.problems:
            console.print(f"[yellow]warning:[/] {problem}")
        if result.round > 0:
            console.print(pull_summary(ws, annotator, result), soft_wrap=True)
        if any(result.review_answers):
            confirmed, changed, skipped = result.review_answers
            console.print(
                f"label review answers: {confirmed} confirmed, {changed} changed (trained on), "
                f"{skipped} skipped"
            )
        accuracy = percent(result.evaluation.accuracy if result.evaluation else None)
        line = (
            f"round {result.round}: {result.n_labels} labels (+{result.new_labels}), "
            f"accuracy {accuracy}"
        )
        if result.random_arm:
            line += (
                f", random arm {percent(result.random_arm.accuracy)} "
                f"with {result.random_arm_labels} labels"
            )
        if result.zero_shot:
            line += f", zero-shot {percent(result.zero_shot.accuracy)}"
        console.print(
            line + f"; sent {len(result.selected)} headlines ({result.strategy}) "
            f"in {result.wall_seconds:.0f} s"
        )
    print_status(ws)

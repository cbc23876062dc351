"""``activelabel status``: one row per round."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from activelabel.cli.app import cli
from activelabel.cli.ui import console, percent
from activelabel.stopping import stop_signal
from activelabel.workspace import Workspace

SATISFACTORY = 5 / 6  # the original study: 5 or 6 of 6 test headlines right


def satisfactory_classes(correct: list[int], total: list[int]) -> int:
    return sum(1 for c, t in zip(correct, total, strict=True) if t and c / t >= SATISFACTORY)


def print_status(ws: Workspace) -> None:
    rounds = ws.store.rounds()
    n_classes = len(ws.class_names)
    table = Table(title=f"{ws.path} · {ws.config.model.mode} · chance {100 / n_classes:.2f} %")
    for column in (
        "round",
        "labels",
        "accuracy",
        "macro-F1",
        "eval loss",
        "satisfactory",
        "zero-shot",
        "random arm",
        "strategy",
        "wall",
    ):
        table.add_column(
            column, justify="left" if column == "strategy" else "right", overflow="fold"
        )
    for r in rounds:
        e = r.evaluation
        table.add_row(
            str(r.round),
            str(r.n_labels),
            percent(e.accuracy if e else None),
            percent(e.macro_f1 if e else None),
            f"{e.eval_loss:.3f}" if e else "–",
            f"{satisfactory_classes(e.per_class_correct, e.per_class_total)}/{n_classes}"
            if e
            else "–",
            percent(r.zero_shot.accuracy) if r.zero_shot else "",
            f"{percent(r.random_arm.accuracy)} @{r.random_arm_labels}" if r.random_arm else "",
            r.strategy,
            f"{r.wall_seconds:.0f} s",
        )
    console.print(table)
    awaiting = len(ws.store.awaiting())
    if awaiting:
        console.print(f"{awaiting} headlines are waiting for labels.")
    signal = stop_signal(rounds, ws.class_names)
    if signal is not None:
        colour = "green" if signal.suggest_stop else "cyan"
        console.print(f"[{colour}]suggestion:[/] {signal.message}")


@cli.command("status")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
def status_command(workspace: Path) -> None:
    """Show every round of WORKSPACE: labels, accuracy, macro-F1, eval loss, satisfactory
    classes (at least 5 of 6 test headlines right, as in the original study), zero-shot
    accuracy (round 0), the random arm's accuracy with its own label count, wall time, and a
    suggestion whether to keep labelling."""
    print_status(Workspace.open(workspace))

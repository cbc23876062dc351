"""``activelabel status``: one row per round."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from activelabel.cli.app import cli
from activelabel.cli.ui import console, percent
from activelabel.model.presets import language_line

if TYPE_CHECKING:
    from activelabel.workspace import Workspace

SATISFACTORY = 5 / 6  # the original study: 5 or 6 of 6 test headlines right


def satisfactory_classes(correct: list[int], total: list[int]) -> int:
    return sum(1 for c, t in zip(correct, total, strict=True) if t and c / t >= SATISFACTORY)


def trained_on_text(training: dict | None) -> str:
    """What a round's model learned from, short: "labels + topic descriptions + pseudo"."""
    if not training:
        return ""
    parts = [f"{training.get('labels', 0)} labels"]
    if training.get("topic_examples"):
        parts.append(f"{training['topic_examples']} topics")
    pseudo = training.get("pseudo_labels")
    if isinstance(pseudo, list) and sum(pseudo):
        how = training.get("method", "")
        if training.get("shares_cv"):
            how += f", {training.get('pseudo_shares')} shares by CV"
        parts.append(f"{sum(pseudo)} pseudo ({how})")
    return " + ".join(parts)


COLUMNS = (
    "round",
    "labels",
    "accuracy",
    "macro-F1",
    "eval loss",
    "satisfactory",
    "zero-shot",
    "random arm",
    "trained on",
    "strategy",
    "wall",
)
#: left out of the table, and said per round below it, when the full table is too wide
DETAILS = ("eval loss", "trained on", "strategy", "wall")


def round_cells(r, n_classes: int) -> dict[str, str]:
    """Every column's text for one round."""
    e = r.evaluation
    return {
        "round": str(r.round),
        "labels": str(r.n_labels),
        "accuracy": percent(e.accuracy if e else None),
        "macro-F1": percent(e.macro_f1 if e else None),
        "eval loss": f"{e.eval_loss:.3f}" if e else "–",
        "satisfactory": f"{satisfactory_classes(e.per_class_correct, e.per_class_total)}"
        f"/{n_classes}"
        if e
        else "–",
        "zero-shot": percent(r.zero_shot.accuracy) if r.zero_shot else "",
        "random arm": f"{percent(r.random_arm.accuracy)} @{r.random_arm_labels}"
        if r.random_arm
        else "",
        "trained on": trained_on_text(r.training),
        "strategy": r.strategy,
        "wall": f"{r.wall_seconds:.0f} s",
    }


def table_width(rows: list[dict[str, str]], columns: Sequence[str]) -> int:
    """Characters the table needs with no cell wrapped (a border and two spaces per column)."""
    return 1 + sum(3 + max(len(c), *(len(row[c]) for row in rows)) for c in columns)


def rounds_table(title: str, rows: list[dict[str, str]], columns: Sequence[str]) -> Table:
    """The table of ``columns``; no cell is ever broken inside a word."""
    table = Table(title=title)
    for column in columns:
        table.add_column(
            column,
            justify="left" if column in ("strategy", "trained on") else "right",
            no_wrap=True,
        )
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    return table


def print_status(ws: Workspace) -> None:
    from activelabel.never_hit import never_hit_note
    from activelabel.stopping import stop_signal

    rounds = ws.store.rounds()
    n_classes = len(ws.class_names)
    title = f"{ws.path} · {ws.config.model.mode} · chance {100 / n_classes:.2f} %"
    rows = [round_cells(r, n_classes) for r in rounds]
    compact = bool(rows) and table_width(rows, COLUMNS) > console.width
    # too wide: the long columns go below the table, one line per round
    table = rounds_table(title, rows, [c for c in COLUMNS if not compact or c not in DETAILS])
    console.print(table)
    console.print(language_line(ws.config.corpus.language, ws.config.model.name), highlight=False)
    if compact:
        for row in rows:
            details = "; ".join(f"{c} {row[c]}" for c in DETAILS if row[c])
            console.print(f"round {row['round']}: {details}", soft_wrap=True, highlight=False)
    if not rounds:
        for line in empty_hints(ws):
            console.print(line, soft_wrap=True, highlight=False)
    missing = never_hit_note(ws)
    if missing:
        console.print(f"[yellow]{missing[0].upper()}{missing[1:]}[/]", highlight=False)
    for line in waiting_lines(ws):
        console.print(line, soft_wrap=True)
    from activelabel.review.summary import review_line

    review = review_line(ws)
    if review:
        console.print(review, soft_wrap=True)
    signal = stop_signal(rounds, ws.class_names)
    if signal is not None:
        colour = "green" if signal.suggest_stop else "cyan"
        console.print(f"[{colour}]suggestion:[/] {signal.message}")


def empty_hints(ws: Workspace) -> list[str]:
    """What to do when the workspace has no round yet, and where simulation results are."""
    hints = [f"No rounds yet: run 'activelabel round {ws.path}' to train and send a first batch."]
    runs = sorted({point.run for point, _, _ in ws.store.sim_points()})
    if runs:
        hints.append(
            f"Simulation results ({', '.join(runs)}) are not rounds: see them with "
            f"'activelabel report {ws.path}'."
        )
    return hints


def waiting_lines(ws: Workspace) -> list[str]:
    """What waits for labels, from which rounds, and where people label it."""
    awaiting = ws.store.awaiting()
    skipped = ws.store.skipped()
    lines = []
    if awaiting:
        latest: dict[int, int] = {}
        for s in ws.store.selections():
            if s.item_id in awaiting:
                latest[s.item_id] = max(s.round, latest.get(s.item_id, s.round))
        by_round = Counter(latest.values())
        parts = [f"{n} sent in round {r}" for r, n in sorted(by_round.items(), reverse=True)]
        line = f"{len(awaiting)} headlines are waiting for labels ({', '.join(parts)})"
        if skipped:
            line += f"; {len(skipped)} skipped headlines are not counted"
        lines.append(line + ".")
        lines.append(_where(ws))
    elif skipped:
        lines.append(f"{len(skipped)} headlines were skipped by the annotators (not used).")
    return lines


def _where(ws: Workspace) -> str:
    if ws.config.loop.annotator != "labelstudio":
        return (
            "The oracle (the corpus's own labels) answers them at the next "
            f"'activelabel round {ws.path}'."
        )
    from activelabel.integrations.labelstudio.link import credentials_path, load_link

    config = ws.config.labelstudio
    link = load_link(ws.path, config.url, config.token_env)
    project = f"{link.url}/projects/{link.project_id}" if link.project_id else link.url
    login = (
        f"log in as {link.username}, password in {credentials_path(ws.path)}"
        if link.password
        else "log in with your Label Studio account"
    )
    return (
        f"Label them in Label Studio: {project} ({login}); then run 'activelabel round {ws.path}'."
    )


@cli.command("status")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
def status_command(workspace: Path) -> None:
    """Show every round of WORKSPACE: labels, accuracy, macro-F1, eval loss, satisfactory
    classes (at least 5 of 6 test headlines right, as in the original study), zero-shot
    accuracy (round 0), the random arm's accuracy with its own label count, what the model
    trained on (labels, topic descriptions, pseudo-labels from the pool, which are never
    stored as labels), wall time, the topics no label has hit yet, and a suggestion whether to
    keep labelling."""
    from activelabel.workspace import Workspace

    print_status(Workspace.open(workspace))

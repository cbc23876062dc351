"""``activelabel status``: one row per round."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from activelabel.cli.app import cli
from activelabel.cli.ui import console, percent
from activelabel.coverage import never_hit_note
from activelabel.model.presets import language_line
from activelabel.stopping import stop_signal
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
        "trained on",
        "strategy",
        "wall",
    ):
        long_text = column in ("strategy", "trained on")  # these fold; numbers never wrap
        table.add_column(
            column,
            justify="left" if long_text else "right",
            overflow="fold",
            no_wrap=not long_text,
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
            trained_on_text(r.training),
            r.strategy,
            f"{r.wall_seconds:.0f} s",
        )
    console.print(table)
    console.print(language_line(ws.config.corpus.language, ws.config.model.name), highlight=False)
    missing = never_hit_note(ws)
    if missing:
        console.print(f"[yellow]{missing[0].upper()}{missing[1:]}[/]", highlight=False)
    for line in waiting_lines(ws):
        console.print(line, soft_wrap=True)
    signal = stop_signal(rounds, ws.class_names)
    if signal is not None:
        colour = "green" if signal.suggest_stop else "cyan"
        console.print(f"[{colour}]suggestion:[/] {signal.message}")


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
    print_status(Workspace.open(workspace))

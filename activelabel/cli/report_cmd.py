"""``activelabel report``: learning curves, confusion matrices, hits, label distribution."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from activelabel.cli.app import cli
from activelabel.cli.ui import console
from activelabel.errors import ActiveLabelError
from activelabel.model.names import mode_label
from activelabel.model.presets import language_line

if TYPE_CHECKING:
    from activelabel.workspace import Workspace


@cli.command("report")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for index.html, summary.md and the PNGs (default: WORKSPACE/report).",
)
@click.option(
    "--source",
    type=click.Choice(["auto", "simulation", "rounds"]),
    default="auto",
    show_default=True,
    help="Report the simulations or the live rounds.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Write into an --out folder that holds other files (index.html and summary.md are "
    "replaced; nothing else is deleted). Not needed for a new, empty or earlier report folder.",
)
def report_command(workspace: Path, out: Path | None, source: str, overwrite: bool) -> None:
    """Write the report of WORKSPACE: learning curves of each strategy against random (mean and
    spread over seeds, chance line), summary table, confusion matrices, per-class hits and
    label distribution, as PNG figures in one HTML page plus a markdown summary.

    A report deletes only the figures its own earlier run listed in the folder's
    .activelabel-report.json, never other files."""
    from activelabel.workspace import Workspace

    page = report_of(Workspace.open(workspace), workspace, out, source, overwrite)
    console.print(f"Report: {page}")


def report_of(
    ws: Workspace,
    workspace: Path,
    out: Path | None = None,
    source: str = "auto",
    overwrite: bool = False,
) -> Path:
    """Write the report of ``ws`` into ``out`` (default ``WORKSPACE/report``); returns the page."""
    from activelabel.live import live_notes, live_points
    from activelabel.never_hit import never_hit_note
    from activelabel.report import write_report

    stored = ws.store.sim_points() if source != "rounds" else []
    points = [p for p, _, _ in stored]
    live = not points and source != "simulation"
    if live:
        points = live_points(ws)
    if not points:
        raise ActiveLabelError(
            f"{workspace} has no simulation points or evaluated rounds yet; "
            f"run 'activelabel simulate {workspace}' or 'activelabel round {workspace}'"
        )
    names = ws.class_names
    index = {n: i for i, n in enumerate(names)}
    corpus_counts = [0] * len(names)
    for item in ws.store.items("pool"):
        if item.gold in index:
            corpus_counts[index[item.gold]] += 1
    seeds = sorted({p.seed for p in points})
    notes = [
        f"corpus: {ws.config.corpus.source} — pool {sum(1 for _ in ws.store.items('pool'))}, "
        f"test {len(ws.store.items('test'))}",
        f"{language_line(ws.config.corpus.language, ws.config.model.name)}; modes: "
        + ", ".join(sorted({mode_label(p.mode) for p in points})),
        f"seeds: {', '.join(map(str, seeds))}",
    ]
    if live:
        notes += live_notes(ws)
    notes += seed_set_notes(stored)
    missing = never_hit_note(ws)
    if missing:
        notes.append(missing)
    folder = out or workspace / "report"
    from activelabel.review.summary import report_section

    review = report_section(ws)
    try:
        return write_report(
            folder,
            points,
            names,
            title=f"activelabel report · {workspace.name}",
            corpus_counts=corpus_counts if any(corpus_counts) else None,
            chance=1 / len(names),
            notes=notes,
            sections=[review] if review else [],
            overwrite=overwrite or out is None,  # WORKSPACE/report is the workspace's own
        )
    except OSError as exc:
        raise ActiveLabelError(
            f"cannot write the report into {folder} ({exc.strerror or exc}); pass --out with a "
            f"writable folder"
        ) from exc


def seed_set_notes(stored: list) -> list[str]:
    """Per simulated mode: how the seed sets were picked and the random share of each batch."""
    recipes: dict[str, set[tuple]] = {}
    for point, _, state in stored:
        recipe = (state.get("cold_start", "random"), state.get("random_share", 0.0))
        recipes.setdefault(point.mode, set()).add(recipe)
    return [
        f"{mode_label(mode)}: seed sets by cold start "
        + ", ".join(f"'{cold}' (random share {share:g})" for cold, share in sorted(found))
        for mode, found in sorted(recipes.items())
    ]

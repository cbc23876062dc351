"""``activelabel review``: send suspect labels back to the annotators."""

from __future__ import annotations

from pathlib import Path

import click

from activelabel.cli.app import cli
from activelabel.cli.ui import console, phases
from activelabel.review.rank import DEFAULT_METHOD, METHODS


@cli.command("review")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=None,
    help="Send the N most suspect labels (default: the labels cleanlab's confident learning "
    "calls issues).",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Cross-validation folds: each label is judged by a model trained on the other folds.",
)
@click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default=DEFAULT_METHOD,
    show_default=True,
    help="cleanlab's label quality score that orders the suspects (self_confidence: the "
    "probability of the label it has; see docs/review.md for the measured comparison).",
)
def review_command(workspace: Path, top: int | None, folds: int, method: str) -> None:
    """Find labels in WORKSPACE that are probably wrong and send them back for review.

    Every label is judged out of sample: the labels are split into K folds and the workspace's
    learner (topic descriptions, pseudo-labels and all) is trained on the other folds to give
    each headline class probabilities. cleanlab ranks the labels by those probabilities; the
    most suspect ones, never flagged before, go to Label Studio as review tasks (the label it
    has, the model's suggestion pre-selected, and why it is suspected; in the project's
    "Label review" tab). With the oracle annotator the gold label answers at once.

    Answers are pulled by the next 'activelabel review' or 'activelabel round': a changed topic
    supersedes the label (who and when are kept), the same topic marks it confirmed, and the
    next round trains on the corrected labels. Refused while a round is running.
    """
    from activelabel.annotators import make_annotator
    from activelabel.review.session import run_review
    from activelabel.workspace import Workspace

    ws = Workspace.open(workspace)
    annotator = make_annotator(ws)
    with phases() as phase:
        result = run_review(ws, annotator, top=top, folds=folds, method=method, phase=phase)
    for problem in result.problems:
        console.print(f"[yellow]warning:[/] {problem}")
    confirmed, changed, skipped = result.answers
    if any(result.answers):
        console.print(
            f"answers pulled: {confirmed} labels confirmed, {changed} changed, {skipped} skipped"
        )
    console.print(
        f"ranked {result.n_labels} labels ({folds}-fold, cleanlab {method}): cleanlab calls "
        f"{result.cleanlab_issues} of them issues; {result.already_reviewed} were reviewed "
        f"before and are not flagged again"
    )
    if not result.flags:
        console.print("nothing to review: no label is flagged that was not reviewed before")
        return
    console.print(f"review {result.batch}: sent {len(result.flags)} labels for review:")
    texts = ws.store.texts(f.item_id for f in result.flags)
    for flag in result.flags[:10]:
        console.print(
            f"  '{flag.label}' -> suggested '{flag.suggested}' "
            f"({100 * flag.p_label:.0f} % vs {100 * flag.p_suggested:.0f} %): "
            f"{texts[flag.item_id][:70]}",
            soft_wrap=True,
            highlight=False,
        )
    if len(result.flags) > 10:
        console.print(f"  ... and {len(result.flags) - 10} more")
    confirmed, changed, skipped = result.later_answers
    if any(result.later_answers):
        console.print(
            f"the {ws.config.loop.annotator} answered: {confirmed} confirmed, {changed} changed, "
            f"{skipped} skipped; the next round trains on the corrected labels"
        )
    else:
        console.print(
            "Review them in Label Studio (the project's 'Label review' tab), then run "
            f"'activelabel round {workspace}' or 'activelabel review {workspace}' to pull the "
            "answers."
        )

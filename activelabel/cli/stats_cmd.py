"""``activelabel stats``: label counts, shares and headline lengths of a corpus."""

from __future__ import annotations

import click
from rich.table import Table

from activelabel.cli.app import cli
from activelabel.cli.ui import console


@cli.command("stats")
@click.argument("corpus", default="bbc")
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True)
def stats_command(corpus: str, text_column: str, label_column: str) -> None:
    """Counts and shares per label, and mean ± sd headline length in words, of CORPUS
    (a built-in name or a file)."""
    from activelabel.corpus import load_corpus
    from activelabel.corpus.stats import label_stats

    loaded = load_corpus(corpus, text_column, label_column)
    table = Table(title=f"{loaded.name}: {len(loaded)} records")
    for column in ("label", "count", "share", "words mean", "words sd"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for row in label_stats(loaded):
        table.add_row(
            row.label,
            str(row.count),
            f"{100 * row.share:.1f} %",
            f"{row.mean_words:.1f}",
            f"{row.sd_words:.1f}",
        )
    console.print(table)

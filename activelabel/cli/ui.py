"""Terminal output: progress bars for the phases of a round and tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True)


@contextmanager
def phases() -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A ``phase(description, total) -> advance(n)`` factory drawing one bar per phase."""
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as progress:

        def phase(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        yield phase


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"

"""Terminal output: progress of long phases (bars on a terminal, plain lines in a log) and
small formatting helpers."""

from __future__ import annotations

import os
import sys
import time
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

from activelabel.progress import Phase

PIPED_WIDTH = 120
"""Width of tables off a terminal when ``COLUMNS`` does not say (a log file, CI)."""


def output_width() -> int | None:
    """The width to lay tables out in: the terminal's own (None), or off a terminal ``COLUMNS``
    when it is a positive number, else :data:`PIPED_WIDTH`."""
    if sys.stdout.isatty():
        return None
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return PIPED_WIDTH
    return columns if columns > 0 else PIPED_WIDTH


# off a terminal (a log file, CI) long lines stay whole, so that paths and messages can be grepped
console = Console(width=output_width(), soft_wrap=not sys.stdout.isatty())
errors = Console(stderr=True)

PROGRESS_SECONDS_ENV = "ACTIVELABEL_PROGRESS_SECONDS"
"""Seconds between plain progress lines when the output is not a terminal (default 30)."""


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``2 h 10 min``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _plain_every() -> float:
    try:
        return max(0.0, float(os.environ.get(PROGRESS_SECONDS_ENV, "30")))
    except ValueError:
        return 30.0


class PlainProgress:
    """Progress of one phase as plain lines for a log file, CI or nohup: a line at most every
    ``every`` seconds with the count, the share done, the time spent and the time left, and a
    last line when the phase is complete."""

    def __init__(
        self,
        description: str,
        total: int,
        every: float | None = None,
        write: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.description, self.total, self.done = description, total, 0
        self.every = _plain_every() if every is None else every
        self.write = write or (lambda line: console.print(line, markup=False, highlight=False))
        self.clock = clock
        self.started = self.last = clock()
        self.detail = ""

    def describe(self, detail: str) -> None:
        """Text shown after the counts, e.g. the latest result."""
        self.detail = detail

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        finished = self.total and self.done >= self.total
        if finished or now - self.last >= self.every:
            self.last = now
            self.write(self.line(now))

    def line(self, now: float) -> str:
        elapsed = now - self.started
        detail = f" — {self.detail}" if self.detail else ""
        if self.total and self.done >= self.total:
            return (
                f"{self.description}: {self.done}/{self.total} done in {duration(elapsed)}{detail}"
            )
        share = f" ({100 * self.done / self.total:.0f} %)" if self.total else ""
        eta = ""
        if self.total and self.done:
            eta = f", about {duration(elapsed / self.done * (self.total - self.done))} left"
        return (
            f"{self.description}: {self.done}/{self.total}{share}, "
            f"{duration(elapsed)} elapsed{eta}{detail}"
        )


@contextmanager
def phases(plain: bool | None = None) -> Iterator[Phase]:
    """A ``phase(description, total) -> advance(n)`` factory: one bar per phase on a terminal,
    plain progress lines otherwise (or when ``plain`` is true)."""
    if plain or (plain is None and not console.is_terminal):

        def plain_phase(description: str, total: int) -> Callable[[int], None]:
            return PlainProgress(description, total).advance

        yield plain_phase
        return
    with _bars() as progress:

        def phase(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        yield phase


class _BarTask:
    def __init__(self, progress: Progress, description: str, total: int):
        self.progress, self.description = progress, description
        self.task = progress.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)

    def describe(self, detail: str) -> None:
        self.progress.update(self.task, description=f"{self.description} {detail}")


@contextmanager
def task(description: str, total: int) -> Iterator[PlainProgress | _BarTask]:
    """One long task with ``advance(n)`` and ``describe(detail)``: a bar on a terminal, plain
    progress lines otherwise."""
    if not console.is_terminal:
        yield PlainProgress(description, total)
        return
    with _bars() as progress:
        yield _BarTask(progress, description, total)


def _bars() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"

"""Running the ``activelabel`` command in-process, and adjusting a workspace's settings."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from activelabel.cli.app import cli
from activelabel.cli.commands import *  # noqa: F403  (registers the sub-commands)
from activelabel.testing import configure  # noqa: F401  (the tests import it from here)


def run(*args: object, catch_exceptions: bool = False) -> Result:
    """``activelabel ARGS`` in this process; exit code and output on the result."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=catch_exceptions)


def init_workspace(path: Path, corpus: Path, model: str, *options: object) -> Path:
    """``activelabel init`` on a test corpus with a 15-headline test set and the given model."""
    result = run("init", path, "--corpus", corpus, "--model", model, "--test-size", 15, *options)
    assert result.exit_code == 0, result.output
    return path

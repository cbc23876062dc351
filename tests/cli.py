"""Running the ``activelabel`` command in-process, and adjusting a workspace's settings."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from activelabel.cli.app import cli
from activelabel.cli.commands import *  # noqa: F403  (registers the sub-commands)
from activelabel.config import load_config, save_config


def run(*args: object, catch_exceptions: bool = False) -> Result:
    """``activelabel ARGS`` in this process; exit code and output on the result."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=catch_exceptions)


def configure(workspace: Path, **sections: dict) -> None:
    """Change settings of ``activelabel.toml``, e.g. ``configure(ws, model={"epochs": 1})``."""
    config = load_config(workspace)
    for section, values in sections.items():
        for key, value in values.items():
            setattr(getattr(config, section), key, value)
    save_config(workspace, config)


def init_workspace(path: Path, corpus: Path, model: str, *options: object) -> Path:
    """``activelabel init`` on a test corpus with a 15-headline test set and the given model."""
    result = run("init", path, "--corpus", corpus, "--model", model, "--test-size", 15, *options)
    assert result.exit_code == 0, result.output
    return path

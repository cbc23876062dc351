"""What the terminal shows: tables that fit the width they are given, hints where a table is
empty, settings stored as typed."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from tests.cli import init_workspace, run

TABLE = tuple("┏┃┡│└")


def table_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(TABLE)]


def status_output(path, columns: int) -> str:
    """``activelabel status`` piped (not a terminal), with ``COLUMNS`` set."""
    env = {**os.environ, "COLUMNS": str(columns)}
    result = subprocess.run(
        [sys.executable, "-m", "activelabel", "status", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    options = ("--id-column", "id", "--batch-size", 10, "--mode", "frozen")
    init_workspace(path, small_corpus, tiny_model, *options, "--strategy", "hunt(margin)")
    return path


def test_a_count_given_as_test_size_is_stored_as_an_integer(workspace):
    stored = tomllib.loads((workspace / "activelabel.toml").read_text())
    assert stored["corpus"]["test_size"] == 15 and isinstance(stored["corpus"]["test_size"], int)


def test_an_empty_status_says_what_to_run_and_where_simulations_are(workspace):
    before = " ".join(run("status", workspace).output.split())
    assert f"No rounds yet: run 'activelabel round {workspace}'" in before
    assert "Simulation results" not in before
    simulated = run(
        "simulate", workspace, "--strategies", "margin", "--seeds", 1, "--sizes", "6,12"
    )
    assert simulated.exit_code == 0, simulated.output
    after = " ".join(run("status", workspace).output.split())
    assert "Simulation results (margin, random) are not rounds" in after
    assert f"'activelabel report {workspace}'" in after


@pytest.mark.slow
def test_status_fits_columns_and_never_breaks_a_word(workspace):
    assert run("round", workspace, "--rounds", "2").exit_code == 0
    narrow = status_output(workspace, 80)
    assert table_lines(narrow) and max(len(line) for line in table_lines(narrow)) <= 80
    assert "round 1: eval loss" in narrow and "strategy hunt(margin)" in narrow
    assert "hunt(ma" not in narrow.replace("hunt(margin)", "")  # never split inside a word
    wide = status_output(workspace, 220)
    assert max(len(line) for line in table_lines(wide)) <= 220
    assert "trained on" in table_lines(wide)[1]
    assert "round 1: eval loss" not in wide  # everything fits in the table
    assert "hunt(margin)" in wide

"""Progress when the output is not a terminal (a log file, CI, nohup): plain lines with counts,
time spent and time left, instead of silence until the end; and where the simulation's report
is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from activelabel.cli.ui import PROGRESS_SECONDS_ENV, PlainProgress, duration
from tests.cli import init_workspace
from tests.test_bad_input import fast

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_prints_every_interval_with_eta():
    clock, lines = Clock(), []
    progress = PlainProgress("score pool", 1000, every=10, write=lines.append, clock=clock)
    for _ in range(9):
        clock.now += 2
        progress.advance(100)  # 100 every 2 s
    assert lines == [
        "score pool: 500/1000 (50 %), 10 s elapsed, about 10 s left",
    ]
    clock.now += 2
    progress.describe("margin s0")
    progress.advance(100)
    assert lines[-1] == "score pool: 1000/1000 done in 20 s — margin s0"


def test_duration_reads_like_a_person_would_write_it():
    assert [duration(s) for s in (4.4, 61, 3725)] == ["4 s", "1 min 1 s", "1 h 2 min"]


@pytest.mark.slow
def test_round_and_simulate_log_progress_lines(tmp_path, tiny_model, small_corpus):
    workspace = init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--batch-size", "10")
    fast(workspace)
    log = tmp_path / "round.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), PROGRESS_SECONDS_ENV: "0"}
    command = [sys.executable, "-m", "activelabel"]
    with log.open("w") as out:  # stdout is a file, as under nohup or in CI
        subprocess.run(
            [*command, "round", str(workspace), "--rounds", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            check=True,
            timeout=600,
        )
        simulate = [*command, "simulate", str(workspace), "--strategies", "margin"]
        simulate += ["--seeds", "1", "--initial", "10", "--step", "10", "--budget", "30"]
        simulate += ["--mode", "frozen"]
        for extra in ([], ["--report"]):  # the second run finds every point stored
            subprocess.run(
                simulate + extra,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                check=True,
                timeout=600,
            )
    text = log.read_text()
    assert "score pool: 75/75 done in" in text  # round 0 scores the whole pool
    assert "train on 10 labels:" in text and "evaluate: 15/15 done in" in text
    assert "simulate: 1/6 (17 %)" in text and "left" in text
    assert "simulate: 6/6 done in" in text
    assert "\x1b[" not in text  # no terminal control codes in a log
    report = workspace / "report" / "index.html"
    assert f"Next: activelabel report {workspace} (writes {report})" in text
    assert f"Report: {report}" in text and report.is_file()

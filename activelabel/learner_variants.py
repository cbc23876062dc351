"""Learner variants of a simulated curve: the workspace's learner, or the plain model.

A curve is a strategy trained with one learner. The *default* learner is the workspace's
``[model]`` as configured; the *plain* learner is the same mode without topic descriptions and
without pseudo-labels (a class-weighted head on the labels alone, as before the learner had
priors). Random picks with both learners separate the model's gain from the selection's.
A curve of the plain learner is stored under the strategy's name plus ``PLAIN_SUFFIX``.
"""

from __future__ import annotations

LEARNERS = ("default", "plain")
PLAIN_SUFFIX = " (plain model)"
PLAIN_SETTINGS = {
    "topic_weight": 0.0,
    "pseudo_labels": "none",
    "teacher_pseudo_labels": 0,
    "prior": "none",
}


def run_name(strategy: str, learner: str = "default") -> str:
    """The stored name of a curve: the strategy's, with ``PLAIN_SUFFIX`` for the plain model."""
    return strategy + PLAIN_SUFFIX if learner == "plain" else strategy


def parse_run(run: str) -> tuple[str, str]:
    """(strategy, learner) of a stored curve name."""
    if run.endswith(PLAIN_SUFFIX):
        return run[: -len(PLAIN_SUFFIX)], "plain"
    return run, "default"

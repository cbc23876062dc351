"""Calibrated confidences: the error measure, the temperature fit, and a round that uses them."""

from __future__ import annotations

import numpy as np
import pytest

from activelabel.model.base import softmax
from activelabel.model.calibration import (
    expected_calibration_error,
    fit_calibration,
    fit_temperature,
    scaled,
)
from activelabel.workspace import Workspace
from tests.cli import init_workspace, run


def sampled(temperature_seen: float, n: int = 4000, seed: int = 0):
    """Classes drawn from softmax(z); the model reports softmax(z * temperature_seen)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2.0, size=(n, 5))
    true = softmax(z)
    y = np.array([rng.choice(5, p=row) for row in true])
    return softmax(z * temperature_seen), true, y


def test_ece_is_small_for_calibrated_and_large_for_overconfident_probabilities():
    _, true, y = sampled(1.0)
    overconfident, _, _ = sampled(4.0)
    assert expected_calibration_error(true, y) < 0.03
    assert expected_calibration_error(overconfident, y) > 0.1
    assert expected_calibration_error(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 0.0


@pytest.mark.parametrize("sharpened", [0.3, 3.0])
def test_temperature_undoes_over_and_under_confidence(sharpened):
    p, _, y = sampled(sharpened)
    temperature = fit_temperature(p, y)
    assert temperature == pytest.approx(sharpened, rel=0.15)
    fixed = scaled(p, temperature)
    assert (fixed.argmax(axis=1) == p.argmax(axis=1)).all()  # the guess never changes
    assert np.allclose(fixed.sum(axis=1), 1.0)
    assert expected_calibration_error(fixed, y) < expected_calibration_error(p, y) / 2


def test_too_few_labels_give_no_temperature(tiny_model):
    from activelabel.model import ModelSettings, make_classifier

    classifier = make_classifier("frozen", 2, ModelSettings(model_path=tiny_model), 0, ())
    texts = [f"headline {i}" for i in range(10)]
    assert fit_calibration(classifier, texts, np.array([0, 1] * 5)) is None


@pytest.mark.slow
def test_a_frozen_round_shows_calibrated_confidence(tmp_path, small_corpus, tiny_model):
    path = tmp_path / "ws"
    init_workspace(
        path,
        small_corpus,
        tiny_model,
        "--id-column",
        "id",
        "--batch-size",
        25,
        "--mode",
        "frozen",
        "--cold-start",
        "random",
    )
    assert run("round", path, "--rounds", "2").exit_code == 0
    ws = Workspace.open(path)
    record = ws.store.rounds()[1]
    calibration = record.training["calibration"]
    assert calibration["folds"] == 5 and 0.05 <= calibration["temperature"] <= 20
    assert {"ece_before", "ece_after"} <= set(calibration)
    shown = [s.confidence for s in ws.store.selections(round=1) if s.confidence is not None]
    assert shown and all(0 < c <= 1 for c in shown)

"""The report splits the gain over plain random labels into the model's and the selection's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from activelabel.report import summary as S
from activelabel.report import write_report
from tests.report.test_report import CLASSES, CORPUS, make_points

PLAIN = "random (plain model)"


def with_plain(points):
    """Random's curves again as the plain model's, 10 points lower at every step."""
    plain = [
        replace(
            p,
            run=PLAIN,
            evaluation=replace(p.evaluation, accuracy=p.evaluation.accuracy - 0.1),
        )
        for p in points
        if p.run == "random"
    ]
    return points + plain


@pytest.fixture(scope="module")
def points():
    return with_plain(make_points())


def test_gain_split_from_the_curves(points):
    (ms,) = S.summarise(points, rare_class=None)
    split = S.gain_split(points, ms)
    assert split is not None
    assert split.best == "margin"  # the highest AUC of the active runs
    assert split.model_auc == pytest.approx(0.1)
    auc = {r.run: r.auc.mean for r in ms.runs}
    assert split.selection_auc == pytest.approx(auc["margin"] - auc["random"])
    assert split.selection_auc > 0.1
    # plain final 0.70 -> target 0.665: plain reaches it at 100 labels, random 80, margin 40
    assert split.target == pytest.approx(0.665)
    assert split.labels == {PLAIN: 100, "random": 80, "margin": 40}


def test_no_split_without_the_plain_curve_or_an_active_one():
    plain_only = with_plain(make_points(runs=("random",)))
    for points in (make_points(), plain_only):
        (ms,) = S.summarise(points, rare_class=None)
        assert S.gain_split(points, ms) is None


def test_the_report_says_which_part_is_the_model_and_which_the_picks(points, tmp_path):
    index = write_report(tmp_path, points, CLASSES, title="gains", corpus_counts=CORPUS)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    for text in (summary, index.read_text(encoding="utf-8")):
        assert "Where the gain comes from" in text
        assert "the model gives +10.0" in text
        assert (
            "100 with the plain model, 80 with random labels and the learner, 40 with margin"
            in (text)
        )
    assert f"| {PLAIN} |" in summary


def test_a_report_without_the_plain_curve_has_no_split(tmp_path):
    write_report(tmp_path, make_points(), CLASSES, title="no split", corpus_counts=CORPUS)
    assert "Where the gain comes from" not in (tmp_path / "summary.md").read_text()

"""What a reader of the summary needs: accuracy at fixed label counts, a rarest topic only when
the corpus has one, the first labels spread out, and rare-topic recall as a figure."""

from __future__ import annotations

import pytest

from activelabel.report import summary as S
from activelabel.report import write_report
from tests.report.test_report import CLASSES, CORPUS, GRIDS, K, make_points

BALANCED = [50, 48, 52, 47, 51]


@pytest.fixture(scope="module")
def points():
    return make_points()


def test_accuracy_at_a_label_count_is_interpolated_per_seed(points):
    # random: 40 labels -> 0.5, 60 -> 0.6 (seed means); 50 lies half-way
    at50 = S.accuracy_at(points, "random", "frozen", 50)
    assert at50.mean == pytest.approx(0.55) and at50.n == 3
    assert at50.sd == pytest.approx(0.05)
    assert S.accuracy_at(points, "random", "frozen", 100).mean == pytest.approx(0.8)
    # outside a curve's range there is no value, never the last step's value repeated
    assert S.accuracy_at(points, "random", "frozen", 500) is None
    assert S.accuracy_at(points, "entropy", "frozen", 10) is None
    (summary,) = S.summarise(points, rare_class=None, budgets=(50, 500))
    assert summary.get("margin").accuracy_at[50].mean == pytest.approx(0.74)
    assert summary.get("margin").accuracy_at[500] is None


def test_rarest_topic_only_when_the_corpus_has_one(points):
    assert S.pick_rare_class(points, CORPUS) == 4
    assert S.pick_rare_class(points, BALANCED) is None
    assert S.pick_rare_class(points, BALANCED, rare_class=3) == 3
    assert S.pick_rare_class(points) is None  # 6 test headlines of every topic


def test_balanced_report_has_no_rare_topic_columns(tmp_path, points):
    index = write_report(
        tmp_path, points, CLASSES, title="balanced", corpus_counts=BALANCED, budgets=(50, 100)
    )
    md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "rare-topic recall" not in md and "no topic is rare in this corpus" in md
    assert "| accuracy @50 | accuracy @100 |" in md
    assert not (tmp_path / "rare_frozen.png").exists()
    assert "rarest topic followed" not in index.read_text(encoding="utf-8")


def test_rare_corpus_report_has_recall_figure_and_log_curves(tmp_path, points):
    index = write_report(
        tmp_path, points, CLASSES, title="rare", corpus_counts=CORPUS, budgets=(50, 100)
    )
    html = index.read_text(encoding="utf-8")
    for png in ("rare_frozen.png", "curves_frozen_log.png", "curves_frozen.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="{png}"' in html
    assert "Rare-topic recall" in html and "religion" in html
    assert "rare-topic recall @50" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_recall_curve_follows_the_hits(points):
    c = S.recall_curve(points, "random", "frozen", 4)
    # religion correct = min(6, step + seed) of 6, seeds 0..2
    assert list(c.n_labels) == GRIDS["random"]
    assert c.mean[0] == pytest.approx(1 / 6) and c.mean[-1] == pytest.approx((5 + 6 + 6) / 18)
    assert len(c.n_labels) == len(GRIDS["random"]) and K == 5


def test_narrow_label_range_has_no_log_figure(tmp_path):
    points = [p for p in make_points() if p.n_labels >= 20]  # 20..120: under 10x
    write_report(tmp_path, points, CLASSES, title="narrow", corpus_counts=CORPUS)
    assert not (tmp_path / "curves_frozen_log.png").exists()

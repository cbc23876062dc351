"""Report numbers against hand-computed values, and the files write_report produces."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from activelabel.errors import ReportError
from activelabel.evaluation import CurvePoint, Evaluation
from activelabel.report import summary as S
from activelabel.report import write_report
from activelabel.report.page import hits_html, hits_markdown

CLASSES = ["politics", "sport", "economy, business and finance", "health", "religion"]
CORPUS = [100, 80, 60, 40, 10]  # religion (4) is the rarest topic
K = len(CLASSES)
TEST_PER_CLASS = 6

# seed-mean accuracy per step; the three seeds are the mean -0.05, +0, +0.05
GRIDS = {
    "random": [10, 20, 40, 60, 80, 100],
    "margin": [10, 20, 40, 60, 80, 100],
    "entropy": [20, 40, 60, 80, 100, 120],
}
ACCURACY = {
    "random": [0.2, 0.4, 0.5, 0.6, 0.7, 0.8],
    "margin": [0.3, 0.6, 0.7, 0.78, 0.8, 0.85],
    "entropy": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
}
OFFSETS = (-0.05, 0.0, 0.05)


def make_evaluation(step: int, seed: int, accuracy: float) -> Evaluation:
    """Per-class hits: politics 6/6, sport ``step``/6, economy and health 3/6,
    religion min(6, step + seed)/6; misses go to the next class."""
    correct = [6, step, 3, 3, min(6, step + seed)]
    confusion = np.zeros((K, K), dtype=int)
    for c in range(K):
        confusion[c, c] = correct[c]
        confusion[c, (c + 1) % K] += TEST_PER_CLASS - correct[c]
    return Evaluation(
        accuracy=accuracy,
        macro_f1=accuracy - 0.02,
        eval_loss=1.0 - accuracy,
        per_class_correct=correct,
        per_class_total=[TEST_PER_CLASS] * K,
        confusion=confusion.tolist(),
    )


def make_points(runs=("random", "margin", "entropy"), mode: str = "frozen") -> list[CurvePoint]:
    points = []
    for run in runs:
        for seed, offset in enumerate(OFFSETS):
            for step, (n, acc) in enumerate(zip(GRIDS[run], ACCURACY[run], strict=True)):
                if run == "random":
                    share = np.asarray(CORPUS, dtype=float) / sum(CORPUS)
                else:
                    share = np.full(K, 1.0 / K)
                selected = np.floor(share * n).astype(int).tolist()
                points.append(
                    CurvePoint(
                        run=run,
                        seed=seed,
                        step=step,
                        n_labels=n,
                        mode=mode,
                        evaluation=make_evaluation(step, seed, acc + offset),
                        selected_counts=selected,
                    )
                )
    return points


@pytest.fixture(scope="module")
def points() -> list[CurvePoint]:
    return make_points()


@pytest.fixture(scope="module")
def frozen(points) -> S.ModeSummary:
    (summary,) = S.summarise(points, rare_class=4, budgets=(10, 50, 100))
    return summary


# ------------------------------------------------------------------ numbers


def test_normalised_auc_is_mean_over_the_range_with_interpolated_ends():
    assert S.normalised_auc([0, 10], [0.0, 1.0], 0, 10) == pytest.approx(0.5)
    assert S.normalised_auc([0, 10], [0.0, 1.0], 5, 10) == pytest.approx(0.75)
    # a step at 4: 0.2 over [2, 4], then linear 0.2 -> 0.6 over [4, 6]
    assert S.normalised_auc([0, 4, 6], [0.2, 0.2, 0.6], 2, 6) == pytest.approx(0.3)
    assert S.normalised_auc([0, 10], [0.0, 1.0], 5, 5) == pytest.approx(0.5)


def test_seed_mean_curve(points):
    c = S.curve(points, "random", "frozen")
    assert c.n_labels.tolist() == GRIDS["random"]
    np.testing.assert_allclose(c.mean, ACCURACY["random"])
    np.testing.assert_allclose(c.lo, np.array(ACCURACY["random"]) - 0.05)
    np.testing.assert_allclose(c.hi, np.array(ACCURACY["random"]) + 0.05)
    np.testing.assert_allclose(c.sd, 0.05)  # sample sd of (-0.05, 0, 0.05)


def test_auc_over_the_common_range(frozen):
    # random and margin cover 10-100, entropy 20-120: the common range is 20-100
    assert frozen.auc_range == (20.0, 100.0)
    # random is linear 0.4 -> 0.8 over 20-100
    assert frozen.get("random").auc.mean == pytest.approx(0.6)
    # margin: trapezoids of width 20 over 0.6, 0.7, 0.78, 0.8, 0.85
    expected = (0.65 + 0.74 + 0.79 + 0.825) * 20 / 80
    assert frozen.get("margin").auc.mean == pytest.approx(expected)
    assert frozen.get("entropy").auc.mean == pytest.approx(0.3)
    # seeds are parallel shifts of +-0.05, so per-seed AUCs are 0.55, 0.6, 0.65
    assert frozen.get("random").auc.sd == pytest.approx(0.05)


def test_labels_to_95_percent_of_random(frozen):
    assert frozen.baseline == "random"
    assert frozen.baseline_final == pytest.approx(0.8)
    assert frozen.target == pytest.approx(0.76)
    assert frozen.get("random").labels_to_target == 100
    assert frozen.get("random").label_ratio == pytest.approx(1.0)
    assert frozen.get("margin").labels_to_target == 60  # 0.78 >= 0.76, while 0.7 at 40 is not
    assert frozen.get("margin").label_ratio == pytest.approx(0.6)


def test_not_reached(frozen):
    entropy = frozen.get("entropy")
    assert entropy.labels_to_target is None
    assert entropy.label_ratio is None
    assert S.labels_to_reach([10, 20], [0.1, 0.2], 0.5) is None


def test_final_accuracy_and_macro_f1(frozen):
    margin = frozen.get("margin")
    assert margin.final_accuracy.mean == pytest.approx(0.85)
    assert margin.final_accuracy.sd == pytest.approx(0.05)
    assert margin.final_macro_f1.mean == pytest.approx(0.83)
    assert margin.final_n_labels == 100
    assert frozen.get("entropy").final_n_labels == 120


def test_rare_class_recall_at_budget(frozen):
    # budget 50 -> point at 40 labels = step 2; religion correct = 2 + seed -> 2/6, 3/6, 4/6
    at50 = frozen.get("random").rare_recall[50]
    assert at50.mean == pytest.approx(0.5)
    assert at50.sd == pytest.approx(1 / 6)
    assert at50.n == 3
    # budget 100 -> step 5: min(6, 5 + seed) -> 5/6, 6/6, 6/6
    assert frozen.get("margin").rare_recall[100].mean == pytest.approx((5 + 6 + 6) / 18)
    # entropy starts at 20 labels: nothing at or below 10
    assert frozen.get("entropy").rare_recall[10] is None
    assert frozen.get("random").rare_recall[10].mean == pytest.approx(1 / 6)  # 0/6, 1/6, 2/6


def test_pick_rare_class(points):
    assert S.pick_rare_class(points, CORPUS) == 4
    assert S.pick_rare_class(points, CORPUS, rare_class=1) == 1
    # no corpus counts: the smallest test total wins
    p = points[0]
    ev = p.evaluation
    smaller = Evaluation(
        ev.accuracy, ev.macro_f1, ev.eval_loss, ev.per_class_correct, [6, 6, 2, 6, 6], ev.confusion
    )
    assert S.pick_rare_class([CurvePoint(p.run, 0, 0, 10, "frozen", smaller)]) == 2


def test_without_random_run_comparisons_are_omitted():
    points = make_points(runs=("margin", "entropy"))
    (summary,) = S.summarise(points, rare_class=4)
    assert summary.baseline is None
    assert summary.target is None
    for run in summary.runs:
        assert run.labels_to_target is None
        assert run.label_ratio is None
        assert run.auc is not None
    assert summary.get("entropy").auc.mean == pytest.approx(0.3)


def test_hits_table_marks_satisfactory_and_unsatisfactory(points):
    table = S.hits_table(points, "random", "frozen")
    assert table.seed == 0
    assert table.n_labels == GRIDS["random"]
    assert table.cell(0, 0) == "6 / 6"
    assert table.status(0, 0) == "good"
    assert table.cell(1, 0) == "0 / 6"
    assert table.status(1, 0) == "bad"
    assert table.status(2, 0) == ""  # 3/6: neither
    assert table.status(1, 5) == "good"  # 5/6 is satisfactory too
    assert table.status(1, 4) == ""  # 4/6 is not
    html = hits_html(table, CLASSES)
    assert re.search(r'<td class="good">6 / 6 ✓</td>', html)
    assert re.search(r'<td class="bad">0 / 6 ✗</td>', html)
    md = hits_markdown(table, CLASSES)
    assert "6 / 6 ✓" in md and "0 / 6 ✗" in md
    mean = S.hits_table(points, "random", "frozen", seed=None)
    assert mean.cell(4, 2) == "3.0 / 6"  # religion at step 2: (2 + 3 + 4) / 3


def test_hits_table_thins_columns_keeping_first_and_last(points):
    table = S.hits_table(points, "random", "frozen", max_columns=3)
    assert table.n_labels[0] == 10 and table.n_labels[-1] == 100
    assert len(table.n_labels) == 3


# ------------------------------------------------------------------ files


@pytest.fixture(scope="module")
def report(points, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    two_modes = points + make_points(runs=("random", "margin"), mode="finetune")
    return write_report(
        out,
        two_modes,
        CLASSES,
        title="Synthetic <test> report",
        corpus_counts=CORPUS,
        chance=1 / K,
        notes=["corpus: synthetic", "seeds: 3"],
        budgets=(50, 100),
    )


def test_write_report_writes_page_summary_and_figures(report):
    out = report.parent
    assert report.name == "index.html"
    assert (out / "summary.md").is_file()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "curves_frozen.png" in pngs and "curves_finetune.png" in pngs
    assert "labels_frozen.png" in pngs
    assert sum(name.startswith("confusion_frozen_") for name in pngs) == 3
    assert sum(name.startswith("confusion_finetune_") for name in pngs) == 2
    for name in pngs:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_references_every_png_and_names_classes_and_modes(report):
    html = report.read_text(encoding="utf-8")
    for png in report.parent.glob("*.png"):
        assert f'src="{png.name}"' in html
    for name in CLASSES:
        assert name in html
    assert "frozen encoder + logistic head" in html
    assert "fine-tuned encoder" in html
    assert "Synthetic &lt;test&gt; report" in html  # escaped
    assert "corpus: synthetic" in html
    assert "20.0 %" in html  # the chance line
    assert "not reached" in html
    assert '<td class="good">6 / 6 ✓</td>' in html
    assert '<td class="bad">0 / 6 ✗</td>' in html


def test_summary_md_has_tables_and_figures(report):
    md = (report.parent / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("# Synthetic <test> report")
    assert "## Mode: frozen encoder + logistic head" in md
    assert "## Mode: fine-tuned encoder" in md
    assert "![learning curves" in md and "curves_frozen.png" in md
    assert "| margin | 3 | 100 |" in md
    assert "0.60×" in md  # margin needs 0.6 of random's labels
    assert "religion" in md


def test_write_report_without_random_and_without_corpus(tmp_path):
    index = write_report(tmp_path, make_points(runs=("margin",)), CLASSES, title="solo")
    html = index.read_text(encoding="utf-8")
    assert "comparisons against random are omitted" in html
    assert "labels to 95 %" not in html
    # no corpus counts: the label distribution still shows what the run selected
    assert (tmp_path / "labels_frozen.png").is_file()


def test_write_report_rejects_bad_input(tmp_path, points):
    with pytest.raises(ReportError, match="no learning-curve points"):
        write_report(tmp_path, [], CLASSES, title="empty")
    with pytest.raises(ReportError, match="class names"):
        write_report(tmp_path, points, CLASSES[:3], title="mismatch")
    with pytest.raises(ReportError, match="corpus_counts"):
        write_report(tmp_path, points, CLASSES, title="x", corpus_counts=[1, 2])


def test_rare_recall_is_not_carried_past_the_end_of_a_curve(points):
    # margin's curves end at 100 labels: at 110 it has no value (not its last one again)
    assert S.recall_at_budget(points, "margin", "frozen", 4, 110) is None
    at110 = S.recall_at_budget(points, "entropy", "frozen", 4, 110)  # entropy reaches 120
    assert at110.mean == pytest.approx((4 + 5 + 6) / 18)  # its point at 100 labels (step 4)
    (summary,) = S.summarise(points, rare_class=4, budgets=(100, 120))
    assert summary.get("random").rare_recall[120] is None
    assert summary.get("entropy").rare_recall[120] is not None


def test_one_seed_has_no_band_and_random_is_drawn_dashed(tmp_path, report):
    one_seed = [p for p in make_points() if p.seed == 0]
    html_text = write_report(tmp_path, one_seed, CLASSES, title="one seed").read_text()
    assert "One seed: lines show its values (no band)" in html_text
    assert "min to max" not in html_text
    assert "random is grey and dashed" in html_text
    assert "shaded bands span min to max over seeds" in report.read_text()  # three seeds


def test_a_new_report_removes_the_figures_of_the_last_one(tmp_path):
    points = make_points()
    first = [p for p in points if p.run == "margin" and p.seed == 0 and p.n_labels == 40]
    write_report(tmp_path, points, CLASSES, title="first", confusion_points=first)
    old = tmp_path / "confusion_frozen_margin_s0_n40.png"
    assert old.is_file()
    (tmp_path / "my-notes.png").write_bytes(b"not the report's")  # not shown by the report
    second = [p for p in points if p.run == "margin" and p.seed == 0 and p.n_labels == 60]
    index = write_report(tmp_path, points, CLASSES, title="second", confusion_points=second)
    assert not old.exists()
    assert (tmp_path / "confusion_frozen_margin_s0_n60.png").is_file()
    assert (tmp_path / "my-notes.png").is_file()
    shown = set(re.findall(r'<img src="([^"]+)"', index.read_text()))
    assert shown == {p.name for p in tmp_path.glob("*.png")} - {"my-notes.png"}


def test_difference_to_random_is_paired_by_seed_and_interpolated(points):
    # margin - random: the seeds' offsets cancel, so every seed has the same difference
    diff = S.difference_curve(points, "margin", "frozen")
    assert diff.n_labels.tolist() == GRIDS["margin"]
    expected = np.array(ACCURACY["margin"]) - np.array(ACCURACY["random"])
    assert np.allclose(diff.mean, expected) and np.allclose(diff.hi - diff.lo, 0.0)
    # entropy runs to 120 labels; random only to 100: no difference past random's end
    entropy = S.difference_curve(points, "entropy", "frozen")
    assert entropy.n_labels.tolist() == [20, 40, 60, 80, 100]
    assert np.isclose(entropy.mean[0], 0.1 - 0.4)


def test_accuracy_table_has_every_count_and_the_differences(points, report):
    counts, accuracy, difference = S.accuracy_table(points, "frozen")
    assert counts == [10, 20, 40, 60, 80, 100, 120]
    assert accuracy["random"][-1] is None and accuracy["entropy"][0] is None
    assert accuracy["margin"][1].mean == pytest.approx(0.6) and accuracy["margin"][1].n == 3
    assert difference["margin"][1].mean == pytest.approx(0.2)
    md = (report.parent / "summary.md").read_text()
    assert "Accuracy at every label count" in md
    assert "| 120 | — | — | 60.0 ± 5.0 % | — | — |" in md and "+20.0 ± 0.0" in md
    assert "Accuracy at every label count" in report.read_text()

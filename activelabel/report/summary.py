"""The numbers of a report, computed from learning-curve points. Pure numpy, no plotting.

Everything here works on one *mode* at a time ("frozen" or "finetune"): runs trained with a
frozen encoder and runs that fine-tune it are different experiments and are never averaged or
compared with each other.

Definitions (docs/report.md explains them for readers):

- a run's **seed-mean curve**: at every ``n_labels`` that some seed of the run reached, the mean
  (and sample sd, min, max) over the seeds that have a point there;
- **normalised area under the curve (AUC)**: the trapezoid area under the seed-mean accuracy
  curve over the label range that *all* runs of the mode cover, divided by that range, i.e. the
  mean accuracy over the common range (linear interpolation between points), so runs sampled on
  different x grids compare;
- **labels to 95 %**: the first ``n_labels`` at which a run's seed-mean accuracy reaches 95 % of
  the baseline's (``random``) final seed-mean accuracy; ``None`` means "not reached";
- **final** accuracy / macro-F1: each seed's point with the largest ``n_labels``, mean ± sd;
- **recall at a budget**: for each seed, the point with the largest ``n_labels`` <= budget;
  seeds whose curve ends below the budget are left out (no value is carried forward);
- **accuracy at a label count**: each seed's accuracy at exactly that many labels, interpolated
  linearly between its steps, for the seeds whose curve spans the count;
- the **rarest topic** is followed only when the corpus really has one: its count is at most
  ``RARE_SHARE`` of the median count of all topics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from activelabel.errors import ReportError
from activelabel.evaluation import CurvePoint
from activelabel.learner_variants import parse_run, run_name
from activelabel.model.names import mode_label

BASELINE = "random"
TARGET_FRACTION = 0.95
SATISFACTORY = 5 / 6  # the original study: 5 or 6 hits out of 6 test headlines = satisfactory
_EPS = 1e-9
RARE_SHARE = 0.5  # a topic is "rare" when it has at most half the median topic's examples

_MODE_ORDER = ("frozen", "finetune")


# --------------------------------------------------------------------------- small values


@dataclass(frozen=True)
class MeanSd:
    """A mean with its sample standard deviation over ``n`` seeds (sd is 0 for one seed)."""

    mean: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> MeanSd | None:
        array = np.asarray([v for v in values if v is not None and not np.isnan(v)], dtype=float)
        if array.size == 0:
            return None
        sd = float(array.std(ddof=1)) if array.size > 1 else 0.0
        return cls(float(array.mean()), sd, int(array.size))

    def format(self, percent: bool = True, digits: int = 1) -> str:
        scale, unit = (100.0, " %") if percent else (1.0, "")
        return f"{self.mean * scale:.{digits}f} ± {self.sd * scale:.{digits}f}{unit}"


def fmt_mean_sd(value: MeanSd | None, percent: bool = True, digits: int = 1) -> str:
    return "—" if value is None else value.format(percent=percent, digits=digits)


# --------------------------------------------------------------------------- grouping


def modes_of(points: Iterable[CurvePoint]) -> list[str]:
    """Modes present, known ones first ("frozen", "finetune"), then by first appearance."""
    seen: list[str] = []
    for p in points:
        if p.mode not in seen:
            seen.append(p.mode)
    known = [m for m in _MODE_ORDER if m in seen]
    return known + [m for m in seen if m not in known]


def runs_of(points: Iterable[CurvePoint], baseline: str = BASELINE) -> list[str]:
    """Run names, the baseline first, then in order of first appearance."""
    seen: list[str] = []
    for p in points:
        if p.run not in seen:
            seen.append(p.run)
    if baseline in seen:
        seen.remove(baseline)
        seen.insert(0, baseline)
    return seen


def select(points: Iterable[CurvePoint], *, run: str | None = None, mode: str | None = None):
    """The points of one run and/or mode, in input order."""
    return [p for p in points if (run is None or p.run == run) and (mode is None or p.mode == mode)]


def by_seed(points: Iterable[CurvePoint]) -> dict[int, list[CurvePoint]]:
    """Points per seed, each list sorted by ``n_labels`` with one point per ``n_labels``.

    When a seed has two points with the same ``n_labels`` the later step wins.
    """
    grouped: dict[int, dict[int, CurvePoint]] = {}
    for p in sorted(points, key=lambda q: (q.seed, q.n_labels, q.step)):
        grouped.setdefault(p.seed, {})[p.n_labels] = p
    return {seed: [pts[n] for n in sorted(pts)] for seed, pts in sorted(grouped.items())}


def metric_value(point: CurvePoint, metric: str) -> float:
    return float(getattr(point.evaluation, metric))


# --------------------------------------------------------------------------- curves


@dataclass(frozen=True)
class Curve:
    """A run's seed-mean curve of one metric, with the spread over seeds at every x."""

    run: str
    mode: str
    metric: str
    n_labels: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    lo: np.ndarray  # min over seeds
    hi: np.ndarray  # max over seeds
    n_seeds: np.ndarray  # seeds contributing at each x

    @property
    def final(self) -> float:
        return float(self.mean[-1])


def _curve_of(values: dict[int, list[float]], run: str, mode: str, metric: str) -> Curve:
    """The curve of per-label-count values over seeds: mean, sd, min, max and seed count."""
    xs = np.array(sorted(values), dtype=float)
    stats = [np.asarray(values[int(x)], dtype=float) for x in xs]
    return Curve(
        run=run,
        mode=mode,
        metric=metric,
        n_labels=xs,
        mean=np.array([v.mean() for v in stats]),
        sd=np.array([v.std(ddof=1) if v.size > 1 else 0.0 for v in stats]),
        lo=np.array([v.min() for v in stats]),
        hi=np.array([v.max() for v in stats]),
        n_seeds=np.array([v.size for v in stats]),
    )


def curve(points: Sequence[CurvePoint], run: str, mode: str, metric: str = "accuracy") -> Curve:
    """The seed-mean curve of ``metric`` ("accuracy", "macro_f1", "eval_loss") of a run."""
    seeds = by_seed(select(points, run=run, mode=mode))
    if not seeds:
        raise ReportError(f"no points for run {run!r} in mode {mode!r}")
    values: dict[int, list[float]] = {}
    for pts in seeds.values():
        for p in pts:
            values.setdefault(p.n_labels, []).append(metric_value(p, metric))
    return _curve_of(values, run, mode, metric)


def normalised_auc(x: Sequence[float], y: Sequence[float], lo: float, hi: float) -> float:
    """Mean of the piecewise-linear curve (x, y) over [lo, hi]: trapezoid area / (hi - lo).

    Outside the points the curve is held at its end values. ``lo == hi`` gives the value there.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size == 0:
        raise ReportError("empty curve")
    if hi < lo:
        raise ReportError(f"empty label range [{lo}, {hi}]")
    if hi == lo:
        return float(np.interp(lo, x, y))
    inside = x[(x > lo) & (x < hi)]
    grid = np.concatenate(([lo], inside, [hi]))
    values = np.interp(grid, x, y)
    area = float(np.sum((values[1:] + values[:-1]) / 2.0 * np.diff(grid)))
    return area / (hi - lo)


def common_range(curves: Sequence[Curve]) -> tuple[float, float] | None:
    """The label range every curve covers, or ``None`` when they do not overlap."""
    if not curves:
        return None
    lo = max(float(c.n_labels[0]) for c in curves)
    hi = min(float(c.n_labels[-1]) for c in curves)
    return (lo, hi) if lo <= hi else None


def labels_to_reach(x: Sequence[float], y: Sequence[float], target: float) -> int | None:
    """The first x (in increasing order) where y >= target, or ``None`` if never."""
    order = np.argsort(np.asarray(x, dtype=float), kind="stable")
    for i in order:
        if y[i] >= target - _EPS:
            return int(x[i])
    return None


def point_at_budget(seed_points: Sequence[CurvePoint], budget: int) -> CurvePoint | None:
    """The point with the largest ``n_labels`` <= ``budget`` (``None`` if all are above)."""
    eligible = [p for p in seed_points if p.n_labels <= budget]
    if not eligible:
        return None
    return max(eligible, key=lambda p: (p.n_labels, p.step))


def class_recall(point: CurvePoint, cls: int) -> float:
    total = point.evaluation.per_class_total[cls]
    return float("nan") if total == 0 else point.evaluation.per_class_correct[cls] / total


def recall_at_budget(
    points: Sequence[CurvePoint], run: str, mode: str, cls: int, budget: int
) -> MeanSd | None:
    """Recall of class ``cls`` at ``budget`` labels, mean ± sd over the run's seeds that reached
    ``budget`` (a seed that stopped below it has no value there, not its last one again)."""
    values = []
    for pts in by_seed(select(points, run=run, mode=mode)).values():
        if max(p.n_labels for p in pts) < budget:
            continue
        p = point_at_budget(pts, budget)
        if p is not None:
            values.append(class_recall(p, cls))
    return MeanSd.of(values)


def accuracy_at(points: Sequence[CurvePoint], run: str, mode: str, n: int) -> MeanSd | None:
    """Accuracy at ``n`` labels, mean ± sd over the seeds whose curve spans ``n``."""
    values = []
    for pts in by_seed(select(points, run=run, mode=mode)).values():
        x = [p.n_labels for p in pts]
        if x[0] <= n <= x[-1]:
            values.append(float(np.interp(n, x, [p.evaluation.accuracy for p in pts])))
    return MeanSd.of(values)


def difference_curve(
    points: Sequence[CurvePoint],
    run: str,
    mode: str,
    baseline: str = BASELINE,
    metric: str = "accuracy",
) -> Curve | None:
    """``run`` minus ``baseline``, seed by seed (same seed, same split), at ``run``'s label
    counts that the baseline's curve of that seed spans (the baseline interpolated between its
    points); None when no seed has both."""
    base = by_seed(select(points, run=baseline, mode=mode))
    values: dict[int, list[float]] = {}
    for seed, pts in by_seed(select(points, run=run, mode=mode)).items():
        ref = base.get(seed)
        if not ref:
            continue
        bx = [p.n_labels for p in ref]
        by = [metric_value(p, metric) for p in ref]
        for p in pts:
            if bx[0] <= p.n_labels <= bx[-1]:
                diff = metric_value(p, metric) - float(np.interp(p.n_labels, bx, by))
                values.setdefault(p.n_labels, []).append(diff)
    if not values:
        return None
    return _curve_of(values, run, mode, f"{metric} - {baseline}")


def accuracy_table(
    points: Sequence[CurvePoint], mode: str, baseline: str = BASELINE
) -> tuple[list[int], dict[str, list[MeanSd | None]], dict[str, list[MeanSd | None]]]:
    """Accuracy at every measured label count of ``mode``: the counts, per run the mean ± sd
    over the seeds measured there (None where none was), and per other run its seed-paired
    difference to ``baseline`` at those counts."""
    mode_points = select(points, mode=mode)
    counts = sorted({p.n_labels for p in mode_points})
    runs = runs_of(mode_points, baseline)
    accuracy: dict[str, list[MeanSd | None]] = {}
    difference: dict[str, list[MeanSd | None]] = {}
    for run in runs:
        at: dict[int, list[float]] = {}
        for pts in by_seed(select(mode_points, run=run)).values():
            for p in pts:
                at.setdefault(p.n_labels, []).append(p.evaluation.accuracy)
        accuracy[run] = [MeanSd.of(at.get(n, [])) for n in counts]
        if run == baseline:
            continue
        diff = difference_curve(mode_points, run, mode, baseline)
        by_n = {} if diff is None else {int(n): i for i, n in enumerate(diff.n_labels)}
        difference[run] = [
            MeanSd(float(diff.mean[by_n[n]]), float(diff.sd[by_n[n]]), int(diff.n_seeds[by_n[n]]))
            if diff is not None and n in by_n
            else None
            for n in counts
        ]
    return counts, accuracy, difference


def recall_curve(points: Sequence[CurvePoint], run: str, mode: str, cls: int) -> Curve | None:
    """The seed-mean test recall of class ``cls`` against labels (``None`` if the test set
    has no example of it)."""
    values: dict[int, list[float]] = {}
    for pts in by_seed(select(points, run=run, mode=mode)).values():
        for p in pts:
            recall = class_recall(p, cls)
            if not np.isnan(recall):
                values.setdefault(p.n_labels, []).append(recall)
    if not values:
        return None
    return _curve_of(values, run, mode, f"recall[{cls}]")


def final_points(points: Sequence[CurvePoint], run: str, mode: str) -> list[CurvePoint]:
    """Each seed's last point (largest ``n_labels``)."""
    return [pts[-1] for pts in by_seed(select(points, run=run, mode=mode)).values()]


def pick_rare_class(
    points: Sequence[CurvePoint],
    corpus_counts: Sequence[int] | None = None,
    rare_class: int | None = None,
) -> int | None:
    """The class a report follows as "rarest topic", or ``None`` when no topic is rare.

    ``rare_class`` when given; else the class with the smallest corpus count; else the one
    with the smallest test-set total (classes absent from the test set are skipped). That
    class counts as rare only with at most ``RARE_SHARE`` of the median count: on a balanced
    corpus the smallest topic is an arbitrary one.
    """
    if rare_class is not None:
        return int(rare_class)
    if corpus_counts is not None and len(corpus_counts) > 0:
        counts = np.asarray(corpus_counts, dtype=float)
    else:
        if not points:
            raise ReportError("no points to pick a rare class from")
        counts = np.asarray(points[0].evaluation.per_class_total, dtype=float)
        counts = np.where(counts > 0, counts, np.inf)
    rarest = int(np.argmin(counts))
    finite = counts[np.isfinite(counts)]
    if finite.size < 2 or counts[rarest] > RARE_SHARE * float(np.median(finite)):
        return None
    return rarest


# --------------------------------------------------------------------------- summary table


@dataclass(frozen=True)
class RunSummary:
    run: str
    mode: str
    n_seeds: int
    auc: MeanSd | None  # mean = AUC of the seed-mean curve; sd over per-seed AUCs
    labels_to_target: int | None  # None: not reached (or no baseline)
    label_ratio: float | None  # labels_to_target / baseline's labels_to_target
    final_accuracy: MeanSd | None
    final_macro_f1: MeanSd | None
    final_n_labels: int
    rare_recall: dict[int, MeanSd | None] = field(default_factory=dict)
    accuracy_at: dict[int, MeanSd | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ModeSummary:
    mode: str
    runs: list[RunSummary]
    baseline: str | None  # "random" when present in this mode
    baseline_final: float | None  # the baseline's final seed-mean accuracy
    target: float | None  # 95 % of baseline_final
    auc_range: tuple[float, float] | None
    rare_class: int | None  # None: no topic is rare in this corpus
    budgets: tuple[int, ...]

    @property
    def label(self) -> str:
        return mode_label(self.mode)

    def get(self, run: str) -> RunSummary:
        for r in self.runs:
            if r.run == run:
                return r
        raise ReportError(f"no curve named {run!r}")


def summarise_mode(
    points: Sequence[CurvePoint],
    mode: str,
    *,
    rare_class: int | None,
    budgets: Sequence[int] = (100, 200, 500),
    baseline: str = BASELINE,
) -> ModeSummary:
    """The summary table of one mode: every run against the baseline."""
    mode_points = select(points, mode=mode)
    runs = runs_of(mode_points, baseline)
    if not runs:
        raise ReportError(f"no points in mode {mode!r}")
    curves = {r: curve(mode_points, r, mode, "accuracy") for r in runs}
    rng = common_range(list(curves.values()))

    has_baseline = baseline in curves
    baseline_final = curves[baseline].final if has_baseline else None
    target = TARGET_FRACTION * baseline_final if baseline_final is not None else None
    baseline_labels = (
        labels_to_reach(curves[baseline].n_labels, curves[baseline].mean, target)
        if target is not None
        else None
    )

    rows = []
    for r in runs:
        c = curves[r]
        seeds = by_seed(select(mode_points, run=r))
        auc = None
        if rng is not None:
            seed_aucs = [
                normalised_auc(
                    [p.n_labels for p in pts], [p.evaluation.accuracy for p in pts], *rng
                )
                for pts in seeds.values()
            ]
            spread = MeanSd.of(seed_aucs)
            auc = MeanSd(normalised_auc(c.n_labels, c.mean, *rng), spread.sd, spread.n)
        reach = labels_to_reach(c.n_labels, c.mean, target) if target is not None else None
        ratio = reach / baseline_labels if reach is not None and baseline_labels else None
        finals = [pts[-1] for pts in seeds.values()]
        rows.append(
            RunSummary(
                run=r,
                mode=mode,
                n_seeds=len(seeds),
                auc=auc,
                labels_to_target=reach,
                label_ratio=ratio,
                final_accuracy=MeanSd.of(p.evaluation.accuracy for p in finals),
                final_macro_f1=MeanSd.of(p.evaluation.macro_f1 for p in finals),
                final_n_labels=int(c.n_labels[-1]),
                rare_recall={
                    int(b): recall_at_budget(mode_points, r, mode, rare_class, int(b))
                    for b in budgets
                }
                if rare_class is not None
                else {},
                accuracy_at={int(b): accuracy_at(mode_points, r, mode, int(b)) for b in budgets},
            )
        )
    return ModeSummary(
        mode=mode,
        runs=rows,
        baseline=baseline if has_baseline else None,
        baseline_final=baseline_final,
        target=target,
        auc_range=rng,
        rare_class=rare_class,
        budgets=tuple(int(b) for b in budgets),
    )


def summarise(
    points: Sequence[CurvePoint],
    *,
    rare_class: int | None,
    budgets: Sequence[int] = (100, 200, 500),
    baseline: str = BASELINE,
) -> list[ModeSummary]:
    """One :class:`ModeSummary` per mode present."""
    return [
        summarise_mode(points, m, rare_class=rare_class, budgets=budgets, baseline=baseline)
        for m in modes_of(points)
    ]


# --------------------------------------------------------------------------- gain split


@dataclass(frozen=True)
class GainSplit:
    """The best strategy's gain over random labels with the plain model, split into the
    model's part (random with the workspace's learner against random with the plain one) and
    the selection's (the best strategy against random, both with the workspace's learner).

    Gains are in AUC points (fractions of accuracy); ``labels`` are the labels each of the
    three curves needs to reach ``target`` (95 % of plain random's final accuracy).
    """

    plain: str
    best: str
    model_auc: float
    selection_auc: float
    target: float
    labels: dict[str, int | None]

    @property
    def total_auc(self) -> float:
        return self.model_auc + self.selection_auc


def gain_split(
    points: Sequence[CurvePoint], ms: ModeSummary, baseline: str = BASELINE
) -> GainSplit | None:
    """The split for one mode, or ``None`` unless it has random with both learners and another
    strategy with the workspace's learner (the one with the highest AUC is taken)."""
    plain = run_name(baseline, "plain")
    aucs = {r.run: r.auc.mean for r in ms.runs if r.auc is not None}
    active = [r for r in aucs if r != baseline and parse_run(r)[1] == "default"]
    if baseline not in aucs or plain not in aucs or not active:
        return None
    best = max(active, key=lambda r: aucs[r])
    mode_points = select(points, mode=ms.mode)
    plain_curve = curve(mode_points, plain, ms.mode)
    target = TARGET_FRACTION * plain_curve.final
    labels = {}
    for run in (plain, baseline, best):
        c = curve(mode_points, run, ms.mode)
        labels[run] = labels_to_reach(c.n_labels, c.mean, target)
    return GainSplit(
        plain=plain,
        best=best,
        model_auc=aucs[baseline] - aucs[plain],
        selection_auc=aucs[best] - aucs[baseline],
        target=target,
        labels=labels,
    )


# --------------------------------------------------------------------------- per-class hits


@dataclass(frozen=True)
class HitsTable:
    """Per-class test hits of one run along its steps: ``correct[c, j] / total[c, j]``.

    ``seed`` is the seed shown, or ``None`` for the mean over seeds (then cells are fractional).
    """

    run: str
    mode: str
    seed: int | None
    n_labels: list[int]
    correct: np.ndarray  # (n_classes, n_columns)
    total: np.ndarray

    def status(self, cls: int, column: int) -> str:
        return cell_status(self.correct[cls, column], self.total[cls, column])

    def cell(self, cls: int, column: int) -> str:
        c, t = self.correct[cls, column], self.total[cls, column]
        if self.seed is None:
            return f"{c:.1f} / {t:g}"
        return f"{int(c)} / {int(t)}"


def cell_status(correct: float, total: float) -> str:
    """``"good"`` when recall >= 5/6, ``"bad"`` when nothing was recognised, else ``""``."""
    if total <= 0:
        return ""
    if correct / total >= SATISFACTORY - _EPS:
        return "good"
    if correct <= _EPS:
        return "bad"
    return ""


def hits_table(
    points: Sequence[CurvePoint],
    run: str,
    mode: str,
    *,
    seed: int | None | str = "first",
    max_columns: int | None = 12,
) -> HitsTable:
    """The study-style table of hits per topic and label count.

    ``seed="first"`` shows the lowest seed (seed 0 when present) with integer counts,
    ``seed=None`` the mean over seeds at each ``n_labels``. With more than ``max_columns``
    steps, evenly spaced ones are shown, always including the first and the last.
    """
    seeds = by_seed(select(points, run=run, mode=mode))
    if not seeds:
        raise ReportError(f"no points for run {run!r} in mode {mode!r}")
    if seed == "first":
        seed = min(seeds)
    if seed is not None:
        if seed not in seeds:
            raise ReportError(f"run {run!r} has no seed {seed}")
        columns = {p.n_labels: [p] for p in seeds[seed]}
    else:
        columns = {}
        for pts in seeds.values():
            for p in pts:
                columns.setdefault(p.n_labels, []).append(p)
    xs = sorted(columns)
    if max_columns is not None and len(xs) > max_columns:
        keep = np.unique(np.round(np.linspace(0, len(xs) - 1, max_columns)).astype(int))
        xs = [xs[i] for i in keep]
    correct = np.array(
        [np.mean([p.evaluation.per_class_correct for p in columns[x]], axis=0) for x in xs]
    ).T
    total = np.array(
        [np.mean([p.evaluation.per_class_total for p in columns[x]], axis=0) for x in xs]
    ).T
    return HitsTable(run, mode, seed, xs, correct, total)


# --------------------------------------------------------------------------- label shares


def selected_share(points: Sequence[CurvePoint], run: str, mode: str) -> np.ndarray | None:
    """Share of labels per class selected by a run at its last step (mean over seeds)."""
    shares = []
    for p in final_points(points, run, mode):
        counts = np.asarray(p.selected_counts, dtype=float)
        if counts.size and counts.sum() > 0:
            shares.append(counts / counts.sum())
    if not shares:
        return None
    return np.mean(shares, axis=0)

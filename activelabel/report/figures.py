"""The report's figures. One function per figure; each writes a PNG and returns its path.

Figures are drawn on the Agg canvas directly (no pyplot), so building a report neither opens a
window nor touches matplotlib's global figure list.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from activelabel.evaluation import CurvePoint
from activelabel.report import summary as S

DPI = 120
BASELINE_COLOUR = "#8a8a8a"
# tab10 without its grey, which is kept for the random baseline
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)
CORPUS_COLOUR = "#3b3b3b"
BAND = "min–max over seeds"
_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
_CONFUSION_CMAP = LinearSegmentedColormap.from_list("al_blues", ["#ffffff", "#08306b"])


def run_colours(runs: Sequence[str], baseline: str = S.BASELINE) -> dict[str, str]:
    """A fixed colour per run (the baseline in neutral grey), used by every figure."""
    colours: dict[str, str] = {}
    i = 0
    for run in runs:
        if run in colours:
            continue
        if run == baseline:
            colours[run] = BASELINE_COLOUR
        else:
            colours[run] = PALETTE[i % len(PALETTE)]
            i += 1
    return colours


def short_name(name: str, width: int = 22) -> str:
    """A class name cut to ``width`` characters (with an ellipsis) for tick labels."""
    name = " ".join(name.split())
    return name if len(name) <= width else name[: width - 1].rstrip(" ,") + "…"


def wrap_name(name: str, width: int = 18, lines: int = 2) -> str:
    """A class name wrapped onto at most ``lines`` lines of ``width`` characters."""
    return textwrap.fill(name, width=width, max_lines=lines, placeholder="…")


def slug(text: str) -> str:
    """A file-name-safe form of a run or mode name."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return cleaned or "run"


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, facecolor="white")
    return path


def _styled(function):
    """Run a figure function with the report's rc style, leaving the global style untouched."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_STYLE):
            return function(*args, **kwargs)

    return wrapper


@_styled
def learning_curves(
    path: Path,
    points: Sequence[CurvePoint],
    mode: str,
    *,
    colours: dict[str, str],
    chance: float | None = None,
    target: float | None = None,
    baseline: str = S.BASELINE,
    log_x: bool = False,
) -> Path:
    """Accuracy, each run's accuracy difference to the baseline, and macro-F1 against labels.

    Lines are seed means; with several seeds a shaded band spans min to max over seeds (in the
    middle panel: of the seed-by-seed differences). The baseline is dashed with square markers
    and drawn on top; other runs get their own marker, so a run on top of another shows. The
    value axes fit the curves (not 0-100 %), so differences of a point or two are visible. A
    thin dashed black line marks chance accuracy (when it lies in view) and a dotted one the
    95 %-of-random target. ``log_x`` draws the label axis on a log scale (points at 0 labels are
    left out), which spreads out the first labels.
    """
    mode_points = S.select(points, mode=mode)
    runs = S.runs_of(mode_points, baseline)
    has_base = baseline in runs
    fig = _figure(17.0 if has_base else 11.5, 4.6)
    axes = list(fig.subplots(1, 3 if has_base else 2))
    panels = [("accuracy", "accuracy")]
    if has_base:
        panels.append(("difference", f"accuracy − {baseline} (points)"))
    panels.append(("macro_f1", "macro-F1"))
    n_seeds = 0
    for ax, (metric, label) in zip(axes, panels, strict=True):
        low, high = [], []
        for n, run in enumerate(runs):
            is_base = run == baseline
            if metric == "difference":
                if is_base:
                    continue
                c = S.difference_curve(mode_points, run, mode, baseline)
                if c is None:
                    continue
            else:
                c = S.curve(mode_points, run, mode, metric)
            n_seeds = max(n_seeds, int(c.n_seeds.max()))
            colour = colours.get(run, BASELINE_COLOUR)
            if c.n_seeds.max() > 1:
                ax.fill_between(c.n_labels, c.lo, c.hi, color=colour, alpha=0.15, linewidth=0)
            low.append(float(c.lo.min()))
            high.append(float(c.hi.max()))
            ax.plot(
                c.n_labels,
                c.mean,
                label=f"{run} (n={int(c.n_seeds.max())})",
                **_line(colour, is_base, n),
            )
        if metric == "difference":
            ax.axhline(0.0, color=BASELINE_COLOUR, linestyle="--", linewidth=1.4)
            ax.yaxis.set_major_formatter(
                lambda v, _pos: f"{100 * v:+.0f}" if round(100 * v) else "0"
            )
            ax.set_title(f"Difference to {baseline} (same seeds)")
            low.append(0.0)
            high.append(0.0)
        else:
            ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
            ax.set_title(label.capitalize() if metric == "accuracy" else "Macro-F1")
        if metric == "accuracy":
            if chance is not None and low and chance >= min(low) - 0.1:
                ax.axhline(
                    chance,
                    color="black",
                    linestyle="--",
                    linewidth=1,
                    alpha=0.7,
                    label=f"chance ({chance:.1%})",
                )
                low.append(chance)
            if target is not None:
                ax.axhline(
                    target,
                    color=BASELINE_COLOUR,
                    linestyle=":",
                    linewidth=1.4,
                    label=f"95 % of random's final ({target:.1%})",
                )
                low.append(target)
                high.append(target)
        ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))  # whole points
        if low and high:
            pad = max(0.01, 0.06 * (max(high) - min(low)))
            bottom, top = min(low) - pad, max(high) + pad
            if metric != "difference":
                bottom, top = max(0.0, bottom), min(1.02, top)
            ax.set_ylim(bottom, top)
        ax.set_xlabel("labels")
        ax.set_ylabel(label)
        right = max(float(p.n_labels) for p in mode_points)
        if log_x:
            _log_label_axis(ax, mode_points)
        else:
            ax.set_xlim(-0.02 * max(right, 1.0), right * 1.03 + 1)  # room for markers at 0
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
            ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside right center",
        title=f"run (n = seeds)\nline: mean over seeds\nband: {BAND}"
        if n_seeds > 1
        else "run (one seed)",
        title_fontsize=8,
        frameon=False,
    )
    axis = " (log label axis)" if log_x else ""
    fig.suptitle(f"Learning curves — {S.mode_label(mode)}{axis}", fontsize=12, fontweight="bold")
    return _save(fig, path)


def spans_decades(points: Sequence[CurvePoint], mode: str, factor: float = 10.0) -> bool:
    """True when the label counts of ``mode`` run from n to at least ``factor`` × n: then a
    linear axis squashes the first labels, where strategies differ most."""
    counts = [p.n_labels for p in S.select(points, mode=mode) if p.n_labels > 0]
    return bool(counts) and max(counts) >= factor * min(counts)


def _log_label_axis(ax, points: Sequence[CurvePoint]) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator

    counts = [p.n_labels for p in points if p.n_labels > 0]
    ax.set_xscale("log", nonpositive="mask")
    ax.set_xlim(min(counts) / 1.15, max(counts) * 1.15)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda _v, _pos: ""))


@_styled
def rare_recall(
    path: Path,
    points: Sequence[CurvePoint],
    mode: str,
    rare_class: int,
    class_name: str,
    *,
    colours: dict[str, str],
    baseline: str = S.BASELINE,
) -> Path | None:
    """Test recall of the rarest topic against labels, one line per run with its seed band;
    ``None`` when the test set has no example of that topic."""
    mode_points = S.select(points, mode=mode)
    curves = [
        c
        for run in S.runs_of(mode_points, baseline)
        if (c := S.recall_curve(mode_points, run, mode, rare_class)) is not None
    ]
    if not curves:
        return None
    fig = _figure(8.5, 4.2)
    ax = fig.subplots()
    n_seeds = max(int(c.n_seeds.max()) for c in curves)
    for n, c in enumerate(curves):
        colour = colours.get(c.run, BASELINE_COLOUR)
        is_base = c.run == baseline
        if n_seeds > 1:
            ax.fill_between(c.n_labels, c.lo, c.hi, color=colour, alpha=0.15, linewidth=0)
        ax.plot(
            c.n_labels,
            c.mean,
            label=f"{c.run} (n={int(c.n_seeds.max())})",
            **_line(colour, is_base, n),
        )
    if spans_decades(points, mode):
        _log_label_axis(ax, mode_points)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
    ax.set_xlabel("labels" + (" (log scale)" if spans_decades(points, mode) else ""))
    ax.set_ylabel("recall")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ax.set_title(f"Recall of the rarest topic: {short_name(class_name, 40)}")
    fig.legend(
        loc="outside right center",
        title=f"run (n = seeds)\nline: mean over seeds\nband: {BAND}"
        if n_seeds > 1
        else "run (one seed)",
        title_fontsize=8,
        frameon=False,
    )
    fig.suptitle(f"Rare-topic recall — {S.mode_label(mode)}", fontsize=12, fontweight="bold")
    return _save(fig, path)


@_styled
def confusion_matrix(
    path: Path,
    point: CurvePoint,
    class_names: Sequence[str],
    *,
    title: str | None = None,
    rare_class: int | None = None,
) -> Path:
    """Row-normalised confusion matrix of one point (true topic by row), counts in the cells."""
    matrix = np.asarray(point.evaluation.confusion, dtype=float)
    k = matrix.shape[0]
    totals = matrix.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, matrix / totals, 0.0)
    side = float(np.clip(0.42 * k + 3.2, 4.8, 11.5))
    fig = _figure(side + 1.0, side)
    ax = fig.subplots()
    image = ax.imshow(share, cmap=_CONFUSION_CMAP, vmin=0, vmax=1, aspect="equal")
    ax.grid(False)
    font = 9 if k <= 8 else 8 if k <= 12 else 7
    for i in range(k):
        for j in range(k):
            count = int(matrix[i, j])
            if count == 0 and i != j:
                continue
            ax.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=font,
                color="white" if share[i, j] > 0.55 else "#222222",
            )
    ticks = np.arange(k)
    ax.set_xticks(ticks, [short_name(n, 18) for n in class_names], rotation=40, ha="right")
    ax.set_yticks(ticks, [wrap_name(n, 22) for n in class_names])
    ax.tick_params(axis="both", labelsize=8 if k > 8 else 9, length=0)
    if rare_class is not None and 0 <= rare_class < k:
        for label in (ax.get_xticklabels()[rare_class], ax.get_yticklabels()[rare_class]):
            label.set_fontweight("bold")
    ax.set_xlabel("predicted topic")
    ax.set_ylabel("true topic")
    for spine in ax.spines.values():
        spine.set_visible(False)
    colourbar = fig.colorbar(image, ax=ax, shrink=0.7, pad=0.02)
    colourbar.set_label("share of the row (true topic)")
    colourbar.ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ev = point.evaluation
    heading = title or point.run
    ax.set_title(
        f"{heading}\n{S.mode_label(point.mode)} · {point.n_labels} labels · seed {point.seed} · "
        f"accuracy {ev.accuracy:.1%}",
        fontsize=10,
    )
    return _save(fig, path)


@_styled
def label_distribution(
    path: Path,
    points: Sequence[CurvePoint],
    class_names: Sequence[str],
    mode: str,
    *,
    colours: dict[str, str],
    corpus_counts: Sequence[int] | None = None,
    rare_class: int | None = None,
    baseline: str = S.BASELINE,
) -> Path | None:
    """Corpus share per topic against the share of labels each run selected (grouped bars).

    Returns ``None`` when no run recorded ``selected_counts`` and no corpus counts are given.
    """
    mode_points = S.select(points, mode=mode)
    series: list[tuple[str, np.ndarray, str]] = []
    if corpus_counts is not None and sum(corpus_counts) > 0:
        counts = np.asarray(corpus_counts, dtype=float)
        series.append(("corpus", counts / counts.sum(), CORPUS_COLOUR))
    for run in S.runs_of(mode_points, baseline):
        share = S.selected_share(mode_points, run, mode)
        if share is not None and len(share) == len(class_names):
            n = S.final_points(mode_points, run, mode)[0].n_labels
            series.append((f"{run} ({n} labels)", share, colours.get(run, BASELINE_COLOUR)))
    if not series:
        return None
    k = len(class_names)
    height = float(np.clip(0.085 * k * len(series) + 0.22 * k + 1.6, 3.4, 13.0))
    fig = _figure(9.5, height)
    ax = fig.subplots()
    group = 0.84
    bar = group / len(series)
    y = np.arange(k)
    for i, (label, share, colour) in enumerate(series):
        offset = -group / 2 + bar * (i + 0.5)
        is_corpus = label == "corpus"
        ax.barh(
            y + offset,
            share,
            height=bar * 0.92,
            color="white" if is_corpus else colour,
            edgecolor=colour,
            hatch="///" if is_corpus else None,
            linewidth=0.8,
            label=label,
        )
    ax.set_yticks(y, [wrap_name(n, 24) for n in class_names])
    ax.set_ylim(k - 0.5, -0.5)
    if rare_class is not None and 0 <= rare_class < k:
        ax.get_yticklabels()[rare_class].set_fontweight("bold")
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ax.set_xlabel("share of items")
    ax.grid(axis="y", visible=False)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(3, len(series)),
        frameon=False,
    )
    note = " (rarest topic in bold)" if rare_class is not None else ""
    fig.suptitle(
        f"Label distribution — {S.mode_label(mode)}\n"
        f"corpus vs labels selected by each run at its last step{note}",
        fontsize=11,
    )
    return _save(fig, path)


_MARKERS = ("o", "^", "D", "v", "P", "X", "<", ">", "h", "*")


def _line(colour, is_base: bool, n: int = 0) -> dict:
    """Plot style of a mean curve: the baseline dashed and on top, so a curve on it cannot
    hide it. Every other run (the ``n``-th, from 1) has its own marker, and each later run a
    wider line and larger, hollow markers drawn under the earlier ones: a run lying exactly on
    another shows as a thin line inside a wider one."""
    if is_base:
        return {
            "color": colour,
            "linewidth": 2.0,
            "linestyle": "--",
            "marker": "s",
            "markersize": 4.0,
            "zorder": 5,
        }
    step = max(n - 1, 0)
    return {
        "color": colour,
        "linewidth": 1.6 + 1.0 * min(step, 3),
        "linestyle": "-",
        "marker": _MARKERS[step % len(_MARKERS)],
        "markersize": 3.6 + 1.6 * min(step, 3),
        "markerfacecolor": colour if step == 0 else "white",
        "zorder": 4.9 - 0.1 * min(step, 9),
    }

"""The report page: ``index.html`` (figures + tables) and ``summary.md`` (the same tables).

:func:`write_report` is the entry point; it gathers one set of data that the templates
``templates/index.html.j2`` and ``templates/summary.md.j2`` both render. docs/report.md
explains how to read what it writes.
"""

from __future__ import annotations

import datetime as _dt
import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from activelabel.errors import ReportError
from activelabel.evaluation import CurvePoint
from activelabel.report import figures as F
from activelabel.report import summary as S
from activelabel.report.section import ReportSection

_MARKS = {"good": " ✓", "bad": " ✗"}


@functools.cache
def _env() -> jinja2.Environment:
    """The templates of the package; HTML ones are autoescaped, markdown ones are not."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("activelabel.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = _md
    env.filters["mark"] = lambda status: _MARKS.get(status, "")
    return env


def _md(text: object) -> str:
    """``text`` for a markdown table cell: on one line, ``|`` escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _labels(value: int | None, has_baseline: bool) -> str:
    if not has_baseline:
        return "—"
    return "not reached" if value is None else str(value)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


# --------------------------------------------------------------------------- tables as rows


def _summary_columns(ms: S.ModeSummary) -> list[str]:
    lo_hi = ms.auc_range
    auc_head = (
        f"AUC (mean accuracy, {lo_hi[0]:g}–{lo_hi[1]:g} labels)"
        if lo_hi
        else "AUC (no common range)"
    )
    columns = ["run", "seeds", "labels (last)", auc_head]
    if ms.baseline:
        columns += ["Δ AUC vs random", "labels to 95 %", "× random's labels"]
    columns += [f"accuracy @{b}" for b in ms.budgets]
    columns += ["final accuracy", "final macro-F1"]
    if ms.rare_class is not None:
        columns += [f"rare-topic recall @{b}" for b in ms.budgets]
    return columns


def _summary_rows(ms: S.ModeSummary) -> list[list[str]]:
    base_auc = ms.get(ms.baseline).auc if ms.baseline else None
    rows = []
    for r in ms.runs:
        row = [r.run, str(r.n_seeds), str(r.final_n_labels), S.fmt_mean_sd(r.auc)]
        if ms.baseline:
            delta = (
                f"{(r.auc.mean - base_auc.mean) * 100:+.1f} pt"
                if r.auc is not None and base_auc is not None and r.run != ms.baseline
                else "—"
            )
            row += [delta, _labels(r.labels_to_target, True), _ratio(r.label_ratio)]
        row += [S.fmt_mean_sd(r.accuracy_at.get(b)) for b in ms.budgets]
        row += [S.fmt_mean_sd(r.final_accuracy), S.fmt_mean_sd(r.final_macro_f1)]
        if ms.rare_class is not None:
            row += [S.fmt_mean_sd(r.rare_recall.get(b)) for b in ms.budgets]
        rows.append(row)
    return rows


def _summary_caption(ms: S.ModeSummary, class_names: Sequence[str]) -> str:
    parts = [f"Mode: {ms.label}. Values are mean ± sd over seeds."]
    if ms.auc_range:
        parts.append(
            "AUC = mean accuracy of the seed-mean curve over the label range every run covers "
            f"({ms.auc_range[0]:g}–{ms.auc_range[1]:g}), trapezoid rule; sd over per-seed areas."
        )
    if ms.baseline and ms.target is not None:
        parts.append(
            f"Labels to 95 % = first label count where the seed-mean accuracy reaches 95 % of "
            f"random's final accuracy ({_pct(ms.baseline_final)} → target {_pct(ms.target)}); "
            "× random's labels = that count divided by random's own."
        )
    else:
        parts.append("No run named “random” in this mode: comparisons against random are omitted.")
    parts.append(
        "Accuracy @N = each seed's test accuracy at N labels, interpolated between its steps "
        "(— where no seed's curve reaches N)."
    )
    if ms.rare_class is None:
        parts.append(
            "No topic is much rarer than the others (the smallest has more than half the "
            "median topic's examples), so no rare topic is followed."
        )
    else:
        rare = _class_name(class_names, ms.rare_class)
        parts.append(
            f"Rare-topic recall: test recall of “{rare}” at the largest label count ≤ each budget."
        )
    return " ".join(parts)


def _class_name(class_names: Sequence[str], cls: int) -> str:
    return class_names[cls] if 0 <= cls < len(class_names) else str(cls)


# --------------------------------------------------------------------------- data for the templates


@dataclass(frozen=True)
class Figure:
    """A PNG of the report, with its alt texts (HTML, markdown), caption and CSS class."""

    name: str
    alt: str
    md_alt: str
    caption: str
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A summary table: header, rows of formatted cells, caption and the baseline's name."""

    columns: list[str]
    rows: list[list[str]]
    caption: str
    baseline: str | None


@dataclass(frozen=True)
class Hits:
    """A run's per-class hits table and its caption."""

    run: str
    table: S.HitsTable
    caption: str


@dataclass(frozen=True)
class ModeView:
    """What the report shows of one mode, in page order."""

    label: str
    mode: str
    slug: str
    curves: list[Figure]
    rare: Figure | None
    summary: Table
    labels: Figure | None
    confusion: list[Figure]
    hits: list[Hits]
    gains: str | None = None  # the model's and the selection's part of the gain, in words
    accuracy: Table | None = None  # accuracy at every measured label count


def hits_html(table: S.HitsTable, class_names: Sequence[str]) -> str:
    """The per-class hits table as HTML: ✓ green when recall >= 5/6, ✗ red at 0 hits."""
    return str(_env().get_template("macros.html.j2").module.hits(table, class_names))


def hits_markdown(table: S.HitsTable, class_names: Sequence[str]) -> str:
    """The per-class hits table as markdown, ✓ for satisfactory and ✗ for zero hits."""
    return str(_env().get_template("macros.md.j2").module.hits(table, class_names))


def _hits_caption(table: S.HitsTable) -> str:
    who = "mean over seeds" if table.seed is None else f"seed {table.seed}"
    return (
        f"Test hits per topic (correct / total) of “{table.run}”, {who}, "
        f"{S.mode_label(table.mode)}; columns are label counts. "
        "✓ = satisfactory (recall ≥ 5/6, the original study's “5 or 6 out of 6”), "
        "✗ = no hit at all."
    )


# --------------------------------------------------------------------------- write_report


def _seeds(points: Sequence[CurvePoint], mode: str) -> int:
    return len({p.seed for p in points if p.mode == mode})


def _figures(page: str) -> set[str]:
    """The PNG names the report page just rendered shows."""
    names = {html.unescape(n) for n in re.findall(r'<img src="([^"/\\]+\.png)"', page)}
    return {n for n in names if _own_name(n)}


def _default_confusion_points(points: Sequence[CurvePoint], mode: str) -> list[CurvePoint]:
    """Each run's last step of seed 0 (or its lowest seed) in ``mode``."""
    chosen = []
    mode_points = S.select(points, mode=mode)
    for run in S.runs_of(mode_points):
        seeds = S.by_seed(S.select(mode_points, run=run))
        seed = 0 if 0 in seeds else min(seeds)
        chosen.append(seeds[seed][-1])
    return chosen


@dataclass(frozen=True)
class _Input:
    """What every figure of a report is drawn from."""

    out_dir: Path
    points: list[CurvePoint]
    class_names: list[str]
    colours: dict[str, str]
    chance: float | None
    corpus_counts: list[int] | None
    rare: int | None


def _curves_caption(inp: _Input, ms: S.ModeSummary) -> str:
    return (
        f"{ms.label}: accuracy and macro-F1 on the test set against the number of labels"
        + (
            "; between them each run's accuracy minus random's, seed by seed on the same "
            "splits, in points (above 0: better than random). "
            if ms.baseline
            else ". "
        )
        + (
            "Lines are means over seeds, shaded bands span min to max over seeds; "
            if _seeds(inp.points, ms.mode) > 1
            else "One seed: lines show its values (no band); "
        )
        + ("random is grey and dashed" if ms.baseline else "no random baseline in this mode")
        + (
            f"; thin black dashed line: chance ({_pct(inp.chance)})"
            if inp.chance is not None
            else ""
        )
        + (
            f"; dotted line: 95 % of random's final accuracy ({_pct(ms.target)})"
            if ms.target
            else ""
        )
        + "."
    )


def _curve_figures(inp: _Input, ms: S.ModeSummary, slug: str) -> list[Figure]:
    """The learning curves, and the same on a log label axis when labels span decades."""
    kw = {"colours": inp.colours, "chance": inp.chance, "target": ms.target}
    png = F.learning_curves(inp.out_dir / f"curves_{slug}.png", inp.points, ms.mode, **kw)
    figs = [
        Figure(
            png.name, "learning curves", f"learning curves — {ms.label}", _curves_caption(inp, ms)
        )
    ]
    if F.spans_decades(inp.points, ms.mode):
        log_png = F.learning_curves(
            inp.out_dir / f"curves_{slug}_log.png", inp.points, ms.mode, log_x=True, **kw
        )
        caption = (
            f"{ms.label}: the same curves on a logarithmic label axis, which spreads out the "
            "first labels, where strategies differ most (points at 0 labels are left out)."
        )
        alt = "learning curves, log label axis"
        figs.append(Figure(log_png.name, alt, f"learning curves, log axis — {ms.label}", caption))
    return figs


def _rare_figure(inp: _Input, ms: S.ModeSummary, slug: str) -> Figure | None:
    """The rarest topic's recall against the labels (None without a rare topic)."""
    if inp.rare is None:
        return None
    name = inp.class_names[inp.rare]
    png = F.rare_recall(
        inp.out_dir / f"rare_{slug}.png", inp.points, ms.mode, inp.rare, name, colours=inp.colours
    )
    if png is None:
        return None
    caption = (
        f"{ms.label}: test recall of the rarest topic, “{name}”, against "
        "the number of labels. Lines are means over seeds, bands span min to max."
    )
    return Figure(
        png.name, "rare-topic recall", f"rare-topic recall — {ms.label}", caption, "narrow"
    )


def _labels_figure(inp: _Input, ms: S.ModeSummary, slug: str) -> Figure | None:
    """Each topic's share in the corpus and among each run's labels."""
    png = F.label_distribution(
        inp.out_dir / f"labels_{slug}.png",
        inp.points,
        inp.class_names,
        ms.mode,
        colours=inp.colours,
        corpus_counts=inp.corpus_counts,
        rare_class=inp.rare,
    )
    if png is None:
        return None
    corpus = bool(inp.corpus_counts)
    caption = (
        f"{ms.label}: share of each topic "
        + ("in the corpus (hatched) and " if corpus else "")
        + "among the labels each run had selected at its last step (mean over seeds). "
        + (
            "A strategy that finds rare topics has longer bars than the corpus on them."
            if corpus
            else "Corpus counts were not given, so the corpus bar is missing."
        )
    )
    md_alt = f"label distribution — {ms.label}"
    return Figure(png.name, "label distribution", md_alt, caption, "narrow")


def _confusion_figures(
    inp: _Input, ms: S.ModeSummary, slug: str, chosen: list[CurvePoint], used: set[str]
) -> list[Figure]:
    """A confusion matrix of each chosen point; ``used`` collects the PNG names taken."""
    figs = []
    for p in chosen:
        stem = f"confusion_{slug}_{F.slug(p.run)}_s{p.seed}_n{p.n_labels}"
        name, copy = f"{stem}.png", 1
        while name in used:  # runs like "a+b" and "a-b" share a slug
            copy += 1
            name = f"{stem}_{copy}.png"
        used.add(name)
        png = F.confusion_matrix(inp.out_dir / name, p, inp.class_names, rare_class=inp.rare)
        caption = (
            f"{p.run}, seed {p.seed}, {p.n_labels} labels ({ms.label}): rows are true "
            "topics, colour = share of the row, numbers = test counts."
        )
        css = "big" if len(inp.class_names) > 10 else ""
        alt = f"confusion matrix {p.run}"
        figs.append(Figure(png.name, alt, f"confusion matrix — {p.run}", caption, css))
    return figs


def _hits(points: Sequence[CurvePoint], mode: str) -> list[Hits]:
    """Every run's per-class hits table in ``mode``."""
    tables = [S.hits_table(points, run, mode) for run in S.runs_of(S.select(points, mode=mode))]
    return [Hits(t.run, t, _hits_caption(t)) for t in tables]


def _mode_view(
    inp: _Input, ms: S.ModeSummary, chosen: list[CurvePoint] | None, used: set[str]
) -> ModeView:
    """Draw one mode's figures and gather its tables and captions."""
    slug = F.slug(ms.mode)
    if chosen is None:
        chosen = _default_confusion_points(inp.points, ms.mode)
    else:
        chosen = [p for p in chosen if p.mode == ms.mode]
    summary = Table(
        _summary_columns(ms), _summary_rows(ms), _summary_caption(ms, inp.class_names), ms.baseline
    )
    return ModeView(
        label=ms.label,
        mode=ms.mode,
        slug=slug,
        curves=_curve_figures(inp, ms, slug),
        rare=_rare_figure(inp, ms, slug),
        summary=summary,
        labels=_labels_figure(inp, ms, slug),
        confusion=_confusion_figures(inp, ms, slug, chosen, used),
        hits=_hits(inp.points, ms.mode),
        gains=gains_text(S.gain_split(inp.points, ms), ms),
        accuracy=accuracy_table(inp.points, ms),
    )


def accuracy_table(points: Sequence[CurvePoint], ms: S.ModeSummary) -> Table:
    """Accuracy at every measured label count: one row per count, one column per run (mean ±
    sd over seeds), and each other run's seed-paired difference to random in points."""
    counts, accuracy, difference = S.accuracy_table(points, ms.mode)
    runs = list(accuracy)
    columns = ["labels", *runs, *(f"{run} − {S.BASELINE}" for run in difference)]
    rows = []
    for i, n in enumerate(counts):
        row = [f"{n:,}"]
        row += [S.fmt_mean_sd(accuracy[run][i]) for run in runs]
        for run in difference:
            d = difference[run][i]
            row.append(
                "—" if d is None else f"{round(100 * d.mean, 1) + 0.0:+.1f} ± {100 * d.sd:.1f}"
            )
        rows.append(row)
    seeds = max((v.n for values in accuracy.values() for v in values if v is not None), default=0)
    caption = (
        f"{ms.label}: test accuracy at every label count measured, mean ± sd over seeds "
        f"(up to {seeds}); the difference columns compare each run with {S.BASELINE} seed by "
        f"seed (same splits), in points (random interpolated between its own counts); "
        "— where a run has no measurement."
    )
    return Table(columns, rows, caption, None)


def gains_text(split: S.GainSplit | None, ms: S.ModeSummary) -> str | None:
    """The gain split in words (``None`` without one)."""
    if split is None:
        return None
    points = f"{100 * split.total_auc:+.1f}"
    parts = [
        f"Where the gain comes from: over random labels with the plain model, {split.best} "
        f"gains {points} AUC points; of these the model gives {100 * split.model_auc:+.1f} "
        f"(random with the learner against “{split.plain}”) and the selection "
        f"{100 * split.selection_auc:+.1f} ({split.best} against random, same learner)."
    ]
    if split.total_auc > 0:
        share = min(max(split.model_auc / split.total_auc, 0.0), 1.0)
        parts.append(f"The model's share is {100 * share:.0f} %.")
    last = max(r.final_n_labels for r in ms.runs)
    need = {r: (str(n) if n is not None else f"more than {last}") for r, n in split.labels.items()}
    parts.append(
        f"Labels to 95 % of plain random's final accuracy ({_pct(split.target)}): "
        f"{need[split.plain]} with the plain model, {need[S.BASELINE]} with random labels and the "
        f"learner, {need[split.best]} with {split.best}."
    )
    return " ".join(parts)


def _check(
    points: list[CurvePoint],
    k: int,
    corpus_counts: list[int] | None,
    rare_class: int | None,
) -> None:
    """Raise :class:`ReportError` on input the report cannot show."""
    if not points:
        raise ReportError("no learning-curve points to report: run a simulation or a round first")
    for p in points:
        if len(p.evaluation.per_class_total) != k:
            raise ReportError(
                f"point {p.run!r} seed {p.seed} step {p.step} has "
                f"{len(p.evaluation.per_class_total)} classes, but {k} class names were given"
            )
    if corpus_counts is not None and len(corpus_counts) != k:
        raise ReportError(f"corpus_counts has {len(corpus_counts)} entries for {k} classes")
    if rare_class is not None and not 0 <= rare_class < k:
        raise ReportError(f"rare_class {rare_class} is not a class index (0..{k - 1})")


def write_report(
    out_dir: Path,
    points: list[CurvePoint],
    class_names: list[str],
    *,
    title: str,
    corpus_counts: list[int] | None = None,
    chance: float | None = None,
    notes: Sequence[str] = (),
    budgets: tuple[int, ...] = (100, 200, 500),
    rare_class: int | None = None,
    confusion_points: Sequence[CurvePoint] | None = None,
    sections: Sequence[ReportSection] = (),
    overwrite: bool = False,
) -> Path:
    """Write the report (PNG figures, ``index.html``, ``summary.md``) into ``out_dir``.

    ``out_dir`` must be new, empty or an earlier report's folder (it holds :data:`MANIFEST`);
    ``overwrite`` allows another folder (files of the same names are replaced, others kept).
    Of an earlier report, only the files its manifest names that this one does not write are
    deleted.

    ``points`` are learning-curve points of one or more runs (the baseline is the run named
    "random"), seeds and modes. ``confusion_points`` picks the points shown as confusion
    matrices (default: every run's last step of seed 0 or its first seed); ``sections`` come
    after the curves (e.g. the label review). Returns the path
    of ``index.html``.
    """
    points = list(points)
    _check(points, len(class_names), corpus_counts, rare_class)
    out_dir = Path(out_dir)
    earlier = _claim(out_dir, overwrite)
    rare = S.pick_rare_class(points, corpus_counts, rare_class)
    colours = F.run_colours(S.runs_of(points))
    inp = _Input(out_dir, points, class_names, colours, chance, corpus_counts, rare)
    chosen = list(confusion_points) if confusion_points is not None else None
    used: set[str] = set()
    modes = [
        _mode_view(inp, ms, chosen, used)
        for ms in S.summarise(points, rare_class=rare, budgets=budgets)
    ]
    data = {
        "title": title,
        "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "notes": list(notes),
        "chance": _pct(chance) if chance is not None else None,
        "rare_name": class_names[rare] if rare is not None else None,
        "class_names": class_names,
        "colours": colours,
        "modes": modes,
        "sections": list(sections),
    }
    page = _env().get_template("index.html.j2").render(data)
    index = out_dir / "index.html"
    written = {"index.html", "summary.md"} | _figures(page)
    index.write_text(page, encoding="utf-8")
    summary = _env().get_template("summary.md.j2").render(data)
    (out_dir / "summary.md").write_text(summary.rstrip() + "\n", encoding="utf-8")
    _write_manifest(out_dir, written)
    for stale in sorted(earlier - written):  # an earlier report's own figures go
        _remove_own(out_dir, stale)
    return index


MANIFEST = ".activelabel-report.json"
"""The list of files a report wrote into its folder: the only files a later report deletes."""


def _claim(out_dir: Path, overwrite: bool) -> set[str]:
    """Make sure the report may write into ``out_dir`` (creating it); returns the files the
    earlier report there wrote (from its manifest)."""
    import json

    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"--out {out_dir} is a file, not a folder; choose a folder")
    manifest = out_dir / MANIFEST
    if manifest.is_file():
        try:
            names = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        except (ValueError, AttributeError):
            names = []
        return {n for n in names if isinstance(n, str) and _own_name(n)}
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        example = sorted(p.name for p in out_dir.iterdir())[0]
        raise ReportError(
            f"{out_dir} already holds files that no report wrote (e.g. {example!r}); choose a "
            f"new or empty --out folder, or add --overwrite to write the report there (its "
            f"index.html and summary.md are replaced, nothing else is deleted)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    return set()


def _own_name(name: str) -> bool:
    """A name a report gives its figures: a plain ``.png`` file name inside the folder."""
    return (
        name.endswith(".png")
        and name == Path(name).name
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and name.isprintable()
    )


def _write_manifest(out_dir: Path, names: set[str]) -> None:
    import json

    text = json.dumps({"written_by": "activelabel report", "files": sorted(names)}, indent=1)
    (out_dir / MANIFEST).write_text(text + "\n", encoding="utf-8")


def _remove_own(out_dir: Path, name: str) -> None:
    """Delete the earlier report's figure ``name``, a regular file directly in ``out_dir``."""
    path = out_dir / name
    if path.parent == out_dir and path.is_file() and not path.is_symlink():
        path.unlink(missing_ok=True)

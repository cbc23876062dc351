"""The report page: ``index.html`` (figures + tables) and ``summary.md`` (the same tables).

:func:`write_report` is the entry point; docs/report.md explains how to read what it writes.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections.abc import Sequence
from pathlib import Path

from activelabel.errors import ReportError
from activelabel.evaluation import CurvePoint
from activelabel.report import figures as F
from activelabel.report import summary as S

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fafafa; line-height: 1.45; }
main { max-width: 1320px; margin: 0 auto; padding: 1.5rem 2rem 3rem; background: #fff; }
h1 { margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #e5e7eb; padding-bottom: .3rem; margin-top: 2.5rem; }
h3 { margin-top: 1.8rem; }
.meta { color: #57606a; margin-top: 0; }
.notes { color: #333; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption, .caption { color: #57606a; font-size: .9rem; max-width: 60rem; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
.grid figure { flex: 1 1 480px; max-width: 580px; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .55rem; text-align: right;
         white-space: nowrap; }
th { background: #f3f4f6; white-space: normal; vertical-align: bottom; }
.scroll { overflow-x: auto; max-width: 100%; }
.sw { display: inline-block; width: .8em; height: .8em; border-radius: 2px;
      margin-right: .4em; vertical-align: -0.05em; }
figure.narrow img { max-width: 780px; }
.grid figure.big { flex: 1 1 100%; max-width: 900px; }
td.name, th.name { text-align: left; min-width: 10rem; }
tr.baseline td { color: #57606a; }
td.good { background: #d7f5dd; color: #0f5132; }
td.bad { background: #f9d7da; color: #842029; }
td.best { font-weight: 700; }
.mode-tag { display: inline-block; background: #eef2ff; color: #3730a3; border-radius: 4px;
            padding: 0 .4rem; font-size: .85rem; font-weight: 600; }
details { margin: .6rem 0; }
summary { cursor: pointer; font-weight: 600; }
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


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


# --------------------------------------------------------------------------- HTML pieces


def _html_table(
    columns: list[str],
    rows: list[list[str]],
    *,
    baseline: str | None,
    colours: dict[str, str] | None = None,
) -> str:
    colours = colours or {}
    out = ['<div class="scroll"><table>', "<thead><tr>"]
    out += [f'<th class="{"name" if i == 0 else ""}">{_esc(c)}</th>' for i, c in enumerate(columns)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        css = ' class="baseline"' if baseline is not None and row[0] == baseline else ""
        swatch = (
            f'<span class="sw" style="background:{_esc(colours[row[0]])}"></span>'
            if row[0] in colours
            else ""
        )
        cells = [
            f'<td class="name">{swatch}{_esc(v)}</td>' if i == 0 else f"<td>{_esc(v)}</td>"
            for i, v in enumerate(row)
        ]
        out.append(f"<tr{css}>{''.join(cells)}</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def hits_html(table: S.HitsTable, class_names: Sequence[str]) -> str:
    """The per-class hits table as HTML: ✓ green when recall >= 5/6, ✗ red at 0 hits."""
    out = [
        '<div class="scroll"><table class="hits">',
        '<thead><tr><th class="name">topic \\ labels</th>',
    ]
    out += [f"<th>{n}</th>" for n in table.n_labels]
    out.append("</tr></thead><tbody>")
    for c, name in enumerate(class_names):
        cells = []
        for j in range(len(table.n_labels)):
            status = table.status(c, j)
            mark = {"good": " ✓", "bad": " ✗"}.get(status, "")
            css = f' class="{status}"' if status else ""
            cells.append(f"<td{css}>{_esc(table.cell(c, j))}{mark}</td>")
        out.append(f'<tr><td class="name">{_esc(name)}</td>{"".join(cells)}</tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out)


def hits_markdown(table: S.HitsTable, class_names: Sequence[str]) -> str:
    """The per-class hits table as markdown, ✓ for satisfactory and ✗ for zero hits."""
    head = "| topic \\ labels | " + " | ".join(str(n) for n in table.n_labels) + " |"
    rule = "| --- | " + " | ".join("---:" for _ in table.n_labels) + " |"
    lines = [head, rule]
    for c, name in enumerate(class_names):
        cells = []
        for j in range(len(table.n_labels)):
            mark = {"good": " ✓", "bad": " ✗"}.get(table.status(c, j), "")
            cells.append(table.cell(c, j) + mark)
        lines.append(f"| {_md(name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _md(text: object) -> str:
    return str(text).replace("|", "\\|")


def _md_table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_md(c) for c in columns) + " |"]
    lines.append("| --- | " + " | ".join("---:" for _ in columns[1:]) + " |")
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _hits_caption(table: S.HitsTable) -> str:
    who = "mean over seeds" if table.seed is None else f"seed {table.seed}"
    return (
        f"Test hits per topic (correct / total) of “{table.run}”, {who}, "
        f"{S.mode_label(table.mode)}; columns are label counts. "
        "✓ = satisfactory (recall ≥ 5/6, the original study's “5 or 6 out of 6”), "
        "✗ = no hit at all."
    )


def _figure_html(src: Path, alt: str, caption: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return (
        f'<figure{cls}><a href="{_esc(src.name)}"><img src="{_esc(src.name)}" '
        f'alt="{_esc(alt)}" loading="lazy"></a>'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


# --------------------------------------------------------------------------- write_report


def _seeds(points: Sequence[CurvePoint], mode: str) -> int:
    return len({p.seed for p in points if p.mode == mode})


def _figures(page: Path | str) -> set[str]:
    """The PNG names a report page shows (of a page file, if it exists, or of page text)."""
    if isinstance(page, Path):
        if not page.is_file():
            return set()
        page = page.read_text(encoding="utf-8", errors="replace")
    return {html.unescape(n) for n in re.findall(r'<img src="([^"/\\]+\.png)"', page)}


def _default_confusion_points(points: Sequence[CurvePoint], mode: str) -> list[CurvePoint]:
    """Each run's last step of seed 0 (or its lowest seed) in ``mode``."""
    chosen = []
    mode_points = S.select(points, mode=mode)
    for run in S.runs_of(mode_points):
        seeds = S.by_seed(S.select(mode_points, run=run))
        seed = 0 if 0 in seeds else min(seeds)
        chosen.append(seeds[seed][-1])
    return chosen


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
) -> Path:
    """Write the report (PNG figures, ``index.html``, ``summary.md``) into ``out_dir``.

    ``points`` are learning-curve points of one or more runs (the baseline is the run named
    "random"), seeds and modes. ``confusion_points`` picks the points shown as confusion
    matrices (default: every run's last step of seed 0 or its first seed). Returns the path
    of ``index.html``.
    """
    points = list(points)
    if not points:
        raise ReportError("no learning-curve points to report: run a simulation or a round first")
    k = len(class_names)
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

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rare = S.pick_rare_class(points, corpus_counts, rare_class)
    summaries = S.summarise(points, rare_class=rare, budgets=budgets)
    colours = F.run_colours(S.runs_of(points))
    generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    chosen = list(confusion_points) if confusion_points is not None else None

    head = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">Generated {_esc(generated)} · modes: '
        + ", ".join(f'<span class="mode-tag">{_esc(ms.label)}</span>' for ms in summaries)
        + (f" · chance line: {_esc(_pct(chance))}" if chance is not None else "")
        + (
            f" · rarest topic followed: <b>{_esc(class_names[rare])}</b>"
            if rare is not None
            else " · no topic is rare in this corpus"
        )
        + "</p>",
    ]
    if notes:
        head.append('<ul class="notes">' + "".join(f"<li>{_esc(n)}</li>" for n in notes) + "</ul>")
    if len(summaries) > 1:
        head.append(
            "<p>Contents: "
            + " · ".join(
                f'<a href="#mode-{F.slug(ms.mode)}">{_esc(ms.label)}</a>' for ms in summaries
            )
            + "</p>"
        )

    md = [f"# {title}", "", f"Generated {generated}.", ""]
    md += [f"- {n}" for n in notes]
    if chance is not None:
        md.append(f"- chance line: {_pct(chance)}")
    md.append(
        f"- rarest topic followed: {class_names[rare]}"
        if rare is not None
        else "- no topic is rare in this corpus: no rare-topic columns"
    )
    md.append("")

    body: list[str] = []
    used_names: set[str] = set()
    for ms in summaries:
        mode_slug = F.slug(ms.mode)
        body.append(
            f'<section id="mode-{mode_slug}"><h2>Mode: {_esc(ms.label)} '
            f'<span class="mode-tag">{_esc(ms.mode)}</span></h2>'
        )
        md += [f"## Mode: {ms.label} (`{ms.mode}`)", ""]

        # learning curves
        curves_png = F.learning_curves(
            out_dir / f"curves_{mode_slug}.png",
            points,
            ms.mode,
            colours=colours,
            chance=chance,
            target=ms.target,
        )
        caption = (
            f"{ms.label}: accuracy and macro-F1 on the test set against the number of labels. "
            + (
                "Lines are means over seeds, shaded bands span min to max over seeds; "
                if _seeds(points, ms.mode) > 1
                else "One seed: lines show its values (no band); "
            )
            + ("random is grey and dashed" if ms.baseline else "no random baseline in this mode")
            + (f"; thin black dashed line: chance ({_pct(chance)})" if chance is not None else "")
            + (
                f"; dotted line: 95 % of random's final accuracy ({_pct(ms.target)})"
                if ms.target
                else ""
            )
            + "."
        )
        body += ["<h3>Learning curves</h3>", _figure_html(curves_png, "learning curves", caption)]
        md += [f"![learning curves — {ms.label}]({curves_png.name})", "", f"*{caption}*", ""]
        if F.spans_decades(points, ms.mode):
            log_png = F.learning_curves(
                out_dir / f"curves_{mode_slug}_log.png",
                points,
                ms.mode,
                colours=colours,
                chance=chance,
                target=ms.target,
                log_x=True,
            )
            log_caption = (
                f"{ms.label}: the same curves on a logarithmic label axis, which spreads out the "
                "first labels, where strategies differ most (points at 0 labels are left out)."
            )
            body.append(_figure_html(log_png, "learning curves, log label axis", log_caption))
            md += [f"![learning curves, log axis — {ms.label}]({log_png.name})", ""]
            md += [f"*{log_caption}*", ""]
        if rare is not None:
            rare_png = F.rare_recall(
                out_dir / f"rare_{mode_slug}.png",
                points,
                ms.mode,
                rare,
                class_names[rare],
                colours=colours,
            )
            if rare_png is not None:
                rare_caption = (
                    f"{ms.label}: test recall of the rarest topic, “{class_names[rare]}”, against "
                    "the number of labels. Lines are means over seeds, bands span min to max."
                )
                body += [
                    "<h3>Rare-topic recall</h3>",
                    _figure_html(rare_png, "rare-topic recall", rare_caption, "narrow"),
                ]
                md += [f"![rare-topic recall — {ms.label}]({rare_png.name})", ""]
                md += [f"*{rare_caption}*", ""]

        # summary table
        columns, rows = _summary_columns(ms), _summary_rows(ms)
        summary_caption = _summary_caption(ms, class_names)
        body += [
            f"<h3>Summary against random — {_esc(ms.label)}</h3>",
            _html_table(columns, rows, baseline=ms.baseline, colours=colours),
            f'<p class="caption">{_esc(summary_caption)}</p>',
        ]
        md += [f"### Summary against random — {ms.label}", "", _md_table(columns, rows), ""]
        md += [f"*{summary_caption}*", ""]

        # label distribution
        dist_png = F.label_distribution(
            out_dir / f"labels_{mode_slug}.png",
            points,
            class_names,
            ms.mode,
            colours=colours,
            corpus_counts=corpus_counts,
            rare_class=rare,
        )
        if dist_png is not None:
            dist_caption = (
                f"{ms.label}: share of each topic "
                + ("in the corpus (hatched) and " if corpus_counts else "")
                + "among the labels each run had selected at its last step (mean over seeds). "
                + (
                    "A strategy that finds rare topics has longer bars than the corpus on them."
                    if corpus_counts
                    else "Corpus counts were not given, so the corpus bar is missing."
                )
            )
            body += [
                "<h3>Label distribution</h3>",
                _figure_html(dist_png, "label distribution", dist_caption, "narrow"),
            ]
            md += [
                f"![label distribution — {ms.label}]({dist_png.name})",
                "",
                f"*{dist_caption}*",
                "",
            ]

        # confusion matrices
        mode_chosen = (
            [p for p in chosen if p.mode == ms.mode]
            if chosen is not None
            else _default_confusion_points(points, ms.mode)
        )
        if mode_chosen:
            body.append('<h3>Confusion matrices</h3><div class="grid">')
            md += ["### Confusion matrices", ""]
            for p in mode_chosen:
                stem = f"confusion_{mode_slug}_{F.slug(p.run)}_s{p.seed}_n{p.n_labels}"
                name, copy = f"{stem}.png", 1
                while name in used_names:  # runs like "a+b" and "a-b" share a slug
                    copy += 1
                    name = f"{stem}_{copy}.png"
                used_names.add(name)
                png = F.confusion_matrix(out_dir / name, p, class_names, rare_class=rare)
                cap = (
                    f"{p.run}, seed {p.seed}, {p.n_labels} labels ({ms.label}): rows are true "
                    "topics, colour = share of the row, numbers = test counts."
                )
                body.append(
                    _figure_html(png, f"confusion matrix {p.run}", cap, "big" if k > 10 else "")
                )
                md += [f"![confusion matrix — {p.run}]({png.name})", ""]
            body.append("</div>")

        # per-class hits
        body.append("<h3>Per-class hits</h3>")
        md += ["### Per-class hits", ""]
        for i, run in enumerate(S.runs_of(S.select(points, mode=ms.mode))):
            table = S.hits_table(points, run, ms.mode)
            open_attr = " open" if i == 0 else ""
            body.append(
                f"<details{open_attr}><summary>{_esc(run)}</summary>"
                f"{hits_html(table, class_names)}"
                f'<p class="caption">{_esc(_hits_caption(table))}</p></details>'
            )
            md += [f"#### {run}", "", hits_markdown(table, class_names), ""]
            md += [f"*{_hits_caption(table)}*", ""]
        body.append("</section>")

    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(title)}</title>",
            f"<style>{_CSS}</style></head><body><main>",
            *head,
            *body,
            '<p class="caption">How to read this report: see docs/report.md in activelabel.</p>',
            "</main></body></html>",
        ]
    )
    index = out_dir / "index.html"
    for stale in _figures(index) - _figures(page):  # an earlier report's figures go
        (out_dir / stale).unlink(missing_ok=True)
    index.write_text(page, encoding="utf-8")
    (out_dir / "summary.md").write_text("\n".join(md).rstrip() + "\n", encoding="utf-8")
    return index

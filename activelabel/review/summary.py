"""What the label reviews of a workspace came to, for ``status`` and the report."""

from __future__ import annotations

from dataclasses import dataclass

from activelabel.workspace import Workspace


@dataclass(frozen=True)
class ReviewSummary:
    flagged: int
    waiting: int
    confirmed: int
    changed: int
    skipped: int
    batches: int
    changes: list[tuple[str, str, str, str | None, str | None]]  # text, old, new, who, when
    accuracy: list[tuple[int, float | None, float | None]]  # batch, before, after


def review_line(ws: Workspace) -> str:
    """One line for ``status``: labels reviewed, changed, waiting (empty without reviews)."""
    counts = ws.store.review_counts()
    if not counts["flagged"]:
        return ""
    reviewed = counts["confirmed"] + counts["changed"]
    line = (
        f"Label review: {counts['flagged']} labels flagged, {reviewed} reviewed "
        f"({counts['confirmed']} confirmed, {counts['changed']} changed)"
    )
    if counts["skipped"]:
        line += f", {counts['skipped']} skipped"
    if counts["waiting"]:
        line += f"; {counts['waiting']} wait for a reviewer"
    return line + "."


def summarise(ws: Workspace) -> ReviewSummary | None:
    """The reviews of the workspace, each change with its provenance, and the test accuracy of
    the last round before and the first round after each review batch (None without reviews)."""
    reviews = ws.store.reviews()
    if not reviews:
        return None
    counts = ws.store.review_counts()
    changed = [r for r in reviews if r.outcome == "changed"]
    texts = ws.store.texts(r.item_id for r in changed)
    rounds = ws.store.rounds()
    accuracy = []
    for batch in sorted({r.batch for r in reviews}):
        flagged_at = min(r.flagged_at for r in reviews if r.batch == batch)
        before = [x for x in rounds if x.finished_at <= flagged_at and x.evaluation]
        after = [x for x in rounds if x.started_at > flagged_at and x.evaluation]
        accuracy.append(
            (
                batch,
                before[-1].evaluation.accuracy if before else None,
                after[0].evaluation.accuracy if after else None,
            )
        )
    return ReviewSummary(
        counts["flagged"],
        counts["waiting"],
        counts["confirmed"],
        counts["changed"],
        counts["skipped"],
        len(accuracy),
        [(texts[r.item_id], r.label, r.new_label, r.reviewer, r.reviewed_at) for r in changed],
        accuracy,
    )


def report_section(ws: Workspace, limit: int = 50):
    """The report's "Label review" section: counts, accuracy around each review, and every
    changed label with its provenance (None without reviews)."""
    from activelabel.report.section import ReportSection

    summary = summarise(ws)
    if summary is None:
        return None
    s = summary
    lines = [
        f"{s.flagged} labels flagged in {s.batches} review(s) (cleanlab's ranking of out-of-sample "
        f"probabilities): {s.confirmed} confirmed, {s.changed} changed, {s.skipped} skipped, "
        f"{s.waiting} waiting for a reviewer. A confirmed label is never flagged again; a changed "
        f"one is superseded (the old label stays in the history) and the next round trains on "
        f"the new one."
    ]
    for batch, before, after in s.accuracy:
        pct = lambda v: "–" if v is None else f"{100 * v:.1f} %"  # noqa: E731
        lines.append(
            f"Review {batch}: test accuracy {pct(before)} in the last round before it, "
            f"{pct(after)} in the first round after it"
            + (" (no round since)" if after is None else "")
            + "."
        )
    rows = [
        [text, old, new or "", who or "", when or ""] for text, old, new, who, when in s.changes
    ]
    if len(rows) > limit:
        lines.append(f"The first {limit} of {len(rows)} changed labels:")
    return ReportSection(
        "Label review",
        lines,
        ["headline", "old label", "new label", "who", "when"] if rows else [],
        rows[:limit],
    )

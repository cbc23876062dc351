"""Figures of a live workspace: both arms' learning curves, annotation throughput, and how
often annotators accepted the model's pre-annotation unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from activelabel.evaluation import CurvePoint
from activelabel.workspace import Workspace

ACTIVE, RANDOM_ARM = "active", "random"


def live_points(ws: Workspace) -> list[CurvePoint]:
    """Each evaluated round as a point of the 'active' curve (all labels) and, where the round
    trained one, of the 'random' curve (the random arm's labels only, at its own count)."""
    names = ws.class_names
    index = {n: i for i, n in enumerate(names)}
    labels = ws.store.active_labels()
    selections = ws.store.selections()
    seed = ws.config.loop.seed
    points = []
    for r in ws.store.rounds():
        if r.evaluation is None:
            continue
        counts = {ACTIVE: [0] * len(names), RANDOM_ARM: [0] * len(names)}
        for s in selections:
            if s.round < r.round and s.item_id in labels:
                counts[ACTIVE][index[labels[s.item_id]]] += 1
                if s.arm == RANDOM_ARM:
                    counts[RANDOM_ARM][index[labels[s.item_id]]] += 1
        points.append(
            CurvePoint(
                ACTIVE,
                seed,
                r.round,
                r.n_labels,
                r.mode,
                r.evaluation,
                counts[ACTIVE],
                r.wall_seconds,
            )
        )
        if r.random_arm is not None:
            points.append(
                CurvePoint(
                    RANDOM_ARM,
                    seed,
                    r.round,
                    r.random_arm_labels,
                    r.mode,
                    r.random_arm,
                    counts[RANDOM_ARM],
                    0.0,
                )
            )
    return points


@dataclass(frozen=True)
class AnnotationStats:
    labels: int
    labels_per_hour: float | None  # None when there are no annotation times (oracle)
    hours: float | None
    suggested: int  # labels of headlines that were sent with a model suggestion
    accepted: int  # ... whose label equals the suggestion

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.suggested if self.suggested else None


def _parse(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None


def annotation_stats(ws: Workspace) -> AnnotationStats:
    rows = ws.store.labels_with_suggestions()
    times = sorted(t for t in (_parse(stamp) for _, stamp, _ in rows if stamp) if t)
    hours = per_hour = None
    if len(times) >= 2:
        hours = (times[-1] - times[0]).total_seconds() / 3600
        per_hour = len(times) / hours if hours > 0 else None
    suggested = [(label, predicted) for label, _, predicted in rows if predicted is not None]
    accepted = sum(1 for label, predicted in suggested if label == predicted)
    return AnnotationStats(len(rows), per_hour, hours, len(suggested), accepted)


#: throughput is given as a rate only over at least this span and this many labels
RATE_MIN_HOURS = 10 / 60
RATE_MIN_LABELS = 10
#: this share or more of guesses accepted unchanged (over enough of them) is worth a look
RUBBER_STAMP_SHARE = 0.9
RUBBER_STAMP_MIN = 20


def _span(hours: float) -> str:
    minutes = hours * 60
    if minutes < 1:
        return "under a minute"
    return f"{minutes:.0f} min" if minutes < 90 else f"{hours:.1f} h"


def throughput_note(stats: AnnotationStats) -> str:
    """Labels and the time they took; a per-hour rate only where the span allows one."""
    if stats.hours is None:
        return f"annotation throughput: {stats.labels} labels, no annotation times (oracle labels)"
    line = f"annotation throughput: {stats.labels} labels in {_span(stats.hours)}"
    if stats.hours >= RATE_MIN_HOURS and stats.labels >= RATE_MIN_LABELS and stats.labels_per_hour:
        return line + f", about {stats.labels_per_hour:.0f} labels per hour"
    return line + " (too short a span for a rate per hour)"


def changed_by_round(ws: Workspace) -> list[tuple[int, int, int]]:
    """(round sent, guesses changed by the annotator, labels with a guess) per round."""
    rounds: dict[int, list[int]] = {}
    for round_, label, predicted in ws.store.suggestions_by_round():
        counts = rounds.setdefault(round_, [0, 0])
        counts[0] += label != predicted
        counts[1] += 1
    return [(r, changed, total) for r, (changed, total) in sorted(rounds.items())]


def acceptance_notes(ws: Workspace, stats: AnnotationStats) -> list[str]:
    """How often the guess was kept, per round, and a flag when nearly all were kept."""
    if stats.acceptance is None:
        return []
    notes = [
        f"pre-annotations accepted unchanged: {stats.accepted} of {stats.suggested} "
        f"({100 * stats.acceptance:.0f} %)"
    ]
    per_round = changed_by_round(ws)
    if per_round:
        notes.append(
            "guesses changed by the annotators, per round sent: "
            + ", ".join(
                f"round {r}: {changed} of {total} ({100 * changed / total:.0f} %)"
                for r, changed, total in per_round
            )
        )
    if stats.suggested >= RUBBER_STAMP_MIN and stats.acceptance >= RUBBER_STAMP_SHARE:
        notes.append(
            f"check for rubber-stamping: {100 * stats.acceptance:.0f} % of the pre-selected "
            "guesses were submitted unchanged. That is expected when the model is that accurate "
            "(compare with its test accuracy above); if it is well below, annotators may be "
            "pressing Submit without reading: look at a sample of their labels"
        )
    return notes


def live_notes(ws: Workspace) -> list[str]:
    stats = annotation_stats(ws)
    notes = [
        "live rounds: 'active' is the model trained on every label; 'random' is a model trained "
        "only on the labels drawn uniformly at random (loop.random_share of each batch), plotted "
        "at its own, smaller label count — compare the curves at equal labels, not equal rounds"
    ]
    notes.append(throughput_note(stats))
    notes += acceptance_notes(ws, stats)
    return notes

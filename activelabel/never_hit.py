"""Which topics the labels have reached so far: the topics never hit are the ones to hunt."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from activelabel.workspace import Workspace


def never_hit(class_names: Sequence[str], labels: Iterable[str]) -> list[str]:
    """The classes, in class order, that no label names."""
    seen = set(labels)
    return [name for name in class_names if name not in seen]


def never_hit_note(ws: Workspace) -> str | None:
    """One line naming the workspace's topics without any label yet; None before any label or
    when every topic has one."""
    labels = list(ws.store.active_labels().values())
    missing = never_hit(ws.class_names, labels)
    if not labels or not missing:
        return None
    return (
        f"topics never hit so far ({len(missing)} of {len(ws.class_names)}, no label among "
        f"{len(labels)}): {', '.join(missing)}"
    )

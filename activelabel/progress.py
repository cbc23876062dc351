"""The progress contract of long phases: ``phase(description, total)`` starts a phase and
returns ``advance(n)``, called as items are done. The CLI shows bars; library callers may pass
nothing."""

from __future__ import annotations

from collections.abc import Callable

Advance = Callable[[int], None]
Phase = Callable[[str, int], Advance]  # (description, total) -> advance(n)


def silent(description: str, total: int) -> Advance:
    return lambda n: None

"""The state file's stamps order what happened, also within one second: a round's pull summary
counts what was pulled after the last round finished, however soon after."""

from __future__ import annotations

from activelabel.store import Store, now


def test_activity_within_the_second_after_a_round_counts_after_it(tmp_path):
    store = Store.create(
        tmp_path / "state.sqlite", [("a", "first", None, "pool"), ("b", "second", None, "pool")]
    )
    made, changed = "2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z"  # edited before the pull
    store.record_annotations("ls", [(1, 1, 11, "a@x", "sport", 0, made, changed)], present={1})
    finished = now()  # the round that pulled it finishes; the next pull follows at once
    store.record_annotations("ls", [(2, 2, 12, "a@x", "politics", 0, made, made)], present={2})
    skipped, deleted, edited_first = store.activity_since(finished)
    assert deleted == 1  # annotation 1, gone from the server in the pull after the round
    assert edited_first == 0  # annotation 1 was pulled before the round; 2 was never edited
    assert finished < now()

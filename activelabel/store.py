"""Workspace state in one SQLite file: pool and test items, labels with provenance, rounds,
selections and simulation points. Every write is one transaction; labels are never deleted,
only superseded (a newer label for the same item) or retracted (deleted by the annotator)."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from activelabel.errors import StateError, os_problem, sqlite_problem
from activelabel.evaluation import CurvePoint, Evaluation
from activelabel.faults import checkpoint

SCHEMA_VERSION = 2
STATE_NAME = "state.sqlite"
CLASSES_KEY = "classes"  # the workspace's class names, in order, fixed at init
#: seconds to wait for another process's write to finish before saying the file is busy
BUSY_TIMEOUT = 30.0

SCHEMA = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    gold TEXT,
    split TEXT NOT NULL CHECK (split IN ('pool', 'test'))
);
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    label TEXT NOT NULL,
    source TEXT NOT NULL,
    annotator TEXT,
    round INTEGER,
    task_id INTEGER,
    annotation_id INTEGER,
    labelled_at TEXT,
    recorded_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded', 'retracted'))
);
CREATE UNIQUE INDEX one_active_label ON labels(item_id) WHERE status = 'active';
CREATE TABLE rounds (
    round INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    n_labels INTEGER NOT NULL,
    new_labels INTEGER NOT NULL,
    mode TEXT NOT NULL,
    strategy TEXT NOT NULL,
    evaluation TEXT,
    zero_shot TEXT,
    wall_seconds REAL NOT NULL,
    random_arm TEXT,
    stopping TEXT,
    label_watermark INTEGER,
    training TEXT
);
CREATE TABLE selections (
    round INTEGER NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items(id),
    rank INTEGER NOT NULL,
    arm TEXT NOT NULL DEFAULT 'active',
    predicted TEXT,
    confidence REAL,
    pushed_at TEXT,
    task_id INTEGER,
    skipped_at TEXT,
    reason TEXT,
    PRIMARY KEY (round, item_id)
);
CREATE TABLE sim_points (
    run TEXT NOT NULL,
    seed INTEGER NOT NULL,
    mode TEXT NOT NULL,
    step INTEGER NOT NULL,
    n_labels INTEGER NOT NULL,
    evaluation TEXT NOT NULL,
    selected_counts TEXT NOT NULL,
    labelled_items TEXT NOT NULL,
    wall_seconds REAL NOT NULL,
    strategy_state TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run, seed, mode, step)
);
CREATE TABLE annotations (
    source TEXT NOT NULL,
    annotation_id INTEGER NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items(id),
    task_id INTEGER,
    annotator TEXT,
    choice TEXT,
    cancelled INTEGER NOT NULL,
    created_at TEXT,
    updated_at TEXT,
    pulled_at TEXT NOT NULL,
    deleted_at TEXT,
    PRIMARY KEY (source, annotation_id)
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Label review (:mod:`activelabel.review`): one row per label flagged as suspect, with what the
# reviewer decided. Added to older state files when they are opened (the table is additive).
REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    batch INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    flagged_at TEXT NOT NULL,
    label TEXT NOT NULL,
    suggested TEXT NOT NULL,
    p_label REAL NOT NULL,
    p_suggested REAL NOT NULL,
    score REAL NOT NULL,
    reason TEXT NOT NULL,
    task_id INTEGER,
    pushed_at TEXT,
    outcome TEXT CHECK (outcome IN ('confirmed', 'changed', 'skipped')),
    new_label TEXT,
    reviewer TEXT,
    reviewed_at TEXT,
    recorded_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_review ON reviews(item_id) WHERE outcome IS NULL;
"""

MIGRATIONS = {
    1: [  # -> 2: what each round trained on, and why each headline was picked
        "ALTER TABLE rounds ADD COLUMN label_watermark INTEGER",
        "ALTER TABLE rounds ADD COLUMN training TEXT",
        "ALTER TABLE selections ADD COLUMN reason TEXT",
    ],
}


TABLES = tuple(re.findall(r"CREATE TABLE (\w+)", SCHEMA))
REVIEW_SOURCE = "review"  # the source of a label a reviewer changed
WRITE_PROBLEMS = ("full", "readonly", "read-only", "disk i/o", "unable to open")


@functools.cache
def _columns() -> dict[str, list[str]]:
    """The columns of each table of :data:`SCHEMA`."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    finally:
        db.close()


def _write_problem(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc).lower() for word in WRITE_PROBLEMS
    )


def _busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says another connection holds the file (not that it is damaged)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def busy_message(path: Path) -> str:
    return (
        f"{path}: the state file is in use by another process (it held a write lock for more "
        f"than {BUSY_TIMEOUT:g} s); the file is not damaged: wait for that command to finish, "
        f"or stop it, then run this one again"
    )


def now() -> str:
    """The time as stored: ISO 8601 in UTC to the microsecond, so that what happened after a
    stamp (e.g. a pull after the last round finished) compares after it even within a second."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class NewLabel:
    item_id: int
    label: str
    source: str  # 'oracle', 'labelstudio', 'import'
    annotator: str | None = None
    round: int | None = None
    task_id: int | None = None
    annotation_id: int | None = None
    labelled_at: str | None = None


@dataclass(frozen=True)
class Item:
    id: int
    ext_id: str
    text: str
    gold: str | None
    split: str


@dataclass(frozen=True)
class Selection:
    round: int
    item_id: int
    rank: int
    arm: str = "active"
    predicted: str | None = None
    confidence: float | None = None
    task_id: int | None = None
    reason: str | None = None  # why the strategy picked it, shown to the annotator


@dataclass(frozen=True)
class RoundRecord:
    round: int
    started_at: str
    finished_at: str
    n_labels: int
    new_labels: int
    mode: str
    strategy: str
    evaluation: Evaluation | None
    zero_shot: Evaluation | None
    wall_seconds: float
    random_arm_labels: int = 0  # labels drawn at random, which the random-arm model uses
    random_arm: Evaluation | None = None
    stopping_predictions: list[int] | None = None  # predicted classes on the stopping set
    label_watermark: int | None = None  # the newest label row the model trained on
    training: dict | None = None  # what the model trained on (labels, topic examples, ...)


@dataclass(frozen=True)
class ReviewFlag:
    """A label flagged for review: what it is, what the model suggests instead, and why."""

    item_id: int
    rank: int
    label: str
    suggested: str
    p_label: float  # out-of-sample probability of the label it has
    p_suggested: float
    score: float  # cleanlab's label quality score (low: suspect)
    reason: str


@dataclass(frozen=True)
class Review:
    id: int
    item_id: int
    batch: int
    rank: int
    flagged_at: str
    label: str
    suggested: str
    p_label: float
    p_suggested: float
    score: float
    reason: str
    task_id: int | None
    pushed_at: str | None
    outcome: str | None  # None while waiting; 'confirmed', 'changed' or 'skipped'
    new_label: str | None
    reviewer: str | None
    reviewed_at: str | None


@dataclass(frozen=True)
class ReviewAnswer:
    """A reviewer's decision on a flagged label: ``label`` None means skipped."""

    item_id: int
    label: str | None
    reviewer: str | None = None
    task_id: int | None = None
    annotation_id: int | None = None
    answered_at: str | None = None


class Store:
    """The state database of one workspace."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self.db = connection

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path,
        items: Iterable[tuple[str, str, str | None, str]],
        classes: list[str] | None = None,
    ) -> Store:
        """A new state file with ``(ext_id, text, gold, split)`` items and the workspace's
        ``classes`` (names, in order), written atomically."""
        if path.exists():
            raise StateError(f"{path} already exists; choose a new workspace folder")
        partial = path.with_suffix(".partial")
        leftovers = (partial, partial.with_name(partial.name + "-journal"))
        try:
            for leftover in leftovers:
                leftover.unlink(missing_ok=True)
            db = sqlite3.connect(partial)
            try:
                with db:
                    db.executescript(SCHEMA)
                    db.executemany(
                        "INSERT INTO items (ext_id, text, gold, split) VALUES (?, ?, ?, ?)", items
                    )
                    if classes is not None:
                        db.execute(
                            "INSERT INTO settings VALUES (?, ?)", (CLASSES_KEY, json.dumps(classes))
                        )
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            finally:
                db.close()
            partial.rename(path)
        except (sqlite3.Error, OSError) as exc:
            for leftover in leftovers:
                with suppress(OSError):
                    leftover.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StateError(os_problem(exc)) from exc
            raise StateError(sqlite_problem(path, exc)) from exc
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> Store:
        if path.is_dir():
            raise StateError(
                f"{path} is a folder, not the state file; move it away and restore the "
                f"state file from a backup"
            )
        if path.exists() and not path.is_file():
            raise StateError(f"{path} is not a regular file; restore the state file from a backup")
        if not path.is_file():
            raise StateError(
                f"{path}: state file missing; run 'activelabel init' for a new workspace"
            )
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            problem = db.execute("PRAGMA quick_check").fetchone()[0]
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise StateError(busy_message(path)) from exc
            raise StateError(
                f"{path}: the state file is corrupt ({exc}); restore it from a backup "
                f"(labels are also in Label Studio if you used it)"
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"{path}: the state file is corrupt ({exc}); restore it from a backup "
                f"(labels are also in Label Studio if you used it)"
            ) from exc
        if problem != "ok":
            raise StateError(f"{path}: the state file is damaged ({problem}); restore a backup")
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{path}: written by a newer activelabel (state version {version}, this one "
                f"reads {SCHEMA_VERSION}); upgrade activelabel"
            )
        if version not in MIGRATIONS and version != SCHEMA_VERSION:
            raise StateError(f"{path}: unknown state version {version}")
        missing = [table for table in TABLES if table not in tables]
        if missing:
            raise StateError(
                f"{path}: the state file lacks the table(s) {', '.join(map(repr, missing))}; "
                f"it is damaged: restore it from a backup (labels are also in Label Studio if "
                f"you used it)"
            )
        db.execute("PRAGMA foreign_keys = ON")
        store = cls(path, db)
        store._migrate(version)
        if "reviews" not in tables:
            store._add_reviews_table()
        store._check_columns()
        return store

    def _add_reviews_table(self) -> None:
        try:
            with self.transaction() as db:
                db.executescript(REVIEW_SCHEMA)
        except (StateError, sqlite3.OperationalError):
            pass  # a read-only state file: readable all the same; a review says what is wrong

    def _check_columns(self) -> None:
        """Every table has the columns this version reads (a dropped column is damage)."""
        for table, wanted in _columns().items():
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            lost = [c for c in wanted if c not in have]
            if lost:
                raise StateError(
                    f"{self.path}: the table '{table}' lacks the column(s) "
                    f"{', '.join(map(repr, lost))}; the state file is damaged: restore it from "
                    f"a backup (labels are also in Label Studio if you used it)"
                )

    def _migrate(self, version: int) -> None:
        """Bring an older state file up to this version, all steps in one transaction."""
        if version == SCHEMA_VERSION:
            return
        try:
            with self.transaction() as db:
                for step in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[step]:
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.OperationalError as exc:
            raise StateError(
                f"{self.path}: cannot upgrade the state file from version {version} ({exc}); "
                f"make it writable, or use the activelabel version that wrote it"
            ) from exc

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: writes inside are committed together or not at all. A full disk or
        a read-only workspace becomes a ``StateError`` naming the file."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                yield self.db
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise StateError(busy_message(self.path)) from exc
            if _write_problem(exc):
                raise StateError(sqlite_problem(self.path, exc)) from exc
            raise

    # -- items and labels ----------------------------------------------------------------------

    def items(self, split: str | None = None) -> list[Item]:
        query = "SELECT id, ext_id, text, gold, split FROM items"
        rows = self.db.execute(
            query + (" WHERE split = ? ORDER BY id" if split else " ORDER BY id"),
            (split,) if split else (),
        )
        return [Item(*row) for row in rows]

    def labels_outside(self, classes: list[str]) -> dict[str, int]:
        """Active labels that are not one of ``classes``, counted per label."""
        marks = ", ".join("?" * len(classes))
        rows = self.db.execute(
            f"SELECT label, count(*) FROM labels WHERE status = 'active' AND label NOT IN "
            f"({marks}) GROUP BY label",
            classes,
        )
        return dict(rows.fetchall())

    def golds_outside(self, classes: list[str]) -> dict[tuple[str, str], int]:
        """Items whose gold label is not one of ``classes``, counted per ``(split, gold)``."""
        marks = ", ".join("?" * len(classes))
        rows = self.db.execute(
            f"SELECT split, gold, count(*) FROM items WHERE gold IS NOT NULL AND gold NOT IN "
            f"({marks}) GROUP BY split, gold",
            classes,
        )
        return {(split, gold): n for split, gold, n in rows}

    def item_chunks(
        self, split: str, size: int = 10_000, exclude: np.ndarray | None = None
    ) -> Iterator[tuple[np.ndarray, list[str]]]:
        """Ids (an int64 array) and texts of a split in id order, ``size`` items at a time,
        leaving out the ids in ``exclude``. Each chunk is its own short query (keyset paging),
        so a long scoring pass never holds the database open for writers."""
        excluded = np.unique(np.asarray(exclude if exclude is not None else [], dtype=np.int64))
        last = -1
        while True:
            rows = self.db.execute(
                "SELECT id, text FROM items WHERE split = ? AND id > ? ORDER BY id LIMIT ?",
                (split, last, size),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            keep = ~np.isin(ids, excluded, assume_unique=False) if len(excluded) else None
            texts = [row[1] for row in rows]
            if keep is not None and not keep.all():
                ids, texts = ids[keep], [t for t, k in zip(texts, keep, strict=True) if k]
            if len(ids):
                yield ids, texts

    def item_ids(self, split: str) -> np.ndarray:
        """The ids of a split, in id order (8 bytes an item)."""
        rows = self.db.execute("SELECT id FROM items WHERE split = ? ORDER BY id", (split,))
        return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def texts(self, ids: Iterable[int], split: str | None = None) -> dict[int, str]:
        """The texts of those items ``ids`` that exist (in ``split``, when given)."""
        query = "SELECT id, text FROM items WHERE id IN ({})"
        if split:
            return dict(self._select_in(query + " AND split = ?", _sorted_ids(ids), split))
        return dict(self._select_in(query, _sorted_ids(ids)))

    def golds(self, ids: Iterable[int]) -> dict[int, str | None]:
        """The gold labels of those items ``ids`` that exist."""
        query = "SELECT id, gold FROM items WHERE id IN ({})"
        return dict(self._select_in(query, _sorted_ids(ids)))

    def ext_ids_and_texts(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """``(ext_id, text)`` of those items ``ids`` that exist."""
        rows = self._select_in(
            "SELECT id, ext_id, text FROM items WHERE id IN ({})", _sorted_ids(ids)
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def existing_ext_ids(self, ext_ids: Iterable[str], split: str) -> set[str]:
        """Those of ``ext_ids`` that name an item of ``split``."""
        query = "SELECT ext_id FROM items WHERE ext_id IN ({}) AND split = ?"
        return {row[0] for row in self._select_in(query, sorted(set(ext_ids)), split)}

    def _select_in(self, query: str, values: list, *params: object) -> Iterator[tuple]:
        """Rows of ``query``, whose ``{}`` is an ``IN`` list of ``values`` followed by
        ``params``, asked 900 values at a time (SQLite's limit on bound parameters)."""
        for start in range(0, len(values), 900):
            part = values[start : start + 900]
            yield from self.db.execute(query.format(",".join("?" * len(part))), [*part, *params])

    def first_texts(self, limit: int) -> list[str]:
        """The first ``limit`` texts, pool before test (as ``items('pool') + items('test')``)."""
        rows = self.db.execute(
            "SELECT text FROM items ORDER BY split = 'test', id LIMIT ?", (limit,)
        )
        return [row[0] for row in rows]

    def active_labels(self) -> dict[int, str]:
        rows = self.db.execute("SELECT item_id, label FROM labels WHERE status = 'active'")
        return dict(rows.fetchall())

    def apply_labels(
        self,
        labels: Iterable[NewLabel],
        retract: Iterable[int] = (),
        db: sqlite3.Connection | None = None,
    ) -> tuple[int, int, int]:
        """Add labels and retract items' labels; returns (new, changed, retracted) counts.

        A label equal to the item's active one changes nothing (so pulling twice is harmless);
        a different one supersedes it; the old row stays in the history.
        """
        db = db or self.db
        new = changed = retracted = 0
        for label in labels:
            current = db.execute(
                "SELECT id, label FROM labels WHERE item_id = ? AND status = 'active'",
                (label.item_id,),
            ).fetchone()
            if current and current[1] == label.label:
                continue
            if current and label.source != REVIEW_SOURCE and self._overruled(db, current[0], label):
                continue
            if current:
                db.execute("UPDATE labels SET status = 'superseded' WHERE id = ?", (current[0],))
                changed += 1
            else:
                new += 1
            db.execute(
                "INSERT INTO labels (item_id, label, source, annotator, round, task_id, "
                "annotation_id, labelled_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    label.item_id,
                    label.label,
                    label.source,
                    label.annotator,
                    label.round,
                    label.task_id,
                    label.annotation_id,
                    label.labelled_at,
                    now(),
                ),
            )
        for item_id in retract:
            cursor = db.execute(
                "UPDATE labels SET status = 'retracted' WHERE item_id = ? AND status = 'active'",
                (item_id,),
            )
            retracted += cursor.rowcount
        return new, changed, retracted

    @staticmethod
    def _overruled(db: sqlite3.Connection, active_id: int, label: NewLabel) -> bool:
        """Whether ``label`` is one a review already replaced: the active label came from a
        review and this same annotation (unchanged since) is in the item's history."""
        source = db.execute("SELECT source FROM labels WHERE id = ?", (active_id,)).fetchone()
        if not source or source[0] != REVIEW_SOURCE:
            return False
        return (
            db.execute(
                "SELECT 1 FROM labels WHERE item_id = ? AND label = ? AND source = ? AND "
                "annotation_id IS ? AND labelled_at IS ? AND id < ?",
                (
                    label.item_id,
                    label.label,
                    label.source,
                    label.annotation_id,
                    label.labelled_at,
                    active_id,
                ),
            ).fetchone()
            is not None
        )

    def record_annotations(
        self,
        source: str,
        rows: Iterable[tuple],
        present: set[int],
        db: sqlite3.Connection | None = None,
    ) -> None:
        """Keep every raw annotation ``(annotation_id, item_id, task_id, annotator, choice,
        cancelled, created_at, updated_at)``; those no longer ``present`` are marked deleted."""
        db = db or self.db
        stamp = now()
        db.executemany(
            "INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
            "ON CONFLICT (source, annotation_id) DO UPDATE SET choice = excluded.choice, "
            "cancelled = excluded.cancelled, updated_at = excluded.updated_at, deleted_at = NULL",
            [(source, *row, stamp) for row in rows],
        )
        known = db.execute(
            "SELECT annotation_id FROM annotations WHERE source = ? AND deleted_at IS NULL",
            (source,),
        ).fetchall()
        gone = [(stamp, source, a) for (a,) in known if a not in present]
        db.executemany(
            "UPDATE annotations SET deleted_at = ? WHERE source = ? AND annotation_id = ?", gone
        )

    def unpush(self, item_ids: Iterable[int], db: sqlite3.Connection | None = None) -> None:
        """Forget that these items were pushed (their task vanished): push them again."""
        if db is None:
            with self.transaction() as db:
                self.unpush(item_ids, db)
            return
        db.executemany(
            "UPDATE selections SET pushed_at = NULL, task_id = NULL WHERE item_id = ?",
            [(i,) for i in item_ids],
        )

    def label_watermark(self) -> int:
        """The id of the newest label row (0 when there is none)."""
        return self.db.execute("SELECT coalesce(max(id), 0) FROM labels").fetchone()[0]

    def labels_since(self, watermark: int) -> tuple[int, int]:
        """(new, changed): active labels recorded after ``watermark`` for items that had no
        label row up to it, and for items that had one."""
        new, changed = self.db.execute(
            "SELECT coalesce(sum(NOT old), 0), coalesce(sum(old), 0) FROM (SELECT EXISTS ("
            "SELECT 1 FROM labels o WHERE o.item_id = l.item_id AND o.id <= ?) AS old "
            "FROM labels l WHERE l.status = 'active' AND l.id > ?)",
            (watermark, watermark),
        ).fetchone()
        return new, changed

    def active_label_rows(self) -> list[tuple]:
        """(ext_id, text, label, source, annotator, round, task_id, annotation_id,
        labelled_at) of every active pool label, in item order."""
        return self.db.execute(
            "SELECT i.ext_id, i.text, l.label, l.source, l.annotator, l.round, l.task_id, "
            "l.annotation_id, l.labelled_at FROM labels l JOIN items i ON i.id = l.item_id "
            "WHERE l.status = 'active' AND i.split = 'pool' ORDER BY i.id"
        ).fetchall()

    def labels_with_suggestions(self) -> list[tuple[str, str | None, str | None]]:
        """(label, labelled_at, the model's suggestion when it was sent) per active label."""
        return self.db.execute(
            "SELECT l.label, l.labelled_at, s.predicted FROM labels l "
            "LEFT JOIN selections s ON s.item_id = l.item_id WHERE l.status = 'active'"
        ).fetchall()

    def suggestions_by_round(self) -> list[tuple[int, str, str]]:
        """(round sent, label, the model's suggestion shown) per active label that had one."""
        return self.db.execute(
            "SELECT s.round, l.label, s.predicted FROM labels l "
            "JOIN selections s ON s.item_id = l.item_id "
            "WHERE l.status = 'active' AND s.predicted IS NOT NULL ORDER BY s.round"
        ).fetchall()

    def active_labels_from(self, source: str) -> set[int]:
        """Items whose active label came from ``source`` (e.g. 'labelstudio')."""
        rows = self.db.execute(
            "SELECT item_id FROM labels WHERE status = 'active' AND source = ?", (source,)
        )
        return {item for (item,) in rows}

    def pushed_with_gold(self) -> list[tuple[int, int, str | None]]:
        """(item id, round, gold label) of every pushed selection, in round and rank order."""
        return self.db.execute(
            "SELECT s.item_id, s.round, i.gold FROM selections s JOIN items i ON i.id = s.item_id "
            "WHERE s.pushed_at IS NOT NULL ORDER BY s.round, s.rank"
        ).fetchall()

    # -- rounds and selections -----------------------------------------------------------------

    def rounds(self) -> list[RoundRecord]:
        rows = self.db.execute(
            "SELECT round, started_at, finished_at, n_labels, new_labels, mode, strategy, "
            "evaluation, zero_shot, wall_seconds, random_arm, stopping, label_watermark, training "
            "FROM rounds ORDER BY round"
        )
        records = []
        for row in rows:
            with self._damaged(f"round {row[0]}"):
                arm = json.loads(row[10]) if row[10] else {}
                records.append(
                    RoundRecord(
                        *row[:7],
                        _evaluation(row[7]),
                        _evaluation(row[8]),
                        row[9],
                        random_arm_labels=arm.get("n_labels", 0),
                        random_arm=Evaluation.from_dict(arm["evaluation"])
                        if arm.get("evaluation")
                        else None,
                        stopping_predictions=json.loads(row[11]) if row[11] else None,
                        label_watermark=row[12],
                        training=json.loads(row[13]) if row[13] else None,
                    )
                )
        return records

    @contextmanager
    def _damaged(self, what: str) -> Iterator[None]:
        """A stored value that does not parse is damage, named with ``what`` and the file."""
        try:
            yield
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            detail = _clip(" ".join(str(exc).split()))
            raise StateError(
                f"{self.path}: the stored {what} is damaged ({detail}); restore the state file "
                f"from a backup (labels are also in Label Studio if you used it)"
            ) from exc

    def next_round(self) -> int:
        last = self.db.execute("SELECT max(round) FROM rounds").fetchone()[0]
        return 0 if last is None else last + 1

    def record_round(self, record: RoundRecord, selections: list[Selection]) -> None:
        """Write the round and its selections in one transaction."""
        arm = {
            "n_labels": record.random_arm_labels,
            "evaluation": record.random_arm.to_dict() if record.random_arm else None,
        }
        stopping = record.stopping_predictions
        with self.transaction() as db:
            db.execute(
                "INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.round,
                    record.started_at,
                    record.finished_at,
                    record.n_labels,
                    record.new_labels,
                    record.mode,
                    record.strategy,
                    _json(record.evaluation),
                    _json(record.zero_shot),
                    record.wall_seconds,
                    json.dumps(arm),
                    None if stopping is None else json.dumps(stopping),
                    record.label_watermark,
                    None if record.training is None else json.dumps(record.training),
                ),
            )
            checkpoint("state-write")
            db.executemany(
                "INSERT INTO selections (round, item_id, rank, arm, predicted, confidence, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.round, s.item_id, s.rank, s.arm, s.predicted, s.confidence, s.reason)
                    for s in selections
                ],
            )

    def selections(
        self, round: int | None = None, unpushed: bool = False, arm: str | None = None
    ) -> list[Selection]:
        query = (
            "SELECT round, item_id, rank, arm, predicted, confidence, task_id, reason "
            "FROM selections WHERE 1=1"
        )
        args: list = []
        if arm is not None:
            query += " AND arm = ?"
            args.append(arm)
        if round is not None:
            query += " AND round = ?"
            args.append(round)
        if unpushed:
            query += " AND pushed_at IS NULL"
        return [Selection(*row) for row in self.db.execute(query + " ORDER BY round, rank", args)]

    def mark_pushed(self, task_ids: dict[int, int | None]) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE selections SET pushed_at = ?, task_id = coalesce(?, task_id) "
                "WHERE item_id = ? AND pushed_at IS NULL",
                [(now(), task, item) for item, task in task_ids.items()],
            )

    def activity_since(self, stamp: str) -> tuple[int, int, int]:
        """What annotators did after ``stamp`` (an ISO time; "" for ever), as pulled:
        (headlines skipped, annotations deleted, annotations edited before they were first
        pulled — made and changed between two pulls)."""
        skipped = self.db.execute(
            "SELECT count(DISTINCT item_id) FROM selections WHERE skipped_at > ?", (stamp,)
        ).fetchone()[0]
        deleted = self.db.execute(
            "SELECT count(*) FROM annotations WHERE deleted_at > ? AND NOT cancelled", (stamp,)
        ).fetchone()[0]
        rows = self.db.execute(
            "SELECT created_at, updated_at FROM annotations WHERE pulled_at > ? AND NOT cancelled "
            "AND deleted_at IS NULL AND created_at IS NOT NULL AND updated_at IS NOT NULL",
            (stamp,),
        ).fetchall()
        edited = sum(1 for created, updated in rows if _seconds_apart(created, updated) > 2)
        return skipped, deleted, edited

    def refresh_guesses(self, guesses: Iterable[tuple[int, str, float, str]]) -> None:
        """Record the guess now shown for items still waiting (item_id, predicted, confidence,
        reason): the pre-annotation people accept or change is the newest one."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE selections SET predicted = ?, confidence = ?, reason = ? "
                "WHERE item_id = ? AND pushed_at IS NOT NULL AND skipped_at IS NULL",
                [(p, c, r, i) for i, p, c, r in guesses],
            )

    def mark_skipped(self, item_ids: Iterable[int], db: sqlite3.Connection | None = None) -> int:
        db = db or self.db
        count = 0
        for item_id in item_ids:
            count += db.execute(
                "UPDATE selections SET skipped_at = ? WHERE item_id = ? AND skipped_at IS NULL",
                (now(), item_id),
            ).rowcount
        return count

    def awaiting(self) -> set[int]:
        """Items sent to annotators, not labelled, not skipped: not to be selected again."""
        rows = self.db.execute(
            "SELECT s.item_id FROM selections s WHERE s.skipped_at IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM labels l WHERE l.item_id = s.item_id AND l.status = 'active')"
        )
        return {row[0] for row in rows}

    def skipped(self) -> set[int]:
        rows = self.db.execute("SELECT item_id FROM selections WHERE skipped_at IS NOT NULL")
        return {row[0] for row in rows}

    # -- simulation points ---------------------------------------------------------------------

    def add_sim_point(
        self, point: CurvePoint, labelled_items: list[int], strategy_state: dict | None = None
    ) -> None:
        """Store a simulation point with what is needed to continue the curve after it."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sim_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    point.run,
                    point.seed,
                    point.mode,
                    point.step,
                    point.n_labels,
                    _json(point.evaluation),
                    json.dumps(point.selected_counts),
                    json.dumps(labelled_items),
                    point.wall_seconds,
                    json.dumps(strategy_state or {}),
                ),
            )

    def sim_points(self, mode: str | None = None) -> list[tuple[CurvePoint, list[int], dict]]:
        """Every stored point with its labelled item ids and strategy state."""
        query = (
            "SELECT run, seed, step, n_labels, mode, evaluation, selected_counts, "
            "labelled_items, wall_seconds, strategy_state FROM sim_points"
        )
        args = ()
        if mode:
            query, args = query + " WHERE mode = ?", (mode,)
        out = []
        for run, seed, step, n, m, ev, counts, items, wall, state in self.db.execute(
            query + " ORDER BY mode, run, seed, step", args
        ):
            with self._damaged(f"simulation point {run!r} seed {seed} step {step}"):
                point = CurvePoint(run, seed, step, n, m, _evaluation(ev), json.loads(counts), wall)
                out.append((point, json.loads(items), json.loads(state)))
        return out

    def delete_sim_points(self, mode: str) -> int:
        with self.transaction() as db:
            return db.execute("DELETE FROM sim_points WHERE mode = ?", (mode,)).rowcount

    # -- label review --------------------------------------------------------------------------

    def add_review_batch(self, flags: list[ReviewFlag]) -> int:
        """Record flagged labels as one review batch (waiting for answers); returns its number."""
        with self.transaction() as db:
            batch = db.execute("SELECT coalesce(max(batch), 0) + 1 FROM reviews").fetchone()[0]
            stamp = now()
            db.executemany(
                "INSERT INTO reviews (item_id, batch, rank, flagged_at, label, suggested, "
                "p_label, p_suggested, score, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        f.item_id,
                        batch,
                        f.rank,
                        stamp,
                        f.label,
                        f.suggested,
                        f.p_label,
                        f.p_suggested,
                        f.score,
                        f.reason,
                    )
                    for f in flags
                ],
            )
        return batch

    def reviews(self, *, waiting: bool = False, unpushed: bool = False) -> list[Review]:
        """Every flagged label (or those still ``waiting`` for an answer, or not yet pushed), in
        batch and rank order."""
        query = "SELECT " + ", ".join(Review.__dataclass_fields__) + " FROM reviews WHERE 1=1"
        if waiting:
            query += " AND outcome IS NULL"
        if unpushed:
            query += " AND pushed_at IS NULL"
        return [Review(*row) for row in self.db.execute(query + " ORDER BY batch, rank")]

    def reviewed_items(self) -> set[int]:
        """Items flagged before, answered or waiting: a label is flagged at most once."""
        return {row[0] for row in self.db.execute("SELECT DISTINCT item_id FROM reviews")}

    def mark_reviews_pushed(self, task_ids: dict[int, int | None]) -> None:
        """``{review id: task id}`` of review tasks sent to the annotators."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE reviews SET pushed_at = ?, task_id = coalesce(?, task_id) WHERE id = ?",
                [(now(), task, review) for review, task in task_ids.items()],
            )

    def record_review_answers(self, answers: Iterable[ReviewAnswer]) -> tuple[int, int, int]:
        """Close waiting reviews with their answers, in one transaction: a different label
        supersedes the flagged one (source ``review``, with who and when), the same label marks
        it confirmed. Returns (confirmed, changed, skipped)."""
        confirmed = changed = skipped = 0
        with self.transaction() as db:
            for answer in answers:
                row = db.execute(
                    "SELECT id, label FROM reviews WHERE item_id = ? AND outcome IS NULL",
                    (answer.item_id,),
                ).fetchone()
                if row is None:
                    continue
                review_id, flagged = row
                if answer.label is None:
                    outcome, skipped = "skipped", skipped + 1
                elif answer.label == flagged:
                    outcome, confirmed = "confirmed", confirmed + 1
                else:
                    outcome, changed = "changed", changed + 1
                    self.apply_labels(
                        [
                            NewLabel(
                                answer.item_id,
                                answer.label,
                                REVIEW_SOURCE,
                                answer.reviewer,
                                task_id=answer.task_id,
                                annotation_id=answer.annotation_id,
                                labelled_at=answer.answered_at,
                            )
                        ],
                        db=db,
                    )
                db.execute(
                    "UPDATE reviews SET outcome = ?, new_label = ?, reviewer = ?, reviewed_at = ?, "
                    "recorded_at = ? WHERE id = ?",
                    (
                        outcome,
                        answer.label,
                        answer.reviewer,
                        answer.answered_at,
                        now(),
                        review_id,
                    ),
                )
        return confirmed, changed, skipped

    def review_counts(self) -> dict[str, int]:
        """Flagged labels so far: flagged, waiting, confirmed, changed, skipped."""
        counts = dict.fromkeys(("confirmed", "changed", "skipped"), 0)
        rows = self.db.execute(
            "SELECT coalesce(outcome, 'waiting'), count(*) FROM reviews GROUP BY 1"
        )
        counts.update(dict(rows.fetchall()))
        counts.setdefault("waiting", 0)
        counts["flagged"] = sum(counts.values())
        return counts

    # -- settings ------------------------------------------------------------------------------

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def get_json(self, key: str, kind: type) -> object | None:
        """The setting ``key`` parsed as JSON of type ``kind`` (None when not set)."""
        raw = self.get(key)
        if raw is None:
            return None
        with self._damaged(f"setting '{key}'"):
            value = json.loads(raw)
            if not isinstance(value, kind):
                raise ValueError(f"not a JSON {kind.__name__}")
            return value

    def set(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    def classes(self) -> list[str] | None:
        """The class names fixed at init, in order (None in a state file from before they
        were stored)."""
        names = self.get_json(CLASSES_KEY, list)
        if names is not None and not all(isinstance(n, str) for n in names):
            with self._damaged(f"setting '{CLASSES_KEY}'"):
                raise ValueError("class names must be strings")
        return names

    def evaluation_sizes(self) -> set[int]:
        """The numbers of classes of every stored evaluation (rounds and simulation points)."""
        sizes = {len(r.evaluation.per_class_total) for r in self.rounds() if r.evaluation}
        sizes |= {len(p.evaluation.per_class_total) for p, _, _ in self.sim_points()}
        return sizes


def _seconds_apart(first: str, second: str) -> float:
    try:
        a = datetime.fromisoformat(first.replace("Z", "+00:00"))
        b = datetime.fromisoformat(second.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return abs((b - a).total_seconds())


def _json(evaluation: Evaluation | None) -> str | None:
    return None if evaluation is None else json.dumps(evaluation.to_dict())


def _evaluation(text: str | None) -> Evaluation | None:
    if text is None:
        return None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("an evaluation must be a JSON object")
    return Evaluation.from_dict(data)


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _sorted_ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})

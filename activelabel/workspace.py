"""A workspace folder: ``activelabel.toml`` + ``state.sqlite`` + caches, and its round lock."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from activelabel.config import CONFIG_NAME, Config, load_config
from activelabel.corpus.taxonomy import Taxonomy, load_taxonomy
from activelabel.errors import ActiveLabelError, ConfigError, StateError, os_problem
from activelabel.store import CLASSES_KEY, STATE_NAME, Store

LOCK_NAME = ".round.lock"


class WorkspaceBusy(ActiveLabelError):
    """Another activelabel process is running a round in this workspace."""


@dataclass
class Workspace:
    path: Path
    config: Config
    store: Store

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        path = Path(path)
        config = load_config(path)
        workspace = cls(path, config, Store.open(path / STATE_NAME))
        workspace.check_classes()
        return workspace

    def check_classes(self) -> None:
        """The class list of ``activelabel.toml`` is the one fixed at init (names and order:
        stored labels and results refer to it), and every stored label and gold label is one
        of the classes. A state file from before the list was stored adopts the config's list
        once, if its stored results have that many classes."""
        where = f"{self.path / CONFIG_NAME}"
        stored = self.store.classes()
        configured = list(self.config.taxonomy.labels)
        if stored is None:
            self._adopt_classes(where)
            return
        fix = f"taxonomy.labels = {_toml_list(stored)}"
        if not configured:
            raise ConfigError(
                f"{where}: taxonomy.labels is missing or empty, but this workspace's classes were "
                f"fixed at init ({len(stored)}); put the line back under [taxonomy]: {fix}"
            )
        if configured == stored:
            self._check_stored_labels(stored, where, fixed=True)
            return
        lost = [n for n in stored if n not in configured]
        added = [n for n in configured if n not in stored]
        if lost or added:
            differs = "; ".join(
                part
                for part in (
                    f"lacks {', '.join(map(repr, lost))}" if lost else "",
                    f"adds {', '.join(map(repr, added))}" if added else "",
                )
                if part
            )
            what = f"it {differs}"
        else:
            what = "it lists the classes in another order"
        raise ConfigError(
            f"{where}: taxonomy.labels differs from the class list fixed at init ({what}; "
            f"stored labels and results refer to that list); restore {fix} (for other "
            f"classes, init a new workspace)"
        )

    def _adopt_classes(self, where: str) -> None:
        """Store the config's class list in a state file that has none yet."""
        if not self.config.taxonomy.labels:
            raise ConfigError(
                f"{where}: taxonomy.labels is missing or empty; list the workspace's classes "
                f"under [taxonomy] as init wrote them, e.g. taxonomy.labels = "
                f"{_toml_list(self.class_names[:3])[:-1]}, ...]"
            )
        names = list(self.class_names)
        sizes = self.store.evaluation_sizes() - {len(names)}
        if sizes:
            raise ConfigError(
                f"{where}: taxonomy.labels names {len(names)} classes, but the stored results "
                f"have {min(sizes)}; restore the class list the workspace was made with"
            )
        self._check_stored_labels(names, where, fixed=False)
        with suppress(StateError):  # a read-only workspace still opens; it adopts next time
            self.store.set(CLASSES_KEY, json.dumps(names))

    def _check_stored_labels(self, names: list[str], where: str, fixed: bool) -> None:
        """Every stored label and gold label is one of ``names`` (``fixed``: the class list
        stored at init, so a stray label is damage, not an edited config)."""
        state = self.path / STATE_NAME
        stray = sorted(self.store.labels_outside(names).items())
        golds = sorted(self.store.golds_outside(names).items())
        if stray:
            label, count = stray[0]
            what = (
                f"{state} holds {count} label(s) '{label}', which is not a class of this workspace"
            )
        elif golds:
            (split, label), count = golds[0]
            what = (
                f"{state} holds {count} {split} headline(s) with the gold label '{label}', "
                f"which is not a class of this workspace"
            )
        else:
            return
        if fixed:
            raise StateError(
                f"{what} (the classes fixed at init); the state file was changed outside "
                f"activelabel: restore it from a backup (labels are never deleted)"
            )
        raise ConfigError(
            f"{what} (taxonomy.labels in {where}); add '{label}' back to taxonomy.labels "
            f"(labels are never deleted)"
        )

    @cached_property
    def taxonomy(self) -> Taxonomy:
        full = load_taxonomy(self.config.taxonomy.name)
        return full.restrict(self.config.taxonomy.labels) if self.config.taxonomy.labels else full

    @property
    def class_names(self) -> list[str]:
        return self.taxonomy.names

    @property
    def cache_dir(self) -> Path:
        path = self.path / "cache"
        path.mkdir(exist_ok=True)
        return path

    @contextmanager
    def lock(self, what: str = "a round") -> Iterator[None]:
        """Hold the workspace's lock while ``what`` (``a round``, ``a simulation``, ...) runs;
        the OS drops it when the process dies."""
        path = self.path / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"cannot take the round lock: {os_problem(exc)}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = os.read(fd, 200).decode(errors="replace").strip()
            os.close(fd)
            pid, _, doing = held.partition(" ")
            raise WorkspaceBusy(
                f"{self.path}: {doing or 'a round'} is already running (pid "
                f"{pid or 'of another process'}); wait for it to finish, then run {what} again"
            ) from None
        try:
            with suppress(OSError):  # on a full disk the lock holds; only the pid is missing
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {what}".encode(), 0)
            yield
        finally:
            with suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _toml_list(names: list[str]) -> str:
    """``names`` as a TOML array, to paste into ``activelabel.toml``."""
    return "[" + ", ".join(json.dumps(n, ensure_ascii=False) for n in names) + "]"

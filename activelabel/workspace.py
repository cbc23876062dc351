"""A workspace folder: ``activelabel.toml`` + ``state.sqlite`` + caches, and its round lock."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from activelabel.config import CONFIG_NAME, Config, load_config
from activelabel.corpus.taxonomy import Taxonomy, load_taxonomy
from activelabel.errors import ActiveLabelError, ConfigError, StateError, os_problem
from activelabel.store import STATE_NAME, Store

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
        """The taxonomy loads, and every stored label and gold label is one of the classes
        (an edited ``taxonomy.labels`` must keep the classes that have labels)."""
        names = list(self.class_names)
        where = f"taxonomy.labels in {self.path / CONFIG_NAME}"
        stray = sorted(self.store.labels_outside(names).items())
        if stray:
            label, count = stray[0]
            raise ConfigError(
                f"{self.path / STATE_NAME} holds {count} label(s) '{label}', which is not a "
                f"class of this workspace ({where}); add '{label}' back to taxonomy.labels "
                f"(labels are never deleted)"
            )
        golds = sorted(self.store.golds_outside(names).items())
        if golds:
            (split, gold), count = golds[0]
            raise ConfigError(
                f"{self.path / STATE_NAME} holds {count} {split} headline(s) with the gold label "
                f"'{gold}', which is not a class of this workspace ({where}); add '{gold}' back "
                f"to taxonomy.labels"
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
    def lock(self) -> Iterator[None]:
        """Hold the workspace's round lock; the OS drops it when the process dies."""
        path = self.path / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"cannot take the round lock: {os_problem(exc)}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise WorkspaceBusy(
                f"{self.path}: a round is already running (pid {holder}); wait for it to finish"
            ) from None
        try:
            with suppress(OSError):  # on a full disk the lock holds; only the pid is missing
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            with suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

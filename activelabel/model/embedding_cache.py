"""Sentence embeddings on disk, keyed by model and text: computed once, memory-mapped after.

One folder per model under the workspace's ``cache/embeddings/``, named after the model and a
hash of its configuration, weights, max length and pooling, so a changed model never reads old
vectors. Inside, append-only *segments*: ``NNNNNN.keys.npy`` (a 64-bit hash of each text) and
``NNNNNN.vectors.npy`` (float32 rows, memory-mapped when read), listed in ``index.json``.

A kill at any moment leaves a usable cache: data files are written under temporary names,
fsynced and renamed into place, and only then is the index (itself written the same way)
updated to list them. Files the index does not list are ignored and cleaned up by the next
writer. Writers take a file lock, so two processes can share one cache.

Texts are keyed by the first 8 bytes of their BLAKE2b hash: for a pool of 10 million texts the
chance that two collide is about 3 in a million.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import mmap
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

from activelabel.errors import ActiveLabelError
from activelabel.faults import checkpoint

FORMAT = 1
INDEX = "index.json"
POOLING = "mean-l2"  # how token states become a sentence vector; part of the key


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """The 64-bit key of each text."""
    keys = np.empty(len(texts), dtype=np.uint64)
    for i, text in enumerate(texts):
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        keys[i] = int.from_bytes(digest, "little")
    return keys


def model_fingerprint(model, model_path: str, max_length: int, prefix: str = "") -> str:
    """A hash of what decides an embedding: the model's config and weights, the max length,
    the pooling and the prefix put before each text. The path is kept in the index for people,
    not in the hash."""
    import torch

    hasher = hashlib.blake2b(digest_size=12)
    hasher.update(model.config.to_json_string(use_diff=False).encode())
    hasher.update(f"|{max_length}|{POOLING}|".encode())
    if prefix:
        hasher.update(f"prefix|{prefix}|".encode())
    for name, tensor in sorted(model.state_dict().items()):
        hasher.update(name.encode())
        array = tensor.detach().cpu().contiguous()
        hasher.update(array.view(-1).view(torch.uint8).numpy())
    return hasher.hexdigest()


def folder_name(model_path: str, fingerprint: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model_path.rstrip("/")).name)[:40] or "model"
    return f"{stem}-{fingerprint}"


class EmbeddingCache:
    """Append-only, memory-mapped store of ``(text key -> float32 vector)`` for one model."""

    def __init__(self, folder: Path, dim: int, about: dict | None = None):
        self.folder = folder
        self.dim = dim
        self.about = about or {}
        folder.mkdir(parents=True, exist_ok=True)
        self._segments: list[str] = []
        self._vectors: list[np.ndarray] = []
        self._sorted_keys = np.empty(0, dtype=np.uint64)
        self._where = np.empty((0, 2), dtype=np.int64)  # (segment, row) of each sorted key
        self.reload()

    @classmethod
    def for_model(
        cls, root: Path, model, model_path: str, max_length: int, prefix: str = ""
    ) -> EmbeddingCache:
        """The cache of ``model`` (a loaded Hugging Face encoder, reading texts after
        ``prefix``) under ``root``."""
        fingerprint = model_fingerprint(model, model_path, max_length, prefix)
        about = {"model_path": model_path, "max_length": max_length, "pooling": POOLING}
        if prefix:
            about["prefix"] = prefix
        return cls(
            root / "embeddings" / folder_name(model_path, fingerprint),
            model.config.hidden_size,
            about,
        )

    def __getstate__(self) -> dict:
        """Pickled (e.g. to a Ray worker) as its folder; the maps are reopened there."""
        return {"folder": self.folder, "dim": self.dim, "about": self.about}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["folder"], state["dim"], state["about"])

    def __len__(self) -> int:
        return len(self._sorted_keys)

    # -- reading ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the index and map every segment it lists (segments that fail to load, which a
        damaged disk could cause, are left out and their texts encoded again)."""
        segments, vectors, keys, where = [], [], [], []
        for name in self._read_index():
            try:
                segment_keys = np.load(self.folder / f"{name}.keys.npy")
                segment_vectors = np.load(self.folder / f"{name}.vectors.npy", mmap_mode="r")
            except (OSError, ValueError):
                continue
            if segment_vectors.shape != (len(segment_keys), self.dim):
                continue
            position = len(segments)
            segments.append(name)
            vectors.append(segment_vectors)
            keys.append(segment_keys.astype(np.uint64, copy=False))
            where.append(
                np.column_stack(
                    [np.full(len(segment_keys), position), np.arange(len(segment_keys))]
                )
            )
        self._segments, self._vectors = segments, vectors
        if keys:
            all_keys = np.concatenate(keys)
            order = np.argsort(all_keys, kind="stable")
            self._sorted_keys = all_keys[order]
            self._where = np.concatenate(where)[order]
        else:
            self._sorted_keys = np.empty(0, dtype=np.uint64)
            self._where = np.empty((0, 2), dtype=np.int64)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, found)``: an ``(n, dim)`` float32 array with the cached rows filled and a
        boolean mask of the keys that were found."""
        vectors = np.zeros((len(keys), self.dim), dtype=np.float32)
        if not len(self._sorted_keys) or not len(keys):
            return vectors, np.zeros(len(keys), dtype=bool)
        position = np.searchsorted(self._sorted_keys, keys)
        position = np.minimum(position, len(self._sorted_keys) - 1)
        found = self._sorted_keys[position] == keys
        where = self._where[position[found]]
        rows = np.flatnonzero(found)
        for segment in np.unique(where[:, 0]):
            mine = where[:, 0] == segment
            order = np.argsort(where[mine, 1], kind="stable")  # sequential reads of the map
            source_rows = where[mine, 1][order]
            mapped = self._vectors[segment]
            vectors[rows[mine][order]] = mapped[source_rows]
            _release(mapped)
        return vectors, found

    # -- writing ---------------------------------------------------------------------------------

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Store ``vectors`` (one row per key) as a new segment; durable when this returns."""
        if not len(keys):
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected {(len(keys), self.dim)} vectors, got {vectors.shape}")
        try:
            with self._locked():
                listed = self._read_index()
                self._remove_unlisted(listed)
                name = f"{_next_number(listed):06d}"
                keys = np.asarray(keys, dtype=np.uint64)
                _write_durably(self.folder / f"{name}.keys.npy", keys)
                checkpoint("cache-data")
                _write_durably(self.folder / f"{name}.vectors.npy", vectors)
                checkpoint("cache-index")
                self._write_index([*listed, name])
        except OSError as exc:
            with suppress(OSError), self._locked():
                self._remove_unlisted(self._read_index())  # what this write left half-done
            raise ActiveLabelError(self._write_problem(exc)) from exc
        self.reload()

    def _write_problem(self, exc: OSError) -> str:
        """Why the cache could not be written, on one line (numpy reports a full disk as
        ``N requested and M written``, without an errno)."""
        import shutil

        detail = " ".join((exc.strerror or str(exc)).split())
        try:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT) or (
                shutil.disk_usage(self.folder).free < 1 << 20
            )
        except OSError:
            full = False
        if full:
            advice = "the disk is full; free some space and run the command again"
        elif exc.errno == errno.EROFS:
            advice = "the folder is read-only; copy the workspace to a writable folder"
        elif exc.errno in (errno.EACCES, errno.EPERM):
            advice = "permission denied; make the folder writable for this user"
        else:
            advice = "check the disk, then run the command again"
        return (
            f"{self.folder}: cannot write the embedding cache ({detail}); {advice} (the cache "
            f"can also be deleted: it is computed again; nothing else was changed)"
        )

    def _read_index(self) -> list[str]:
        path = self.folder / INDEX
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # unreadable: the cache starts again (embeddings can always be recomputed)
        if data.get("format") != FORMAT or data.get("dim") != self.dim:
            return []
        return [str(s) for s in data.get("segments", [])]

    def _write_index(self, segments: list[str]) -> None:
        data = {"format": FORMAT, "dim": self.dim, **self.about, "segments": segments}
        payload = json.dumps(data, indent=1).encode()
        _replace_durably(self.folder / INDEX, lambda handle: handle.write(payload))

    def _remove_unlisted(self, listed: list[str]) -> None:
        """Delete what a killed writer left: temporary files and segments never indexed."""
        keep = set(listed)
        for path in self.folder.iterdir():
            name = path.name
            stale_temp = ".tmp-" in name
            segment = name.split(".", 1)[0]
            unlisted = name.endswith(".npy") and segment not in keep
            if stale_temp or unlisted:
                path.unlink(missing_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.folder / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _release(mapped: np.ndarray) -> None:
    """Drop the mapped pages just read from this process's resident memory (they stay in the
    page cache): streaming a million cached rows must not grow the process by their size."""
    handle = getattr(mapped, "_mmap", None)
    if handle is not None and hasattr(mmap, "MADV_DONTNEED"):
        handle.madvise(mmap.MADV_DONTNEED)


def _next_number(listed: list[str]) -> int:
    return max((int(s) for s in listed if s.isdigit()), default=0) + 1


def _write_durably(path: Path, array: np.ndarray) -> None:
    _replace_durably(path, lambda handle: np.save(handle, array, allow_pickle=False))


def _replace_durably(path: Path, write) -> None:
    """Write to a temporary file, fsync it, rename it over ``path``, fsync the folder."""
    temp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with temp.open("wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)

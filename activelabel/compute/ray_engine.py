"""Pool scoring on Ray: Ray Data ``map_batches`` over a pool of actors, each of which receives
the round's classifier once (the model is loaded once per worker) and predicts batches of
texts on its CPU or GPU. Only this module imports ``ray`` (``pip install activelabel[ray]``).

The driver streams the pool from the store into Ray's object store chunk by chunk and gets back
probabilities (and embeddings where asked) with each chunk's ids; ``score_pool`` places rows by
position, so the outcome is the local engine's whatever order the workers finish in. In frozen
mode the workers read and fill the workspace's embedding cache, which needs the workspace on
storage every node sees (on a single machine it always is).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from activelabel.compute.stream import Predict
from activelabel.errors import ConfigError
from activelabel.model.base import Prediction

BATCH_SIZE = 1024  # texts per map_batches call


def connect(address: str):
    """Ray, connected to ``address`` (unless this process is connected already)."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "compute.engine = 'ray' needs Ray: pip install 'activelabel[ray]'"
        ) from None
    if not ray.is_initialized():
        options = {"log_to_driver": False, "include_dashboard": False}
        try:
            ray.init(address=address, **options)  # "local" always starts a new local instance
        except (ConnectionError, RuntimeError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:200]
            raise ConfigError(
                f"compute.address '{address}': cannot connect to Ray ({reason}); start the "
                f"cluster ('ray start --head') or set compute.address = 'local'"
            ) from None
    return ray


class _Worker:
    """A Ray Data actor: unpacks the classifier once, then predicts batches of texts."""

    def __init__(self, packed: list, embeddings: bool, gpu: bool):
        import ray
        import torch

        from activelabel.model.encoder import set_threads

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        set_threads()
        self.classifier = ray.get(packed[0])
        self.embeddings = embeddings
        if gpu:
            _move(self.classifier, torch.device("cuda"))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        prediction = self.classifier.predict(texts, embeddings=self.embeddings)
        return {
            "row": batch["row"],
            "probabilities": prediction.probabilities,
            "embeddings": prediction.embeddings,
        }


def _move(classifier, device) -> None:
    """Put the classifier's models on ``device``, once per worker."""
    for holder in (classifier, getattr(classifier, "_encoder", None)):
        if holder is not None and getattr(holder, "model", None) is not None:
            holder.model.to(device)
            holder.device = device


def ray_predict(
    classifier,
    address: str = "local",
    workers: int = 2,
    gpus_per_worker: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> Predict:
    """A ``Predict`` for ``score_pool`` that runs on Ray."""
    ray = connect(address)
    import pyarrow as pa

    packed = [ray.put(classifier)]

    def predict(pieces: Iterable[tuple[int, list[str]]], embeddings: bool) -> Iterator[tuple]:
        refs = []
        for start, texts in pieces:
            rows = np.arange(start, start + len(texts), dtype=np.int64)
            refs.append(ray.put(pa.table({"row": rows, "text": pa.array(texts, pa.string())})))
        if not refs:
            return
        dataset = ray.data.from_arrow_refs(refs).map_batches(
            _Worker,
            batch_size=BATCH_SIZE,
            batch_format="numpy",
            fn_constructor_args=(packed, embeddings, gpus_per_worker > 0),
            concurrency=workers,
            num_cpus=1 if gpus_per_worker == 0 else 0,
            num_gpus=gpus_per_worker or None,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            rows = np.asarray(batch["row"], dtype=np.int64)
            prediction = Prediction(
                np.asarray(batch["probabilities"], dtype=np.float32),
                np.asarray(batch["embeddings"], dtype=np.float32).reshape(len(rows), -1),
            )
            if progress:
                progress(len(rows))
            yield rows, prediction

    return predict

"""Where the pool is scored: in this process (``local``) or on Ray (``ray``), chunk by chunk,
keeping arrays only (see ``stream``)."""

from __future__ import annotations

from collections.abc import Callable

from activelabel.compute.stream import (
    CHUNK_SIZE,
    SAMPLE_SIZE,
    Predict,
    ScoredPool,
    local_predict,
    score_pool,
)
from activelabel.config import ComputeConfig


def pool_predictor(
    compute: ComputeConfig, classifier, progress: Callable[[int], None] | None = None
) -> Predict:
    """What scores the pool's chunks for ``classifier``, as ``[compute]`` says."""
    if compute.engine == "ray":
        from activelabel.compute.ray_engine import ray_predict  # Ray only where it is asked for

        return ray_predict(
            classifier, compute.address, compute.workers, compute.gpus_per_worker, progress
        )
    return local_predict(classifier, progress)


__all__ = [
    "CHUNK_SIZE",
    "SAMPLE_SIZE",
    "Predict",
    "ScoredPool",
    "local_predict",
    "pool_predictor",
    "score_pool",
]

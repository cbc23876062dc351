"""Random sampling: the baseline every other strategy is compared with."""

from __future__ import annotations

import numpy as np

from activelabel.strategies._common import batch_size
from activelabel.strategies.base import Need, PoolView, QueryStrategy, Reason

RANDOM_REASON = Reason(
    "random", "Picked at random: the baseline that shows what active learning gains."
)


class RandomSampling(QueryStrategy):
    """``n`` candidates drawn uniformly without replacement from ``rng``.

    Own code rather than small-text's ``RandomSampling``, which draws from the global
    ``np.random`` and so ignores the ``rng`` it would be given.
    """

    name = "random"
    needs: frozenset[Need] = frozenset()

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        n = batch_size(pool, n)
        return rng.permutation(pool.size)[:n].astype(np.int64)

    def reasons(self, pool: PoolView, rows: np.ndarray) -> list[Reason]:
        return [RANDOM_REASON for _ in rows]

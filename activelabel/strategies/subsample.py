"""Pool subsampling: run an expensive strategy on a random part of a large pool."""

from __future__ import annotations

import numpy as np

from activelabel.strategies._common import batch_size
from activelabel.strategies.base import PoolView, QueryStrategy, Reason


class Subsampled(QueryStrategy):
    """Draw ``max(size, n)`` candidates at random, then let ``base`` choose among them.

    Same idea as small-text's ``SubsamplingQueryStrategy``, which draws from the global
    ``np.random``; here the draw comes from ``rng``.
    """

    def __init__(self, base: QueryStrategy, size: int = 4096) -> None:
        self.base = base
        self.size = size
        self.name = f"subsample({base.name})"
        self.needs = base.needs

    def select(self, pool: PoolView, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.select_with_reasons(pool, n, rng)[0]

    def select_with_reasons(
        self, pool: PoolView, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[Reason]]:
        n = batch_size(pool, n)
        draw = max(self.size, n)
        if pool.size <= draw:
            return self.base.select_with_reasons(pool, n, rng)
        rows = np.sort(rng.choice(pool.size, size=draw, replace=False))
        picks, reasons = self.base.select_with_reasons(pool.subset(rows), n, rng)
        return rows[picks].astype(np.int64), reasons

    def __repr__(self) -> str:
        return f"Subsampled({self.base!r}, size={self.size})"

"""A seeded, stratified test split."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: list[str | None], test_size: int, seed: int) -> np.ndarray:
    """Indices of ``test_size`` records drawn per label in proportion to its share.

    Records without a label can never go to the test set.
    """
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        if label is not None:
            by_label.setdefault(label, []).append(index)
    total = sum(len(v) for v in by_label.values())
    if total == 0 or test_size <= 0:
        return np.empty(0, dtype=np.int64)
    test_size = min(test_size, total)
    names = sorted(by_label)
    exact = np.array([len(by_label[n]) * test_size / total for n in names])
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota), kind="stable")[: test_size - quota.sum()]:
        quota[i] += 1
    chosen = [rng.permutation(by_label[n])[:q] for n, q in zip(names, quota, strict=True)]
    return np.sort(np.concatenate(chosen)).astype(np.int64)

"""What a classifier returns for a batch of texts: light, so code that only carries
predictions (the pool stream, exports) does not load torch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Prediction:
    probabilities: np.ndarray  # (n, n_classes)
    embeddings: np.ndarray  # (n, dim), L2-normalised sentence embeddings

"""Model settings, as read from the ``[model]`` table of the workspace file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    model_path: str
    mode: str = "finetune"  # "finetune" or "frozen"
    epochs: int = 6
    min_steps: int = 60  # tiny labelled sets still get this many optimiser steps
    learning_rate: float = 5e-5
    head_lr_multiplier: float = 20.0  # the new head learns faster than the pre-trained encoder
    batch_size: int = 16
    predict_batch_size: int = 128
    max_length: int | None = None  # None: fitted to the corpus (99.5th percentile of tokens)
    dropout: float = 0.1
    train_word_embeddings: bool = False  # fine-tune the token embedding table too (slower)
    class_weight: str = "balanced"  # "balanced" or "none"
    regularisation_c: float = 1.0  # inverse L2 strength of the frozen mode's logistic head
    device: str = "auto"

"""Model settings, as read from the ``[model]`` table of the workspace file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    model_path: str
    mode: str = "finetune"  # a name in activelabel.model.registry.MODES
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
    # topic descriptions as training examples (frozen, setfit head, finetune); weight of each,
    # 0: off; and the frozen mode's pseudo-labels from the pool
    topic_weight: float = 10.0
    # frozen: a topic's description keeps about half its class's weight until the topic has
    # about this many labels (0: every description weighs topic_weight)
    topic_keep_labels: int = 0
    # frozen: the class mix the head's prior is corrected to after training: "none", "balanced"
    # (every topic equally) or "test" (the labelled test set's mix, in target_shares)
    prior: str = "none"
    target_shares: tuple[float, ...] | None = None  # filled from the test set for prior "test"
    # a topic's vector: its keywords' mean, or "prompt"; read where the taxonomy's topics become
    # a classifier's descriptions (engine.training), not by the classifiers
    topic_vectors: str = "keywords"
    pseudo_labels: str = "self-training"  # "self-training", "spreading" or "none"
    pseudo_per_class: int = 100  # pseudo-labels per class and pass (before shares)
    # where a class's quota would take over half the rows predicted as it, all quotas shrink
    # by one factor, never below this one (1: they never shrink)
    pseudo_min_scale: float = 0.5
    pseudo_passes: int = 2  # self-training passes
    # "predicted" (the model's class shares), "mixed", "balanced", or "cv" (chosen per fit by
    # cross-validation on the labels, auto_folds folds)
    pseudo_shares: str = "mixed"
    pseudo_weight: float = 1.0  # weight of each pseudo-labelled example
    pseudo_pool: int = 20000  # most unlabelled items looked at per fit (a seeded sample)
    device: str = "auto"
    # finetune: per class, the frozen teacher's most confident pool items as extra examples
    # (off: no gain at 120 BBC labels for 3x the training time; benchmarks/bench_learners.py)
    teacher_pseudo_labels: int = 0
    pseudo_label_weight: float = 0.5
    # setfit: contrastive pairs per labelled headline, at most max_pairs in all
    setfit_iterations: int = 20
    setfit_max_pairs: int = 800
    setfit_learning_rate: float = 2e-5
    # auto: cross-validation folds; setfit is a candidate up to, finetune from, these counts
    auto_folds: int = 3
    auto_setfit_max_labels: int = 300
    auto_finetune_min_labels: int = 800
    text_prefix: str = ""  # put before every text the encoder reads (a preset's convention)
    cache_dir: str | None = None  # where pre-trained embeddings are cached on disk; None: memory

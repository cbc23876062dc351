"""Model settings, each declared once: its default, its check and the one-line requirement a
wrong value is told. The workspace file's ``[model]`` table (``config.ModelConfig``), its
validation and the classifiers' settings all derive from the declarations here, so adding a
knob the user can set is one ``knob(...)`` line (plus its documentation).

Light on purpose (no torch): ``config`` and the command line import it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from activelabel.model.names import MODE_NAMES, TOPIC_VECTORS

CLASS_WEIGHTS = ("balanced", "none")
DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")
PSEUDO_LABELS = ("self-training", "spreading", "none")
PSEUDO_SHARES = ("predicted", "mixed", "balanced", "cv")
PRIORS = ("lift", "test", "balanced", "none")
PRIOR_ESTIMATES = ("probabilities", "decisions", "geometric")


@dataclass(frozen=True)
class Rule:
    """What a value must satisfy, and how an error message says so."""

    check: Callable[[Any], bool]
    requirement: str  # completes "model.KEY ...", e.g. "must be at least 1"


def one_of(names: tuple[str, ...]) -> Rule:
    return Rule(lambda v: v in names, f"must be one of {', '.join(names)}")


def at_least(low: int) -> Rule:
    return Rule(lambda v: v >= low, "must be at least 1" if low == 1 else f"must be {low} or more")


def positive(example: str) -> Rule:
    return Rule(lambda v: 0 < v < math.inf, f"must be a positive number, e.g. {example}")


def knob(default: Any, rule: Rule) -> Any:
    """A setting of the workspace file's ``[model]`` table: its default and its rule."""
    return field(default=default, metadata={"rule": rule})


@dataclass(frozen=True)
class ModelSettings:
    model_path: str
    # -- the workspace file's [model] table, in file order ----------------------------------
    mode: str = knob("frozen", one_of(MODE_NAMES))
    epochs: int = knob(6, at_least(1))
    # tiny labelled sets still get this many optimiser steps
    min_steps: int = knob(60, at_least(0))
    learning_rate: float = knob(5e-5, positive("5e-5"))
    batch_size: int = knob(16, at_least(1))
    # 0: fitted to the corpus (99.5th percentile of tokens)
    max_length: int = knob(0, Rule(lambda v: v >= 0, "must be 0 (auto) or positive"))
    class_weight: str = knob("balanced", one_of(CLASS_WEIGHTS))
    device: str = knob(
        "auto",
        Rule(
            lambda v: DEVICE.fullmatch(v) is not None,
            "must be auto, cpu, cuda, cuda:N (a GPU number) or mps",
        ),
    )
    # topic descriptions as training examples (frozen, setfit head, finetune): weight of each
    topic_weight: float = knob(
        10.0,
        Rule(
            lambda v: 0 <= v < math.inf,
            "must be 0 (descriptions not used) or a positive number, e.g. 10",
        ),
    )
    # frozen: a topic's description keeps about half its class's weight until the topic has
    # about this many labels (0: every description weighs topic_weight)
    topic_keep_labels: int = knob(
        0,
        Rule(
            lambda v: v >= 0,
            "must be 0 (descriptions weigh topic_weight) or a whole number of labels, e.g. 10",
        ),
    )
    # frozen: after training, the head's bias moves from the class mix it predicts on the pool
    # towards a target: "lift" raises each topic it predicts less often than the labelled test
    # set holds it to the test set's share and lowers none, "test" moves every topic to the
    # test set's mix, "balanced" to even topics, "none" leaves it (target_shares: the test mix)
    prior: str = knob("lift", one_of(PRIORS))
    # what the prior takes as the mix the head predicts on the pool: the mean of its
    # probabilities, the share of rows it decides for each topic (add-one smoothed), or the
    # geometric mean of the two
    prior_estimate: str = knob("probabilities", one_of(PRIOR_ESTIMATES))
    # a topic's vector: its keywords' mean, or "prompt"; read where the taxonomy's topics become
    # a classifier's descriptions (engine.training), not by the classifiers
    topic_vectors: str = knob("keywords", one_of(TOPIC_VECTORS))
    # the frozen mode's pseudo-labels from the pool
    pseudo_labels: str = knob("self-training", one_of(PSEUDO_LABELS))
    pseudo_per_class: int = knob(100, at_least(1))  # per class and pass (before shares)
    # where a class's quota would take over half the rows predicted as it, all quotas shrink
    # by one factor, never below this one (1: they never shrink)
    pseudo_min_scale: float = knob(
        0.5,
        Rule(lambda v: 0 < v <= 1, "must be above 0 and at most 1 (1: quotas never shrink)"),
    )
    pseudo_passes: int = knob(2, at_least(1))  # self-training passes
    # "predicted" (the model's class shares), "mixed", "balanced", or "cv" (chosen per fit by
    # cross-validation on the labels, auto_folds folds)
    pseudo_shares: str = knob("mixed", one_of(PSEUDO_SHARES))
    pseudo_weight: float = knob(1.0, positive("1"))  # weight of each pseudo-labelled example
    # most unlabelled items looked at per fit (a seeded sample)
    pseudo_pool: int = knob(20000, at_least(1))
    # -- set by code (benchmarks, tests), not by the workspace file --------------------------
    head_lr_multiplier: float = 20.0  # the new head learns faster than the pre-trained encoder
    predict_batch_size: int = 128
    dropout: float = 0.1
    train_word_embeddings: bool = False  # fine-tune the token embedding table too (slower)
    regularisation_c: float = 1.0  # inverse L2 strength of the frozen mode's logistic head
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
    # pre-trained embeddings minus the corpus's mean embedding, then unit length (a preset's)
    centre_embeddings: bool = False
    target_shares: tuple[float, ...] | None = None  # filled from the test set for prior "test"
    cache_dir: str | None = None  # where pre-trained embeddings are cached on disk; None: memory


def file_knobs() -> dict[str, Any]:
    """The settings of the workspace file's ``[model]`` table: name -> the dataclass field."""
    return {f.name: f for f in fields(ModelSettings) if "rule" in f.metadata}


def problems(values: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(name, value, requirement) of each value its knob's rule refuses, in file order."""
    knobs = file_knobs()
    return [
        (name, values[name], f.metadata["rule"].requirement)
        for name, f in knobs.items()
        if name in values and not f.metadata["rule"].check(values[name])
    ]

"""Names the workspace file may hold for model settings: light, so ``config`` and the command
line can validate and offer them without loading torch."""

from __future__ import annotations

#: each model mode and how reports and notes name it; ``model.registry.MODES`` maps each mode
#: to its classifier
MODE_LABELS = {
    "frozen": "frozen encoder + logistic head",
    "finetune": "fine-tuned encoder",
    "setfit": "SetFit (contrastive fine-tuning + logistic head)",
    "auto": "model chosen per step by cross-validation",
}
MODE_NAMES = tuple(sorted(MODE_LABELS))
#: how a topic's vector is built from its description (``activelabel.model.prior``)
TOPIC_VECTORS = ("keywords", "prompt")


def mode_label(mode: str) -> str:
    """Human words for a mode, e.g. ``"frozen"`` -> ``"frozen encoder + logistic head"``."""
    return MODE_LABELS.get(mode, mode)

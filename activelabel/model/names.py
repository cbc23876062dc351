"""Names the workspace file may hold for model settings: light, so ``config`` and the command
line can validate and offer them without loading torch."""

from __future__ import annotations

#: model modes; ``activelabel.model.registry.MODES`` maps each to its classifier
MODE_NAMES = ("auto", "finetune", "frozen", "setfit")
#: how a topic's vector is built from its description (``activelabel.model.prior``)
TOPIC_VECTORS = ("keywords", "prompt")

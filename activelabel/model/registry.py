"""Model modes by name: adding a mode is one module plus one line here and
one in ``model.names``."""

from __future__ import annotations

from activelabel.model.auto import AutoClassifier
from activelabel.model.base import TextClassifier, TopicsArg
from activelabel.model.finetune import FineTunedClassifier
from activelabel.model.frozen import FrozenClassifier
from activelabel.model.setfit import SetFitClassifier
from activelabel.model.settings import ModelSettings

MODES: dict[str, type[TextClassifier]] = {
    "auto": AutoClassifier,
    "finetune": FineTunedClassifier,
    "frozen": FrozenClassifier,
    "setfit": SetFitClassifier,
}


def make_classifier(
    mode: str,
    n_classes: int,
    settings: ModelSettings,
    seed: int = 0,
    topics: TopicsArg = (),
) -> TextClassifier:
    """A classifier of ``mode``; ``topics`` holds one description per class, or nothing."""
    return MODES[mode](n_classes, settings, seed, topics)

"""Encoders and classifiers: fine-tuned or frozen, with one fit/predict contract.

The names below load on first use, so that importing ``activelabel.model.settings`` or
``activelabel.model.names`` does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from activelabel.lazy import lazy_attributes

_WHERE = {
    "DEFAULT_MODEL": "encoder",
    "MODES": "registry",
    "FineTunedClassifier": "finetune",
    "FrozenClassifier": "frozen",
    "FrozenEncoder": "frozen",
    "ModelSettings": "settings",
    "Prediction": "prediction",
    "TextClassifier": "base",
    "TopicDescription": "base",
    "class_weights": "base",
    "make_classifier": "registry",
    "pretrained_encoder": "frozen",
    "resolve_model": "encoder",
    "topic_descriptions": "prior",
}

__all__ = [
    "DEFAULT_MODEL",
    "FineTunedClassifier",
    "FrozenClassifier",
    "FrozenEncoder",
    "MODES",
    "ModelSettings",
    "Prediction",
    "TextClassifier",
    "TopicDescription",
    "class_weights",
    "make_classifier",
    "pretrained_encoder",
    "resolve_model",
    "topic_descriptions",
]

if TYPE_CHECKING:
    from activelabel.model.base import TextClassifier, TopicDescription, class_weights
    from activelabel.model.encoder import DEFAULT_MODEL, resolve_model
    from activelabel.model.finetune import FineTunedClassifier
    from activelabel.model.frozen import FrozenClassifier, FrozenEncoder, pretrained_encoder
    from activelabel.model.prediction import Prediction
    from activelabel.model.prior import topic_descriptions
    from activelabel.model.registry import MODES, make_classifier
    from activelabel.model.settings import ModelSettings


__getattr__ = lazy_attributes(__name__, _WHERE)

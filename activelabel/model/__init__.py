"""Encoders and classifiers: fine-tuned or frozen, with one fit/predict contract."""

from activelabel.model.base import Prediction, TextClassifier, TopicDescription, class_weights
from activelabel.model.encoder import DEFAULT_MODEL, resolve_model
from activelabel.model.finetune import FineTunedClassifier
from activelabel.model.frozen import FrozenClassifier, FrozenEncoder, pretrained_encoder
from activelabel.model.prior import topic_descriptions
from activelabel.model.registry import MODES, make_classifier
from activelabel.model.settings import ModelSettings

__all__ = [
    "DEFAULT_MODEL",
    "MODES",
    "FineTunedClassifier",
    "FrozenClassifier",
    "FrozenEncoder",
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

"""Encoders and classifiers: fine-tuned or frozen, with one fit/predict contract."""

from activelabel.model.classifier import (
    MODES,
    FineTunedClassifier,
    FrozenClassifier,
    FrozenEncoder,
    Prediction,
    TextClassifier,
    make_classifier,
)
from activelabel.model.encoder import DEFAULT_MODEL, resolve_model
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
    "make_classifier",
    "resolve_model",
]

"""Annotator backends behind one contract: oracle (gold labels) and Label Studio."""

from __future__ import annotations

from typing import TYPE_CHECKING

from activelabel.lazy import lazy_attributes

_WHERE = {
    "ANNOTATORS": "registry",
    "Annotator": "base",
    "BatchItem": "base",
    "OracleAnnotator": "oracle",
    "Pulled": "base",
    "make_annotator": "registry",
}

__all__ = [
    "ANNOTATORS",
    "Annotator",
    "BatchItem",
    "OracleAnnotator",
    "Pulled",
    "make_annotator",
]

if TYPE_CHECKING:
    from activelabel.annotators.base import Annotator, BatchItem, Pulled
    from activelabel.annotators.oracle import OracleAnnotator
    from activelabel.annotators.registry import ANNOTATORS, make_annotator

__getattr__ = lazy_attributes(__name__, _WHERE)

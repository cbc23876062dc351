"""Annotator backends behind one contract: oracle (gold labels) and Label Studio."""

from activelabel.annotators.base import Annotator, BatchItem, Pulled
from activelabel.annotators.oracle import OracleAnnotator
from activelabel.annotators.registry import ANNOTATORS, make_annotator

__all__ = ["ANNOTATORS", "Annotator", "BatchItem", "OracleAnnotator", "Pulled", "make_annotator"]

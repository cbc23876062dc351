"""Annotator backends behind one contract: oracle (gold labels) and Label Studio."""

from activelabel.annotators.base import Annotator, BatchItem, Pulled
from activelabel.annotators.oracle import OracleAnnotator

__all__ = ["Annotator", "BatchItem", "OracleAnnotator", "Pulled"]

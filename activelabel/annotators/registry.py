"""Annotator backends by name: adding one is one module plus one line here.

Each entry is ``"module:Class"``, imported only when used (Label Studio's SDK stays out of
oracle runs); the class builds itself for a workspace with ``for_workspace(ws)``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from activelabel.annotators.base import Annotator
    from activelabel.workspace import Workspace

ANNOTATORS: dict[str, str] = {
    "oracle": "activelabel.annotators.oracle:OracleAnnotator",
    "labelstudio": "activelabel.integrations.labelstudio.annotator:LabelStudioAnnotator",
}


def make_annotator(ws: Workspace, name: str | None = None) -> Annotator:
    """The workspace's annotator (``loop.annotator``), or the one named."""
    module, attribute = ANNOTATORS[name or ws.config.loop.annotator].split(":")
    return getattr(import_module(module), attribute).for_workspace(ws)

"""The one round engine: train on labels, build the view a strategy declares, select.

``activelabel round``, ``simulate``, ``serve`` and ``export`` all train and select through this
package, so a simulated learning curve is the curve of what a live round would do.
"""

from activelabel.engine.data import StreamedPool
from activelabel.engine.selection import (
    Pick,
    SeenRecall,
    pick,
    select_batch,
    selection_rng,
)
from activelabel.engine.training import Trainer, train_on_workspace
from activelabel.engine.view import build_view
from activelabel.progress import Phase, silent

__all__ = [
    "Phase",
    "Pick",
    "SeenRecall",
    "StreamedPool",
    "Trainer",
    "build_view",
    "pick",
    "select_batch",
    "selection_rng",
    "silent",
    "train_on_workspace",
]

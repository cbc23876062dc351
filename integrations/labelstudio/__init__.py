"""Label Studio integration: run a local server, set up the project, push headlines, pull labels.

Modules, one job each:

- :mod:`.server`: install, start, check and stop a local Label Studio server (own venv);
- :mod:`.client`: :func:`connect` (checks the server and the token once) and safe retries;
- :mod:`.project`: the labelling interface (XML) and :func:`ensure_project`;
- :mod:`.tasks`: :func:`push_batch` (idempotent import of headlines with predictions);
- :mod:`.pull`: :func:`pull_annotations` (all annotations, resolved to one label per item);
- :mod:`.resolve`: the pure majority/tie/skip/invalid rules;
- :mod:`.errors`: :class:`~activelabel.errors.AnnotatorError` subclasses with actionable messages.

Nothing here reads or writes workspace state: functions take and return plain data.
"""

from .client import call, client_url, connect
from .errors import (
    LabelStudioAuthError,
    LabelStudioError,
    LabelStudioNotFoundError,
    LabelStudioRequestError,
    LabelStudioServerError,
    LabelStudioSetupError,
    LabelStudioUnavailableError,
)
from .project import CHOICES_NAME, TEXT_NAME, config_topics, ensure_project, label_config
from .pull import PullResult, pull_annotations
from .resolve import Annotation, InvalidAnnotation, Resolution, extract_choices, resolve_item
from .server import (
    ServerInfo,
    default_venv,
    find_free_port,
    install_label_studio,
    is_label_studio_process,
    label_studio_executable,
    server_alive,
    start_server,
    stop_server,
)
from .tasks import ID_KEY, PushItem, TaskRef, existing_task_ids, list_tasks, push_batch

__all__ = [
    "Annotation",
    "CHOICES_NAME",
    "ID_KEY",
    "InvalidAnnotation",
    "LabelStudioAuthError",
    "LabelStudioError",
    "LabelStudioNotFoundError",
    "LabelStudioRequestError",
    "LabelStudioServerError",
    "LabelStudioSetupError",
    "LabelStudioUnavailableError",
    "PullResult",
    "PushItem",
    "Resolution",
    "ServerInfo",
    "TEXT_NAME",
    "TaskRef",
    "call",
    "client_url",
    "config_topics",
    "connect",
    "default_venv",
    "ensure_project",
    "existing_task_ids",
    "extract_choices",
    "find_free_port",
    "install_label_studio",
    "is_label_studio_process",
    "label_config",
    "label_studio_executable",
    "list_tasks",
    "pull_annotations",
    "push_batch",
    "resolve_item",
    "server_alive",
    "start_server",
    "stop_server",
]

"""The Label Studio project: labelling interface (XML config) and find-or-create."""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from label_studio_sdk import LabelStudio

from .client import call
from .errors import LabelStudioError, LabelStudioNotFoundError

__all__ = [
    "TEXT_NAME",
    "CHOICES_NAME",
    "GUESS_KEY",
    "WHY_KEY",
    "QUEUE_SAMPLING",
    "hotkeys",
    "label_config",
    "config_topics",
    "ensure_project",
]

#: name of the ``<Text>`` tag that shows the headline (task data key ``text``)
TEXT_NAME = "text"
#: name of the ``<Choices>`` tag; annotation results carry it as ``from_name``
CHOICES_NAME = "topic"
#: task data keys of the model's guess and of why the headline was picked (shown as headers)
GUESS_KEY = "guess"
WHY_KEY = "why"

#: Label Studio's queue: tasks with a prediction of the project's model version come first,
#: least sure first (the newest model's uncertainty order), the rest at random after them
QUEUE_SAMPLING = "Uncertainty sampling"

_HOTKEYS = [str(d) for d in range(1, 10)] + list(string.ascii_lowercase)


def hotkeys(n: int) -> list[str]:
    """Hotkeys for ``n`` choices: 1-9, then a-z (more than 35 choices get none)."""
    return [_HOTKEYS[i] if i < len(_HOTKEYS) else "" for i in range(n)]


def _check_topics(topics: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    checked: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in topics:
        try:
            name, description = entry
        except (TypeError, ValueError):
            raise LabelStudioError(
                f"topic {entry!r} is not a (name, description) pair: fix the taxonomy"
            ) from None
        name = str(name).strip()
        if not name:
            raise LabelStudioError("a topic has an empty name: fix the taxonomy")
        if name in seen:
            raise LabelStudioError(f"topic {name!r} appears twice: fix the taxonomy")
        seen.add(name)
        checked.append((name, " ".join(str(description or "").split())))
    if len(checked) < 2:
        raise LabelStudioError("a taxonomy needs at least two topics: fix the taxonomy")
    return checked


def label_config(topics: Sequence[tuple[str, str]]) -> str:
    """Label Studio XML for single-choice topic classification of a headline.

    Above the topics, two lines come from the task's data: the model's guess with its
    confidence (``guess``) and why the headline was picked (``why``). ``topics`` is a list of
    ``(name, description)``. Each topic becomes a radio choice with a
    hotkey (1-9, then a-z) and its description as hover hint; below the choices, a legend lists
    every topic with its hotkey and description.
    """
    checked = _check_topics(topics)
    keys = hotkeys(len(checked))
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="Headline")
    ET.SubElement(view, "Text", name=TEXT_NAME, value=f"${TEXT_NAME}")
    model = ET.SubElement(view, "View", className="al-model")
    ET.SubElement(model, "Header", value=f"${GUESS_KEY}", size="6", underline="false")
    ET.SubElement(model, "Header", value=f"${WHY_KEY}", size="6", underline="false")
    ET.SubElement(view, "Header", value="Topic: pick one (Submit keeps the selected one)")
    choices = ET.SubElement(
        view,
        "Choices",
        name=CHOICES_NAME,
        toName=TEXT_NAME,
        choice="single-radio",
        required="true",
        requiredMessage=(
            "No topic is selected. Pressing the key of the selected topic clears it: press it "
            "again, pick another topic, or skip the task if none fits"
        ),
        showInline="false",
    )
    for (name, description), key in zip(checked, keys, strict=True):
        attrs = {"value": name}
        if key:
            attrs["hotkey"] = key
        if description:
            attrs["hint"] = description
        ET.SubElement(choices, "Choice", attrs)
    # Label Studio renders every <Header> alike; a small style keeps the legend compact
    style = ET.SubElement(view, "Style")
    style.text = (
        ".al-legend h4 { font-size: 13px !important; font-weight: normal !important; "
        "margin: 2px 0 !important; line-height: 1.35 !important; } "
        ".al-model h4 { font-size: 15px !important; font-weight: normal !important; "
        "margin: 4px 0 !important; line-height: 1.4 !important; color: #444 !important; }"
    )
    legend = ET.SubElement(view, "View", className="al-legend", style="margin-top: 1em")
    ET.SubElement(legend, "Header", value="What the topics mean:", size="6")
    for (name, description), key in zip(checked, keys, strict=True):
        line = f"[{key}] {name}" if key else name
        if description:
            line += f": {description}"
        ET.SubElement(legend, "Header", value=line, size="6", underline="false")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def config_topics(config: str) -> list[str]:
    """The choice values of the ``topic`` choices in a label config (for change detection)."""
    try:
        root = ET.fromstring(config)
    except ET.ParseError:
        return []
    for node in root.iter("Choices"):
        if node.get("name") == CHOICES_NAME:
            return [c.get("value", "") for c in node.iter("Choice")]
    return []


def ensure_project(
    client: LabelStudio,
    title: str,
    topics: Sequence[tuple[str, str]],
    instructions: str = "",
    project_id: int | None = None,
) -> int:
    """Return the id of the project to label in, creating it only when needed.

    With ``project_id`` the project must exist: its labelling config, title and instructions are
    updated when they differ (a changed taxonomy updates the config; Label Studio refuses the
    change if existing annotations use a removed topic, which raises an error that says so).
    If it was deleted on the server this raises
    :class:`~activelabel.integrations.labelstudio.errors.LabelStudioNotFoundError`; the caller
    decides whether to forget the old id and call again without it (never a silent duplicate).
    Without ``project_id`` a new project is created.
    """
    config = label_config(topics)
    title = " ".join(str(title).split())
    if not 3 <= len(title) <= 50:
        raise LabelStudioError(
            f"Label Studio project titles have 3 to 50 characters, not {len(title)} "
            f"({title!r}): choose another title"
        )
    if project_id is not None:
        project = call(
            client,
            f"reading project {project_id}",
            lambda: client.projects.get(id=project_id),
            read=True,
        )
        changes: dict[str, object] = {}
        if (project.label_config or "").strip() != config.strip():
            changes["label_config"] = config
        if project.title != title:
            changes["title"] = title
        if getattr(project, "sampling", QUEUE_SAMPLING) != QUEUE_SAMPLING:
            changes["sampling"] = QUEUE_SAMPLING
        if instructions and (project.expert_instruction or "") != instructions:
            changes["expert_instruction"] = instructions
            changes["show_instruction"] = True
        if changes:
            try:
                call(
                    client,
                    f"updating project {project_id}",
                    lambda: client.projects.update(id=project_id, **changes),
                )
            except LabelStudioNotFoundError:
                raise
            except LabelStudioError as exc:
                raise LabelStudioError(
                    f"Label Studio refused to update project {project_id} ({exc}); if a topic was "
                    "removed that annotations still use, relabel those tasks first"
                ) from exc
        return int(project_id)
    created = call(
        client,
        f"creating project {title!r}",
        lambda: client.projects.create(
            title=title,
            label_config=config,
            description="Headlines picked by activelabel; one topic per headline.",
            expert_instruction=instructions or "",
            show_instruction=bool(instructions),
            show_skip_button=True,
            show_collab_predictions=True,
            sampling=QUEUE_SAMPLING,
        ),
    )
    return int(created.id)

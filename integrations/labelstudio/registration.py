"""``activelabel serve --connect``: the served endpoint registered in the workspace's project as
its ML backend (HTTP basic auth) and webhook (an ``Authorization`` header), and removed again."""

from __future__ import annotations

from dataclasses import dataclass

from .annotator import LabelStudioAnnotator
from .backend import BASIC_USER, basic_auth
from .client import call, connect
from .link import load_link


@dataclass(frozen=True)
class Registration:
    project_id: int
    backend_id: int
    hook_id: int


def register(ws, url: str, secret: str) -> Registration:
    """Register ``url`` as ML backend and webhook of the workspace's project, replacing earlier
    registrations of the same URL."""
    annotator = LabelStudioAnnotator.for_workspace(ws)
    client, project = annotator.client, annotator.project_id
    backends = call(
        client, "listing ML backends", lambda: client.ml.list(project=project), read=True
    )
    for old in backends:
        if old.url.rstrip("/") == url:
            call(client, "removing an old ML backend", lambda old=old: client.ml.delete(id=old.id))
    backend = call(
        client,
        "adding the ML backend",
        lambda: client.ml.create(
            url=url,
            project=project,
            title="activelabel",
            is_interactive=False,
            auth_method="BASIC_AUTH",
            basic_auth_user=BASIC_USER,
            basic_auth_pass=secret,
        ),
    )
    # Label Studio adds a webhook to URL/webhook with every ML backend, without the secret:
    # it is replaced by one that carries it
    hooks = call(
        client, "listing webhooks", lambda: client.webhooks.list(project=project), read=True
    )
    for old in hooks:
        if old.url.rstrip("/") == f"{url}/webhook":
            call(client, "removing an old webhook", lambda old=old: client.webhooks.delete(old.id))
    hook = call(
        client,
        "adding the webhook",
        lambda: client.webhooks.create(
            url=f"{url}/webhook",
            project=project,
            send_payload=False,
            actions=["ANNOTATION_CREATED", "ANNOTATION_UPDATED"],
            headers={"Authorization": basic_auth(secret)},
        ),
    )
    return Registration(int(project), int(backend.id), int(hook.id))


def unregister(ws, registration: Registration) -> None:
    """Remove what :func:`register` added; raises an ``ActiveLabelError`` where the server
    cannot be told (it may be gone)."""
    config = ws.config.labelstudio
    link = load_link(ws.path, config.url, config.token_env)
    client = connect(link.url, link.token)
    call(client, "removing the ML backend", lambda: client.ml.delete(id=registration.backend_id))
    call(client, "removing the webhook", lambda: client.webhooks.delete(registration.hook_id))

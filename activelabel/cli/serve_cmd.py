"""``activelabel serve``: Label Studio's ML backend and webhook target for a workspace."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click
from rich.markup import escape

from activelabel.cli.app import cli
from activelabel.cli.ui import console, percent, phases


def say(line: str, markup: bool = True) -> None:
    """One unwrapped line per event: logs stay greppable."""
    console.print(line, soft_wrap=True, markup=markup, highlight=False)


def deferred(store) -> str | None:
    """Why the next round waits, or None: no new batch while most of the last one is still
    waiting for labels (the backlog stays under about one and a half batches)."""
    rounds = store.rounds()
    if not rounds:
        return None
    last = rounds[-1].round
    batch = [s.item_id for s in store.selections(round=last)]
    waiting = len(set(batch) & store.awaiting())
    if not batch or 2 * waiting <= len(batch):
        return None
    return (
        f"{waiting} of the {len(batch)} headlines sent in round {last} still wait for labels: "
        f"no new batch until at least half of them are labelled or skipped"
    )


def event(line: str) -> None:
    """A line about a request: its text comes from the network, so no markup."""
    say(line, markup=False)


@cli.command("serve")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; keep the loopback unless Label Studio runs elsewhere. Requests "
    "must name it (or a loopback name) in their Host header.",
)
@click.option("--port", default=9090, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--round-every",
    type=click.IntRange(min=0),
    default=None,
    help="Run a round after this many new annotations (default: loop.batch_size; "
    "0: never, predictions only).",
)
@click.option(
    "--connect",
    is_flag=True,
    help="Register this endpoint in the workspace's Label Studio project as its ML "
    "backend and webhook, with the workspace's secret, and remove both on stop (the server "
    "must allow local addresses: SSRF_PROTECTION_ENABLED=false ML_BLOCK_LOCAL_IP=false, as "
    "'labelstudio up' sets).",
)
def serve_command(
    workspace: Path, host: str, port: int, round_every: int | None, connect: bool
) -> None:
    """Serve predictions for WORKSPACE to Label Studio and retrain as annotations arrive.

    \b
    POST /predict   Label Studio's ML backend call: the model's topic and confidence per task
    POST /webhook   annotation events; every --round-every of them runs 'activelabel round'
    GET  /health    liveness

    Every POST needs the secret in WORKSPACE/labelstudio/serve-secret (HTTP basic auth, user
    'activelabel'): --connect gives it to Label Studio. Predictions are empty (model version
    'training') until the first model is trained.
    """
    from activelabel.annotators import make_annotator
    from activelabel.cli.round_cmd import pull_summary
    from activelabel.integrations.labelstudio.backend import (
        NEVER,
        Predictor,
        Trigger,
        make_server,
    )
    from activelabel.integrations.labelstudio.link import serve_secret
    from activelabel.loop import pull, run_round
    from activelabel.workspace import Workspace

    ws = Workspace.open(workspace)
    secret = serve_secret(workspace)
    predictor = Predictor(ws)
    training = threading.Lock()  # one model is trained at a time

    def train() -> None:
        with training:
            own = Workspace.open(workspace)  # its own connection: SQLite stays in one thread
            predictor.ws = own
            n_labels = len(own.store.active_labels())
            try:
                with phases(plain=True) as phase:
                    predictor.retrain(phase)
            except Exception as exc:  # the server keeps answering /health and refusing rounds
                say(f"[red]training failed:[/] {escape(str(exc))}")
                return
            say(f"model {predictor.version} ready (trained on {n_labels} labels)")

    def one_round() -> None:
        own = Workspace.open(workspace)
        with training:
            try:
                annotator = make_annotator(own)
                with own.lock():
                    pull(own, annotator)  # the rule below needs the newest labels
                waits = deferred(own.store)
                if waits:
                    say(f"{trigger.every} annotations arrived; round deferred: {waits}")
                    trigger.recheck()
                    return
                say(f"{trigger.every} annotations arrived, round {own.store.next_round()} started")
                with phases(plain=True) as phase:
                    result = run_round(own, annotator, force=True, phase=phase)
                for problem in result.problems:
                    say(f"[yellow]warning:[/] {escape(problem)}")
                say(pull_summary(own, annotator, result))
                accuracy = percent(result.evaluation.accuracy if result.evaluation else None)
                say(
                    f"round {result.round} done: accuracy {accuracy}, {result.n_labels} labels "
                    f"(+{result.new_labels}), sent {len(result.selected)} headlines"
                )
            except Exception as exc:  # a failed round must not stop the server
                say(f"[red]round failed:[/] {escape(str(exc))}")
                return
        train()

    every = ws.config.loop.batch_size if round_every is None else round_every
    trigger = Trigger(every or NEVER, one_round)
    if every:
        trigger.seen = _unseen_annotations(ws)
    server = make_server(host, port, predictor, trigger, secret=secret, events=event)
    url = f"http://{host}:{server.server_address[1]}"
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()  # before registering: Label Studio checks /health right away
    threading.Thread(target=train, daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupt)
    registered: tuple[int, int] | None = None
    try:
        if connect:
            registered = _register(ws, url, secret)
        rounds = ws.store.rounds()
        latest = f"round-{rounds[-1].round}" if rounds else "untrained"
        say(
            f"Serving {url}; training the model on {len(ws.store.active_labels())} labels "
            f"(latest round: {latest}); "
            + (
                f"a round every {every} annotations ({trigger.seen} made since the last round)"
                if every
                else "no rounds (--round-every 0)"
            )
            + "; Ctrl+C to stop"
        )
        while serving.is_alive():
            serving.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        if registered is not None:
            _unregister(ws, *registered)


def _unseen_annotations(ws) -> int:
    """Annotations the next round would train on that no serve counted: labels pulled since the
    last round, and headlines annotated in Label Studio but not pulled yet (an earlier serve,
    or work done while none ran)."""
    from activelabel.errors import ActiveLabelError
    from activelabel.integrations.labelstudio.annotator import LabelStudioAnnotator

    rounds = ws.store.rounds()
    watermark = rounds[-1].label_watermark if rounds else 0
    new, changed = ws.store.labels_since(watermark or 0)
    try:
        annotated = LabelStudioAnnotator.for_workspace(ws).annotated_waiting()
    except ActiveLabelError:
        annotated = 0
    return new + changed + annotated


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _register(ws, url: str, secret: str) -> tuple[int, int]:
    """Register ``url`` as ML backend (basic auth) and webhook (Authorization header) of the
    workspace's project, replacing earlier registrations of the same URL; returns their ids."""
    from activelabel.integrations.labelstudio.annotator import LabelStudioAnnotator
    from activelabel.integrations.labelstudio.backend import BASIC_USER, basic_auth
    from activelabel.integrations.labelstudio.client import call

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
    say(f"Registered {url} as ML backend and webhook of project {project}")
    return int(backend.id), int(hook.id)


def _unregister(ws, backend_id: int, hook_id: int) -> None:
    """Remove the ML backend and webhook that :func:`_register` added (best effort: a server
    that is gone cannot be told)."""
    from activelabel.errors import ActiveLabelError
    from activelabel.integrations.labelstudio.client import call, connect
    from activelabel.integrations.labelstudio.link import load_link

    config = ws.config.labelstudio
    link = load_link(ws.path, config.url, config.token_env)
    try:
        client = connect(link.url, link.token)
        call(client, "removing the ML backend", lambda: client.ml.delete(id=backend_id))
        call(client, "removing the webhook", lambda: client.webhooks.delete(hook_id))
    except ActiveLabelError as exc:
        say(f"[yellow]warning:[/] could not unregister from Label Studio: {escape(str(exc))}")
        return
    say("Removed the ML backend and webhook from the Label Studio project")

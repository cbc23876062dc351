"""``activelabel serve``: Label Studio's ML backend and webhook target for a workspace."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from activelabel.cli.app import cli
from activelabel.cli.ui import console, phases


@cli.command("serve")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; keep the loopback unless Label Studio runs elsewhere.",
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
    "backend and webhook (the server must allow local addresses: "
    "SSRF_PROTECTION_ENABLED=false ML_BLOCK_LOCAL_IP=false, as "
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
    """
    from activelabel.annotators import make_annotator
    from activelabel.integrations.labelstudio.backend import Predictor, Trigger, make_server
    from activelabel.loop import run_round
    from activelabel.workspace import Workspace

    ws = Workspace.open(workspace)
    predictor = Predictor(ws)
    console.print("Training the model on the current labels ...")
    predictor.retrain()

    def one_round() -> None:
        own = Workspace.open(workspace)  # its own connection: SQLite objects stay in one thread
        try:
            with phases(plain=True) as phase:
                result = run_round(own, make_annotator(own), force=True, phase=phase)
            console.print(
                f"round {result.round}: {result.n_labels} labels, sent "
                f"{len(result.selected)} headlines"
            )
            predictor.ws = own
            predictor.retrain()
        except Exception as exc:  # a failed round must not stop the server
            console.print(f"[red]round failed:[/] {exc}")

    every = ws.config.loop.batch_size if round_every is None else round_every
    trigger = Trigger(every or 10**9, one_round)
    server = make_server(host, port, predictor, trigger)
    url = f"http://{host}:{server.server_address[1]}"
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()  # before registering: Label Studio checks /health right away
    try:
        if connect:
            _register(ws, url)
        console.print(f"Serving {url} (model {predictor.version}); Ctrl+C to stop")
        while serving.is_alive():
            serving.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


def _register(ws, url: str) -> None:
    from activelabel.integrations.labelstudio.annotator import LabelStudioAnnotator
    from activelabel.integrations.labelstudio.client import call

    annotator = LabelStudioAnnotator.for_workspace(ws)
    client, project = annotator.client, annotator.project_id
    backends = call(
        client, "listing ML backends", lambda: client.ml.list(project=project), read=True
    )
    if not any(b.url.rstrip("/") == url for b in backends):
        call(
            client,
            "adding the ML backend",
            lambda: client.ml.create(
                url=url, project=project, title="activelabel", is_interactive=False
            ),
        )
    hooks = call(
        client, "listing webhooks", lambda: client.webhooks.list(project=project), read=True
    )
    if not any(h.url.rstrip("/") == f"{url}/webhook" for h in hooks):
        call(
            client,
            "adding the webhook",
            lambda: client.webhooks.create(
                url=f"{url}/webhook",
                project=project,
                send_payload=False,
                actions=["ANNOTATION_CREATED", "ANNOTATION_UPDATED"],
            ),
        )
    console.print(f"Registered {url} as ML backend and webhook of project {project}")

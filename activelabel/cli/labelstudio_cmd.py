"""``activelabel labelstudio install|up|down|status``: the local Label Studio server."""

from __future__ import annotations

from pathlib import Path

import click

from activelabel.cli.app import cli
from activelabel.cli.ui import console
from activelabel.config import load_config, save_config
from activelabel.errors import ActiveLabelError

WorkspaceArg = click.argument(
    "workspace", type=click.Path(exists=True, file_okay=False, path_type=Path)
)


@cli.group("labelstudio")
def labelstudio_group() -> None:
    """Run a local Label Studio server for a workspace (or point the workspace at yours).

    \b
    activelabel labelstudio up WORKSPACE       start (installing it once), create the project
    activelabel labelstudio status WORKSPACE   is it running, which project, how many tasks
    activelabel labelstudio down WORKSPACE     stop the server this workspace started

    To use an existing server instead: set labelstudio.url in activelabel.toml and the API
    token in the environment variable LABEL_STUDIO_API_KEY.
    """


@labelstudio_group.command("install")
@click.option(
    "--venv",
    type=click.Path(path_type=Path),
    default=None,
    help="Virtual environment for Label Studio (default: $ACTIVELABEL_LABELSTUDIO_VENV "
    "or ~/.cache/activelabel/label-studio-venv).",
)
def install_command(venv: Path | None) -> None:
    """Install Label Studio into its own virtual environment, if it is not there yet."""
    from activelabel.integrations.labelstudio import default_venv, install_label_studio

    exe = install_label_studio(venv or default_venv(), progress=console.print)
    console.print(f"Label Studio: {exe}")


@labelstudio_group.command("up")
@WorkspaceArg
@click.option("--port", type=int, default=None, help="Port on 127.0.0.1 (default: a free one).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Label Studio's data folder (default: WORKSPACE/labelstudio/data).",
)
@click.option(
    "--wait",
    type=click.IntRange(min=10),
    default=300,
    show_default=True,
    help="Seconds to wait for the server to answer (a first start migrates its database).",
)
def up_command(workspace: Path, port: int | None, data_dir: Path | None, wait: int) -> None:
    """Start Label Studio for WORKSPACE on 127.0.0.1, create its labelling project, and switch
    the workspace to the labelstudio annotator. The first start takes about a minute."""
    from activelabel.integrations.labelstudio import (
        default_venv,
        install_label_studio,
        is_label_studio_process,
        server_alive,
        start_server,
    )
    from activelabel.integrations.labelstudio.annotator import LabelStudioAnnotator
    from activelabel.integrations.labelstudio.link import (
        load_link,
        new_secret,
        private_folder,
        save_link,
    )

    config = load_config(workspace)
    link = load_link(workspace, token_env=config.labelstudio.token_env)
    fixed = private_folder(workspace / "labelstudio")
    if link.pid and is_label_studio_process(link.pid) and server_alive(link.url):
        console.print(f"Label Studio is already running at {link.url} (pid {link.pid})")
        if link.data_dir:
            data = Path(link.data_dir)
            fixed += check_data_dir(data, fix=owns_data_dir(data, workspace))
    else:
        data = data_dir or Path(link.data_dir or workspace / "labelstudio" / "data")
        owned = prepare_data_dir(data, workspace)  # before anything is installed or started
        venv = default_venv()
        install_label_studio(venv, progress=console.print)
        link.token = link.token or new_secret()
        link.password = link.password or new_secret()
        fixed += check_data_dir(data, fix=owned)
        console.print(f"Starting Label Studio (data in {data}) ...")
        info = start_server(
            venv,
            data.resolve(),
            username=link.username,
            password=link.password,
            token=link.token,
            port=port,
            timeout=wait,
        )
        link.url, link.pid, link.data_dir = info.url, info.pid, str(info.data_dir)
        save_link(workspace, link)
        fixed += check_data_dir(info.data_dir, fix=owned)
    for line in fixed:
        console.print(
            f"[yellow]note:[/] {line} (Label Studio's data holds the API token)", soft_wrap=True
        )
    if config.loop.annotator != "labelstudio" or config.labelstudio.url:
        config.loop.annotator = "labelstudio"
        config.labelstudio.url = ""
        save_config(workspace, config)
    from activelabel.workspace import Workspace

    annotator = LabelStudioAnnotator.for_workspace(Workspace.open(workspace))
    console.print(
        f"Label Studio: {link.url}/projects/{annotator.project_id} — log in as "
        f"{link.username}, password in {workspace}/labelstudio/credentials.toml",
        soft_wrap=True,
    )


@labelstudio_group.command("down")
@WorkspaceArg
def down_command(workspace: Path) -> None:
    """Stop the Label Studio server that 'up' started for WORKSPACE (and nothing else)."""
    from activelabel.integrations.labelstudio import stop_server
    from activelabel.integrations.labelstudio.link import load_link, save_link

    link = load_link(workspace)
    if not link.pid:
        raise ActiveLabelError(f"{workspace}: no Label Studio server was started by 'up'")
    stopped = stop_server(link.pid)
    link.pid = 0
    save_link(workspace, link)
    console.print("Label Studio stopped" if stopped else "Label Studio was not running")


@labelstudio_group.command("status")
@WorkspaceArg
def status_command(workspace: Path) -> None:
    """Say whether WORKSPACE's Label Studio answers, its project, how many of the project's
    tasks are labelled, skipped and waiting, and where the server's log is."""
    from activelabel.integrations.labelstudio import server_alive
    from activelabel.integrations.labelstudio.link import load_link

    config = load_config(workspace)
    link = load_link(workspace, config.labelstudio.url, config.labelstudio.token_env)
    if not link.url:
        console.print("no Label Studio server: run 'activelabel labelstudio up'")
        return
    alive = server_alive(link.url)
    console.print(
        f"{link.url}: {'running' if alive else 'not answering'}"
        + (f", pid {link.pid}" if link.pid else "")
        + (f", project {link.url}/projects/{link.project_id}" if link.project_id else ""),
        soft_wrap=True,
    )
    if link.data_dir:
        data = Path(link.data_dir)
        console.print(f"data: {data}; log: {data / 'label-studio.log'}", soft_wrap=True)
        fix = (
            "'activelabel labelstudio up' fixes it"
            if owns_data_dir(data, workspace)
            else f"run chmod -R go-rwx {data}"
        )
        for problem in check_data_dir(data, fix=False):
            console.print(f"[yellow]warning:[/] {problem}; {fix}", soft_wrap=True)
    if alive and link.project_id and link.token:
        console.print(task_counts(link.url, link.token, link.project_id), soft_wrap=True)


def task_counts(url: str, token: str, project_id: int) -> str:
    """``tasks: N total, L labelled, S skipped, W waiting`` for one project."""
    from activelabel.integrations.labelstudio import connect, list_tasks

    refs = list_tasks(connect(url, token), project_id)
    labelled = sum(1 for r in refs if r.total_annotations)
    skipped = sum(1 for r in refs if not r.total_annotations and r.cancelled_annotations)
    waiting = len(refs) - labelled - skipped
    return f"tasks: {len(refs)} total, {labelled} labelled, {skipped} skipped, {waiting} waiting"


#: written into a data folder that 'up' created: only such folders have their modes changed
CREATED_MARK = ".created-by-activelabel"
#: the file that makes a folder a Label Studio data folder
LABEL_STUDIO_DB = "label_studio.sqlite3"


def owns_data_dir(data: Path, workspace: Path) -> bool:
    """Whether 'up' created ``data`` (its mark is there, or it is the workspace's default
    folder), so that it may tighten its permissions."""
    default = (workspace / "labelstudio" / "data").resolve()
    return (data / CREATED_MARK).is_file() or data.resolve() == default


def prepare_data_dir(data: Path, workspace: Path) -> bool:
    """Create ``data`` owner-only (and mark it as created here), or check that an existing
    folder is empty or a Label Studio data folder; returns whether 'up' owns it. A folder 'up'
    did not create is never changed (no chmod)."""
    import os

    if data.is_symlink() and not data.exists():
        raise ActiveLabelError(
            f"--data-dir {data} is a link to nothing; remove the link or choose another folder"
        )
    if not data.exists():
        try:
            data.parent.mkdir(parents=True, exist_ok=True)
            data.mkdir(mode=0o700)
            (data / CREATED_MARK).write_text(
                "Label Studio data folder created by 'activelabel labelstudio up'\n"
            )
        except OSError as exc:
            from activelabel.errors import os_problem

            raise ActiveLabelError(f"--data-dir: {os_problem(exc)}") from exc
        return True
    if not data.is_dir():
        raise ActiveLabelError(
            f"--data-dir {data} is a file, not a folder; choose a new or empty folder"
        )
    if owns_data_dir(data, workspace):
        return True
    try:
        entries = sorted(os.listdir(data))
    except OSError as exc:
        raise ActiveLabelError(f"--data-dir {data}: cannot list it ({exc.strerror})") from exc
    if entries and LABEL_STUDIO_DB not in entries:
        raise ActiveLabelError(
            f"--data-dir {data} is not empty and is not a Label Studio data folder (no "
            f"{LABEL_STUDIO_DB}; it holds e.g. {entries[0]!r}); choose a new or empty folder, "
            f"nothing was changed"
        )
    return False


def check_data_dir(data: Path, fix: bool) -> list[str]:
    """Problems with the permissions of Label Studio's data folder (its database holds the API
    token): folders must be 0700, files 0600. With ``fix`` they are corrected and reported."""
    import os
    import stat

    if not data.exists():
        return []
    problems = []
    for root, _dirs, files in os.walk(data):
        for name, wanted in [(root, 0o700)] + [(os.path.join(root, f), 0o600) for f in files]:
            mode = os.lstat(name).st_mode
            if stat.S_ISLNK(mode) or not mode & 0o077:
                continue
            if fix:
                try:
                    os.chmod(name, wanted)
                except OSError as exc:
                    raise ActiveLabelError(
                        f"{name}: mode {stat.S_IMODE(mode):04o} lets other users read Label "
                        f"Studio's data and cannot be changed ({exc.strerror}); run "
                        f"chmod -R go-rwx {data}"
                    ) from exc
                problems.append(f"{name}: was mode {stat.S_IMODE(mode):04o}, now {wanted:04o}")
            else:
                problems.append(f"{name}: mode {stat.S_IMODE(mode):04o} is readable by others")
    return problems

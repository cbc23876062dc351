"""Lifecycle of a local Label Studio server: install, start, check, stop.

Label Studio pins its own Django and friends, so it lives in its own virtual environment
(:func:`default_venv`). The server is started non-interactively with a preset admin user and a
legacy API token, in its own process session, so that :func:`stop_server` can later stop exactly
that server (and its children) by PID, from another process.

Nothing here keeps state: the caller records the :class:`ServerInfo` (URL, PID, port, data
folder, log file) wherever it keeps its workspace state.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from .errors import LabelStudioSetupError

__all__ = [
    "ServerInfo",
    "default_venv",
    "label_studio_executable",
    "install_label_studio",
    "find_free_port",
    "server_env",
    "start_server",
    "wait_for_health",
    "server_alive",
    "is_label_studio_process",
    "stop_server",
]

VENV_ENV_VAR = "ACTIVELABEL_LABELSTUDIO_VENV"
DEFAULT_VENV = "~/.cache/activelabel/label-studio-venv"
HEALTH_PATH = "/health"

# servers started by this process: kept so they are reaped without a ResourceWarning
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ServerInfo:
    """A running Label Studio server started by :func:`start_server` (holds no secret)."""

    url: str
    pid: int
    port: int
    data_dir: Path
    log_path: Path


def default_venv() -> Path:
    """The virtual environment that holds Label Studio (``$ACTIVELABEL_LABELSTUDIO_VENV``)."""
    return Path(os.environ.get(VENV_ENV_VAR, DEFAULT_VENV)).expanduser()


def label_studio_executable(venv: Path) -> Path:
    """Path of the ``label-studio`` command inside ``venv`` (it may not exist)."""
    return Path(venv).expanduser() / "bin" / "label-studio"


def _tail(path: Path | None, lines: int = 15) -> str:
    if path is None:
        return ""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def install_label_studio(
    venv: Path,
    progress: Callable[[str], None] = print,
    *,
    requirement: str = "label-studio",
    python: str | None = None,
) -> Path:
    """Create ``venv`` and pip-install Label Studio into it, unless it is already there.

    Returns the path of the ``label-studio`` executable. Raises
    :class:`LabelStudioSetupError` (with the end of pip's output) when the install fails.
    """
    venv = Path(venv).expanduser()
    exe = label_studio_executable(venv)
    if exe.exists():
        return exe
    python = python or sys.executable
    log_path = venv.parent / f"{venv.name}-install.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    progress(
        f"Installing Label Studio into {venv} (one time; about 1 GB, a few minutes; "
        f"pip output goes to {log_path}) ..."
    )
    steps: list[list[str]] = []
    if not (venv / "bin" / "python").exists():
        steps.append([python, "-m", "venv", str(venv)])
    pip = str(venv / "bin" / "python")
    steps.append([pip, "-m", "pip", "install", "--upgrade", "--quiet", "pip"])
    steps.append([pip, "-m", "pip", "install", requirement])
    with open(log_path, "w", encoding="utf-8") as log:
        for cmd in steps:
            log.write(f"$ {' '.join(cmd)}\n")
            log.flush()
            try:
                rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
            except OSError as exc:
                raise LabelStudioSetupError(
                    f"could not run {cmd[0]} to install Label Studio ({exc.strerror}): "
                    "check that Python's venv module is available"
                ) from exc
            if rc != 0 and cmd[-1] != "pip":  # a failed pip self-upgrade is harmless
                tail = _tail(log_path, 8)
                raise LabelStudioSetupError(
                    f"installing Label Studio into {venv} failed (exit {rc}); full log in "
                    f"{log_path}; check the network or index settings, or set "
                    f"{VENV_ENV_VAR} to an existing install. Last lines:\n{tail}"
                )
    if not exe.exists():
        raise LabelStudioSetupError(
            f"pip finished but {exe} is missing: remove {venv} and run the install again"
        )
    progress(f"Label Studio installed in {venv}")
    return exe


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_free(host: str, port: int, wait: float = 5.0) -> bool:
    """Whether ``port`` can be bound on ``host``, waiting a little for a server just stopped."""
    deadline = time.monotonic() + wait
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                pass
            else:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def server_env(
    data_dir: Path,
    username: str,
    password: str,
    token: str,
    base: dict[str, str] | None = None,
) -> dict[str, str]:
    """Environment for a quiet, offline, non-interactive Label Studio start."""
    env = dict(os.environ if base is None else base)
    # never let a surrounding virtualenv or PYTHONPATH leak into Label Studio's own venv
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE"):
        env.pop(key, None)
    env.update(
        {
            "LABEL_STUDIO_USERNAME": username,
            "LABEL_STUDIO_PASSWORD": password,
            "LABEL_STUDIO_USER_TOKEN": token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "COLLECT_ANALYTICS": "false",
            "LATEST_VERSION_CHECK": "false",
            # a local ML backend or webhook receiver on 127.0.0.1 must be reachable
            "SSRF_PROTECTION_ENABLED": "false",
            "ML_BLOCK_LOCAL_IP": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def server_alive(url: str, timeout: float = 2.0) -> bool:
    """Whether a Label Studio server answers ``GET /health`` at ``url``."""
    try:
        response = httpx.get(url.rstrip("/") + HEALTH_PATH, timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def wait_for_health(
    url: str,
    timeout: float = 180.0,
    *,
    pid: int | None = None,
    log_path: Path | None = None,
    poll: float = 0.5,
) -> None:
    """Wait until ``url`` answers ``/health``; fail early if process ``pid`` dies."""
    deadline = time.monotonic() + timeout
    while True:
        if server_alive(url, timeout=min(5.0, max(poll, 1.0))):
            return
        if pid is not None and not _pid_running(pid):
            raise LabelStudioSetupError(
                f"Label Studio (pid {pid}) exited before it answered at {url}; see {log_path}. "
                f"Last lines:\n{_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            raise LabelStudioSetupError(
                f"Label Studio did not answer at {url} within {timeout:.0f} s; see {log_path}. "
                f"Last lines:\n{_tail(log_path)}"
            )
        time.sleep(poll)


def start_server(
    venv: Path,
    data_dir: Path,
    *,
    username: str,
    password: str,
    token: str,
    port: int | None = None,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    timeout: float = 180.0,
) -> ServerInfo:
    """Start Label Studio in the background and wait until it answers ``/health``.

    ``username`` must look like an e-mail address; ``token`` (6 to 40 characters) becomes the
    admin's API token on the first start of a fresh ``data_dir`` (later starts keep the token
    stored in that data folder). The first start migrates the database (about a minute); later
    starts take a few seconds. The server runs in its own process session with umask 077 (its
    database holds the API token): stop it with :func:`stop_server`. Its output goes to
    ``log_path`` (default ``data_dir/label-studio.log``).
    """
    exe = label_studio_executable(venv)
    if not exe.exists():
        raise LabelStudioSetupError(
            f"Label Studio is not installed in {Path(venv).expanduser()}: run "
            f"'activelabel labelstudio up' to install it, or set {VENV_ENV_VAR}"
        )
    if not 6 <= len(token) <= 40:
        raise LabelStudioSetupError(
            "the Label Studio API token must have 6 to 40 characters: choose another token"
        )
    if "@" not in username:
        raise LabelStudioSetupError(
            f"the Label Studio user name must be an e-mail address, not {username!r}"
        )
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_path = Path(log_path) if log_path is not None else data_dir / "label-studio.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if port is None:
        port = find_free_port(host)
    elif not _port_free(host, port):
        raise LabelStudioSetupError(
            f"port {port} on {host} is already in use: stop what runs there or choose another port"
        )
    url = f"http://{host}:{port}"
    cmd = [
        str(exe),
        "start",
        "--no-browser",
        "--internal-host",
        host,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    env = server_env(data_dir, username, password, token)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log_fd, "ab") as log:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(data_dir),
                start_new_session=True,
                close_fds=True,
                umask=0o077,  # its database holds the API token: owner-only files
            )
        except OSError as exc:
            raise LabelStudioSetupError(
                f"could not run {exe} ({exc.strerror}): reinstall Label Studio by removing "
                f"{Path(venv).expanduser()} and running 'activelabel labelstudio up'"
            ) from exc
    _CHILDREN[proc.pid] = proc
    try:
        wait_for_health(url, timeout, pid=proc.pid, log_path=log_path)
    except BaseException:
        with contextlib.suppress(Exception):
            stop_server(proc.pid, timeout=10)
        raise
    return ServerInfo(url=url, pid=proc.pid, port=port, data_dir=data_dir, log_path=log_path)


def _proc_state(pid: int) -> str | None:
    """One-letter state from /proc/<pid>/stat ('Z' = zombie), or None if gone/unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may contain spaces
    return stat.rpartition(")")[2].split()[0]


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _pid_running(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", "X")


def is_label_studio_process(pid: int) -> bool:
    """Whether ``pid`` is alive and is a Label Studio server (its command line says so).

    Use it before :func:`stop_server` on a PID read from a state file: after a reboot the PID
    may belong to an unrelated process.
    """
    if pid <= 0 or not _pid_running(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    args = [part.decode(errors="replace") for part in cmdline.split(b"\0") if part]
    return any("label-studio" in arg or "label_studio" in arg for arg in args[:3])


def stop_server(pid: int, timeout: float = 20.0) -> bool:
    """Stop the Label Studio server ``pid`` (and its process group); True if it was running.

    Sends SIGTERM, waits up to ``timeout`` seconds, then SIGKILL. Refuses (raises
    :class:`LabelStudioSetupError`) when ``pid`` is alive but is not a Label Studio process.
    """
    if not _pid_running(pid):
        return False
    if not is_label_studio_process(pid):
        raise LabelStudioSetupError(
            f"process {pid} is not a Label Studio server; not stopping it "
            "(the recorded PID is stale: check 'activelabel labelstudio status')"
        )
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return False
    # only signal the whole group when the server leads its own group (as start_server does)
    use_group = group == pid

    def _signal(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if use_group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    def _alive() -> bool:
        # children of the server (same group) may hold its socket: wait for all of them
        return _pid_running(pid) or (use_group and _group_alive(pid))

    _signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive():
        _signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if _pid_running(pid):
            raise LabelStudioSetupError(
                f"Label Studio (pid {pid}) did not stop even after SIGKILL: check the process"
            )
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True

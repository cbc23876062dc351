"""How a workspace finds its Label Studio server: URL, token, project and the local server.

The token and admin password live in ``labelstudio/credentials.toml`` inside the workspace,
readable by its owner only; an environment variable (``LABEL_STUDIO_API_KEY`` by default)
overrides the file, so a shared server's token never has to be written down.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from activelabel.errors import ConfigError

FOLDER = "labelstudio"
CREDENTIALS = "credentials.toml"
SERVE_SECRET = "serve-secret"
ADMIN = "admin@activelabel.local"


@dataclass
class Link:
    url: str = ""
    token: str = ""
    username: str = ADMIN
    password: str = ""
    pid: int = 0
    data_dir: str = ""
    project_id: int = 0


def credentials_path(workspace: Path) -> Path:
    return workspace / FOLDER / CREDENTIALS


def load_link(workspace: Path, url: str = "", token_env: str = "LABEL_STUDIO_API_KEY") -> Link:
    """The saved link, with the URL from the config and the token from the environment first."""
    path = credentials_path(workspace)
    link = Link()
    if path.is_file():
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid TOML ({exc}); delete it and run "
                f"'activelabel labelstudio up' again"
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 (byte {exc.start}); delete it and run "
                f"'activelabel labelstudio up' again"
            ) from exc
        values = {}
        for key, value in data.items():
            if key not in Link.__dataclass_fields__:
                continue
            wanted = type(getattr(Link(), key))
            if not isinstance(value, wanted) or isinstance(value, bool):
                kind = "a whole number" if wanted is int else "a string"
                raise ConfigError(
                    f"{path}: '{key}' must be {kind}, not {value!r:.40}; fix it, or delete the "
                    f"file and run 'activelabel labelstudio up' again"
                )
            if wanted is int and value < 0:
                raise ConfigError(
                    f"{path}: '{key}' must be 0 or more, not {value}; fix it, or delete the "
                    f"file and run 'activelabel labelstudio up' again"
                )
            values[key] = value
        link = Link(**values)
    if url:
        link.url = url
    if os.environ.get(token_env):
        link.token = os.environ[token_env]
    return link


def save_link(workspace: Path, link: Link) -> Path:
    """Write the link with owner-only permissions (created so, never world-readable)."""
    path = credentials_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Label Studio link of this workspace. Secret: keep it owner-only.\n")
        handle.write(tomli_w.dumps(link.__dict__))
    os.replace(path.with_suffix(".tmp"), path)
    return path


def new_secret() -> str:
    return secrets.token_hex(20)


def private_folder(folder: Path) -> list[str]:
    """Create ``folder`` owner-only (0700), or make it so; returns what was fixed."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = folder.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(folder, 0o700)
        return [f"{folder}: was mode {mode:04o}, now 0700 (owner only)"]
    return []


def serve_secret(workspace: Path) -> str:
    """The workspace's secret for ``activelabel serve`` (created once, owner-only).

    Label Studio sends it as the password of HTTP basic auth (ML backend) and in the
    ``Authorization`` header of the webhook; ``serve`` refuses every call without it.
    """
    path = workspace / FOLDER / SERVE_SECRET
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) < 32:
            raise ConfigError(
                f"{path}: the serve secret is shorter than 32 characters; delete the file and "
                f"run 'activelabel serve' again (it makes a new one; use --connect to register it)"
            ) from None
        return secret
    secret = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret

"""Fixtures for the Label Studio integration tests: one real server for the whole session.

The server runs from the Label Studio venv (``$ACTIVELABEL_LABELSTUDIO_VENV`` or
``~/.cache/activelabel/label-studio-venv``). Without it the tests are skipped, unless
``ACTIVELABEL_REQUIRE_LABELSTUDIO=1`` makes them fail instead.
"""

from __future__ import annotations

import os
import secrets
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from activelabel.integrations.labelstudio import (
    ServerInfo,
    connect,
    default_venv,
    label_studio_executable,
    start_server,
    stop_server,
)

REPO = Path(__file__).resolve().parents[2]
#: a first start migrates the database: about a minute alone, several on a loaded machine
START_TIMEOUT = float(os.environ.get("ACTIVELABEL_LABELSTUDIO_START_TIMEOUT", "600"))
TAXONOMY = REPO / "data" / "taxonomies" / "iptc-media-topics.toml"
#: ``ACTIVELABEL_SCREENSHOTS=docs`` saves the browser tests' screenshots as the docs' figures
SCREENSHOTS_TO_DOCS = os.environ.get("ACTIVELABEL_SCREENSHOTS", "") == "docs"


def require_labelstudio() -> bool:
    return os.environ.get("ACTIVELABEL_REQUIRE_LABELSTUDIO", "") not in ("", "0", "false")


def skip_or_fail(reason: str) -> None:
    if require_labelstudio():
        pytest.fail(f"{reason} (ACTIVELABEL_REQUIRE_LABELSTUDIO is set)")
    pytest.skip(reason)


@dataclass
class LiveServer:
    """The session's Label Studio server and the credentials it was started with."""

    venv: Path
    data_dir: Path
    username: str
    password: str = field(repr=False)
    token: str = field(repr=False)
    info: ServerInfo = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show the token or password
        return f"LiveServer(url={self.info.url!r}, pid={self.info.pid})"

    @property
    def url(self) -> str:
        return self.info.url

    def stop(self) -> None:
        stop_server(self.info.pid)

    def restart(self) -> float:
        """Start the server again on the same data folder and port; returns seconds taken."""
        t0 = time.perf_counter()
        self.info = start_server(
            self.venv,
            self.data_dir,
            username=self.username,
            password=self.password,
            token=self.token,
            port=self.info.port,
            log_path=self.info.log_path,
            timeout=START_TIMEOUT,
        )
        return time.perf_counter() - t0


@pytest.fixture(scope="session")
def topics() -> list[tuple[str, str]]:
    with open(TAXONOMY, "rb") as fh:
        return [(t["name"], t["description"]) for t in tomllib.load(fh)["topic"]]


@pytest.fixture(scope="session")
def topic_names(topics) -> list[str]:
    return [name for name, _ in topics]


@pytest.fixture(scope="session")
def ls_server(tmp_path_factory) -> Iterator[LiveServer]:
    venv = default_venv()
    if not label_studio_executable(venv).exists():
        skip_or_fail(f"Label Studio is not installed in {venv}")
    data_dir = tmp_path_factory.mktemp("label-studio-data")
    username = "admin@activelabel.test"
    password = secrets.token_urlsafe(12)
    token = secrets.token_hex(20)
    t0 = time.perf_counter()
    info = start_server(
        venv, data_dir, username=username, password=password, token=token, timeout=START_TIMEOUT
    )
    server = LiveServer(venv, data_dir, username, password, token, info)
    took = server.timings["up (first start, migrations)"] = time.perf_counter() - t0
    print(f"\n[labelstudio] server up at {info.url} in {took:.1f} s")
    try:
        yield server
    finally:
        stop_server(server.info.pid)
        for name, seconds in server.timings.items():
            print(f"[labelstudio] {name}: {seconds:.2f} s")


@pytest.fixture(scope="session")
def client(ls_server):
    return connect(ls_server.url, ls_server.token)


@pytest.fixture
def screenshot(tmp_path) -> Callable[[str], Path]:
    """Where a browser test saves a screenshot named ``name``: docs/img with
    ``ACTIVELABEL_SCREENSHOTS=docs`` (to refresh the docs' figures), else the test's own folder,
    so a test run leaves the checkout as it found it."""

    def path(name: str) -> Path:
        folder = REPO / "docs" / "img" if SCREENSHOTS_TO_DOCS else tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    return path

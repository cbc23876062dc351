"""``activelabel labelstudio up`` for real: Label Studio's data is owner-only (it holds the API
token), `init`, `round` and `status` say where to label, and `labelstudio status` counts the
project's tasks and names the log."""

from __future__ import annotations

import os
import re
import stat
import tomllib

import pytest

from activelabel.integrations.labelstudio import connect, default_venv, label_studio_executable
from activelabel.integrations.labelstudio.link import credentials_path
from activelabel.workspace import Workspace
from tests.cli import run
from tests.labelstudio.test_rounds import annotate

from .conftest import START_TIMEOUT, skip_or_fail

pytestmark = pytest.mark.labelstudio


def flat(text: str) -> str:
    """Output with line breaks as spaces (a narrow terminal may wrap a long line)."""
    return " ".join(text.split())


def modes(folder) -> dict[str, int]:
    found = {str(folder): stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path)] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_up_keeps_the_data_private_and_every_step_says_where_to_label(
    tmp_path, small_corpus, tiny_model
):
    if not label_studio_executable(default_venv()).exists():
        skip_or_fail(f"Label Studio is not installed in {default_venv()}")
    path = tmp_path / "ws"
    created = run(
        "init", path, "--corpus", small_corpus, "--model", tiny_model, "--test-size", 15,
        "--id-column", "id", "--batch-size", 6, "--mode", "frozen", "--annotator", "labelstudio",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert f"Next: activelabel labelstudio up {path}" in flat(created.output)

    # a data folder left world-readable (e.g. made by hand, or by an older version)
    data = path / "labelstudio" / "data"
    (data / "media").mkdir(parents=True)
    os.chmod(data, 0o755)
    os.chmod(data / "media", 0o755)
    (data / "media" / "old.txt").write_text("x")
    os.chmod(data / "media" / "old.txt", 0o644)

    up = run("labelstudio", "up", path, "--wait", int(START_TIMEOUT))
    link = tomllib.loads(credentials_path(path).read_text())
    try:
        assert up.exit_code == 0, up.output
        assert f"{data}: was mode 0755, now 0700" in flat(up.output)
        assert f"{data / 'media' / 'old.txt'}: was mode 0644, now 0600" in flat(up.output)
        found = modes(data)
        assert (data / "label_studio.sqlite3").exists()
        loose = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
        assert loose == {}, "Label Studio's data must be owner-only"
        assert stat.S_IMODE((path / "labelstudio").stat().st_mode) == 0o700

        first = run("round", path)
        assert first.exit_code == 0, first.output
        project = f"{link['url']}/projects/{link['project_id']}"
        assert "6 headlines are waiting for labels (6 sent in round 0)." in flat(first.output)
        assert (
            f"Label them in Label Studio: {project} (log in as admin@activelabel.local, "
            f"password in {credentials_path(path)})" in flat(first.output)
        )

        status = run("labelstudio", "status", path)
        assert status.exit_code == 0, status.output
        assert f"log: {data / 'label-studio.log'}" in flat(status.output)
        assert "tasks: 6 total, 0 labelled, 0 skipped, 6 waiting" in flat(status.output)

        client = connect(link["url"], link["token"])
        annotate(client, Workspace.open(path), link["project_id"], 0, skip=2)
        status = run("labelstudio", "status", path)
        assert "tasks: 6 total, 4 labelled, 2 skipped, 0 waiting" in flat(status.output)
        assert "readable by others" not in flat(status.output)
        second = run("round", path, "--force")
        assert second.exit_code == 0, second.output
        assert "pulled: 4 new labels, 0 edited, 2 skipped (not used for training)" in flat(
            second.output
        )
        assert re.search(r"6 headlines are waiting for labels \(6 sent in round 1\); "
                         r"2 skipped headlines are not counted", flat(second.output))  # fmt: skip
    finally:
        down = run("labelstudio", "down", path)
        assert down.exit_code == 0, down.output

"""``labelstudio up|down`` touch only their own files: a ``--data-dir`` that 'up' did not create
is never chmod-ed, a non-empty folder that is not Label Studio's is refused before anything
starts, and a damaged credentials file is one line (docs/bad-input.md). No Label Studio server
is needed: every case ends before one would start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from activelabel.cli.labelstudio_cmd import CREATED_MARK, check_data_dir, prepare_data_dir
from tests.cli import init_workspace
from tests.test_bad_input import error_of, run


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model) -> Path:
    return init_workspace(tmp_path / "ws", small_corpus, tiny_model)


def modes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): stat.S_IMODE(path.lstat().st_mode)
        for path in [folder, *folder.rglob("*")]
    }


def test_existing_folder_is_refused_and_left_as_it_was(workspace, tmp_path):
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    script = home / "bin" / "script.sh"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o755)
    os.chmod(home, 0o755)
    os.chmod(home / "bin", 0o755)
    before = modes(home)
    message = error_of(run("labelstudio", "up", workspace, "--data-dir", home))
    assert "is not empty and is not a Label Studio data folder" in message
    assert "nothing was changed" in message
    assert modes(home) == before
    assert not (home / CREATED_MARK).exists()


def test_data_dir_that_is_a_file_is_refused(workspace, tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("x")
    result = run("labelstudio", "up", workspace, "--data-dir", target)  # click's own check
    assert result.exit_code == 2 and "is a file" in result.output
    assert "Traceback" not in result.output and target.read_text() == "x"


def test_new_folder_is_created_private_and_marked(workspace, tmp_path):
    data = tmp_path / "new" / "data"
    assert prepare_data_dir(data, workspace) is True
    assert stat.S_IMODE(data.stat().st_mode) == 0o700 and (data / CREATED_MARK).is_file()
    assert prepare_data_dir(data, workspace) is True  # a second 'up' still owns it


def test_someone_else_s_label_studio_folder_is_used_but_not_chmod_ed(workspace, tmp_path):
    data = tmp_path / "shared-ls"
    data.mkdir()
    (data / "label_studio.sqlite3").write_bytes(b"")
    os.chmod(data, 0o755)
    os.chmod(data / "label_studio.sqlite3", 0o644)
    before = modes(data)
    owned = prepare_data_dir(data, workspace)
    assert owned is False
    problems = check_data_dir(data, fix=owned)
    assert problems and all("readable by others" in p for p in problems)
    assert modes(data) == before


def test_empty_existing_folder_is_accepted_without_chmod(workspace, tmp_path):
    data = tmp_path / "empty"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    assert prepare_data_dir(data, workspace) is False
    assert stat.S_IMODE(data.stat().st_mode) == 0o755


def test_own_folder_is_tightened(workspace, tmp_path):
    data = tmp_path / "mine"
    prepare_data_dir(data, workspace)
    (data / "media").mkdir()
    os.chmod(data / "media", 0o755)
    fixed = check_data_dir(data, fix=prepare_data_dir(data, workspace))
    assert fixed and stat.S_IMODE((data / "media").stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('pid = "x"', "'pid' must be a whole number, not 'x'"),
        ("pid = true", "'pid' must be a whole number, not True"),
        ("url = 5", "'url' must be a string, not 5"),
        ("pid = -1", "'pid' must be 0 or more, not -1"),
    ],
)
def test_damaged_credentials_are_one_line(workspace, line, expected):
    folder = workspace / "labelstudio"
    folder.mkdir(mode=0o700)
    path = folder / "credentials.toml"
    path.write_text(line + "\n")
    os.chmod(path, 0o600)
    for command in ("down", "status"):
        message = error_of(run("labelstudio", command, workspace))
        assert str(path) in message and expected in message

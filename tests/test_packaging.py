"""A checkout imports its own integrations and data, never another installed checkout's, and
the built wheel carries them inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHOW = (
    "import activelabel, activelabel.integrations.labelstudio as ls, activelabel.data as d; "
    "print(activelabel.__file__); print(ls.__file__); print(d.DATA_DIR)"
)


def tracked_copy(destination: Path) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source, target = REPO / name.decode(), destination / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        elif source.is_file():
            target.write_bytes(source.read_bytes())
    return destination


@pytest.mark.slow
def test_a_second_checkout_imports_only_itself(tmp_path):
    other = tracked_copy(tmp_path / "other-checkout")
    shown = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=other, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(shown) == 3
    for path in shown:
        assert Path(path).resolve().is_relative_to(other.resolve()), path


@pytest.mark.slow
def test_the_wheel_holds_integrations_and_data(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("activelabel-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "activelabel/integrations/labelstudio/annotator.py" in names
    assert "activelabel/data/taxonomies/iptc-media-topics.toml" in names
    assert "activelabel/data/mappings/bbc-iptc.csv" in names
    assert "activelabel/engine/selection.py" in names

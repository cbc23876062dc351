"""``report`` touches only its own files: it deletes only figures its manifest lists, inside its
folder, and refuses a foreign ``--out`` folder without ``--overwrite`` (docs/bad-input.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activelabel.errors import ReportError
from activelabel.report import write_report
from activelabel.report.page import MANIFEST
from tests.cli import init_workspace
from tests.report.test_report import CLASSES, make_points
from tests.test_bad_input import error_of, run


def outside_file(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(b"a photo, not a figure")
    return path


@pytest.fixture
def workspace(tmp_path, small_corpus, tiny_model) -> Path:
    path = init_workspace(tmp_path / "ws", small_corpus, tiny_model, "--batch-size", 6)
    assert run("round", path).exit_code == 0
    return path


def test_page_naming_outside_files_deletes_nothing_outside(workspace, tmp_path):
    wedding = outside_file(tmp_path, "wedding.png")
    relative = outside_file(tmp_path, "party.png")
    report = workspace / "report"
    report.mkdir()
    escaped_abs = str(wedding).replace("/", "&#47;")
    (report / "index.html").write_text(
        f'<img src="{escaped_abs}"><img src="..&#47;..&#47;elsewhere&#47;party.png">'
    )
    done = run("report", workspace)
    assert done.exit_code == 0, done.output
    assert wedding.read_bytes() == relative.read_bytes() == b"a photo, not a figure"


def test_foreign_out_folder_is_refused_without_overwrite(workspace, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text('<h1>My site</h1><img src="photo.png">')
    (site / "photo.png").write_bytes(b"photo")
    message = error_of(run("report", workspace, "--out", site))
    assert "no report wrote (e.g. 'index.html')" in message and "--overwrite" in message
    assert (site / "index.html").read_text().startswith("<h1>My site")
    assert (site / "photo.png").read_bytes() == b"photo"
    done = run("report", workspace, "--out", site, "--overwrite")
    assert done.exit_code == 0, done.output
    assert (site / "photo.png").read_bytes() == b"photo"  # replaced page, kept photo
    assert "activelabel report" in (site / "index.html").read_text()
    again = run("report", workspace, "--out", site)  # now it is a report folder
    assert again.exit_code == 0, again.output
    assert (site / "photo.png").read_bytes() == b"photo"


def test_out_that_is_a_file_is_refused(workspace, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep")
    result = run("report", workspace, "--out", target)
    assert result.exit_code != 0 and target.read_text() == "keep"


def test_only_the_manifest_s_own_figures_are_deleted(tmp_path):
    out = tmp_path / "report"
    write_report(out, make_points(runs=("random", "margin", "entropy")), CLASSES, title="a")
    own = json.loads((out / MANIFEST).read_text())["files"]
    gone = [n for n in own if "entropy" in n]
    assert gone and all((out / n).is_file() for n in own)
    (out / "notes.png").write_bytes(b"mine")  # a file the user put there
    victim = outside_file(tmp_path, "victim.png")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"] += ["../elsewhere/victim.png", str(victim), "notes.txt"]
    (out / MANIFEST).write_text(json.dumps(manifest))  # a tampered manifest
    write_report(out, make_points(runs=("random", "margin")), CLASSES, title="b")
    assert not any((out / n).exists() for n in gone)
    assert (out / "notes.png").read_bytes() == b"mine"
    assert victim.read_bytes() == b"a photo, not a figure"
    kept = json.loads((out / MANIFEST).read_text())["files"]
    assert all((out / n).is_file() for n in kept) and not any("entropy" in n for n in kept)


def test_library_call_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "thesis.tex").write_text("x")
    with pytest.raises(ReportError, match="no report wrote"):
        write_report(tmp_path, make_points(), CLASSES, title="x")
    assert write_report(tmp_path, make_points(), CLASSES, title="x", overwrite=True).is_file()


def test_topic_names_with_a_bar_or_newline_keep_summary_tables_whole(tmp_path):
    names = [*CLASSES[:-1], "arts | culture\nand more"]
    write_report(tmp_path / "r", make_points(), names, title="t")
    summary = (tmp_path / "r" / "summary.md").read_text()
    rows = [line for line in summary.splitlines() if "arts" in line and line.startswith("|")]
    assert rows and all("arts \\| culture and more" in row for row in rows)
